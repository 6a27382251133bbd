/**
 * The vocabulary of node stations on the canonical coarse grid: station and region names, the
 * landmarks the stations are drawn from, and small tools to draw them (boxes and balls in mm
 * around landmarks, slices relative to a landmark, claiming a voxel for a station). The stations
 * themselves are drawn in chest-stations.ts and axilla-abdomen-stations.ts, put together in
 * station-map.ts. Distances are in mm; dx grows to the patient's left, dy backwards, dz upwards.
 */
import { Airway } from './airway.js'
import { Lattice } from './grid.js'
import { LungSide } from './thorax.js'
import { Spine } from './spine.js'
import { Vessels } from './vessels.js'

export const STATION_NAMES = [
  '7', '10R', '10L', '4R', '4L', '2R', '2L', '5', '6', '3a', '8', '1R', '1L',
  'axillary R', 'axillary L', 'para-aortic', 'aortocaval', 'paracaval',
] as const
export type StationName = (typeof STATION_NAMES)[number]

export const REGION_STATIONS = {
  mediastinum: ['2R', '2L', '3a', '4R', '4L', '5', '6', '7', '8'],
  hila: ['10R', '10L'],
  'supraclavicular fossae': ['1R', '1L'],
  axillae: ['axillary R', 'axillary L'],
  retroperitoneum: ['para-aortic', 'aortocaval', 'paracaval'],
} as const satisfies Record<string, readonly StationName[]>
export type RegionName = keyof typeof REGION_STATIONS

export interface Landmarks {
  L: Lattice
  hu: Float32Array
  body: Uint8Array
  lungs: Uint8Array
  right: LungSide
  left: LungSide
  mediastinum: Uint8Array
  /** Lowest slice of the mediastinum (the lower dome) or NaN. */
  floorK: number
  airway: Airway | null
  spine: Spine
  /** Midline per slice (the canal, else the trachea, else the body's centre). */
  midI: Float64Array
  vessels: Vessels
  /** Distance (mm) to the outside air, to the lungs and to the airway. */
  skinMm: Float32Array
  lungMm: Float32Array
  airwayMm: Float32Array
}

export interface StationMap {
  /** 0 none, else 1 + index into STATION_NAMES. */
  map: Uint8Array
  /** Why a region has no voxels, when it has none. */
  reasons: Partial<Record<RegionName, string>>
}

/** The station number stored in the map for a name. */
export const id = (name: StationName) => STATION_NAMES.indexOf(name) + 1

/** Centre (continuous indices) and radius (mm) of the trachea at slice k; the carina's below it. */
export function tracheaAt(airway: Airway, k: number): { i: number; j: number; r: number } {
  const path = airway.trachea
  const point = k >= path[0].k ? path[0] : path.find((p) => p.k <= k) ?? path[path.length - 1]
  const areas = path.map((p) => p.areaMm2).sort((a, b) => a - b)
  return { i: point.i, j: point.j, r: Math.sqrt(areas[Math.floor(areas.length / 2)] / Math.PI) }
}

/** Gives voxel v to a station, if it is allowed and no station has it yet. */
export function claim(map: Uint8Array, allowed: Uint8Array, v: number, station: number): void {
  if (allowed[v] && !map[v]) map[v] = station
}

/** Slices from dzLo to dzHi mm relative to slice k0, clipped to the grid. */
export function slices(L: Lattice, k0: number, dzLo: number, dzHi: number): [number, number] {
  return [Math.max(0, Math.ceil(k0 + dzLo / L.h[2])), Math.min(L.nz - 1, Math.floor(k0 + dzHi / L.h[2]))]
}

/**
 * Calls fn for the voxels of slice k from `right` mm right to `left` mm left of i0 (a negative
 * value means that far on the other side), and from dyLo to dyHi mm behind j0.
 */
export function forBox(L: Lattice, i0: number, j0: number, right: number, left: number, dyLo: number, dyHi: number, fn: (v: number, i: number, j: number) => void, k: number): void {
  const iLo = Math.max(0, Math.ceil(i0 - right / L.h[0])), iHi = Math.min(L.nx - 1, Math.floor(i0 + left / L.h[0]))
  const jLo = Math.max(0, Math.ceil(j0 + dyLo / L.h[1])), jHi = Math.min(L.ny - 1, Math.floor(j0 + dyHi / L.h[1]))
  for (let j = jLo; j <= jHi; j++) {
    for (let i = iLo; i <= iHi; i++) fn(k * L.slice + j * L.nx + i, i, j)
  }
}

/** Calls fn for the voxels within `radius` mm of a point. */
export function forBall(L: Lattice, p: { i: number; j: number; k: number }, radius: number, fn: (v: number, k: number) => void): void {
  const [hx, hy, hz] = L.h
  for (let k = Math.max(0, Math.ceil(p.k - radius / hz)); k <= Math.min(L.nz - 1, Math.floor(p.k + radius / hz)); k++) {
    for (let j = Math.max(0, Math.ceil(p.j - radius / hy)); j <= Math.min(L.ny - 1, Math.floor(p.j + radius / hy)); j++) {
      for (let i = Math.max(0, Math.ceil(p.i - radius / hx)); i <= Math.min(L.nx - 1, Math.floor(p.i + radius / hx)); i++) {
        if (Math.hypot((i - p.i) * hx, (j - p.j) * hy, (k - p.k) * hz) <= radius) fn(k * L.slice + j * L.nx + i, k)
      }
    }
  }
}
