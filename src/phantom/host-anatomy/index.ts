/**
 * Where a real CT's lymph nodes are, found from the scan itself (HU only; organ labels are used
 * when given, never required). Synthetic nodes inserted into a real scan must sit where nodes sit,
 * or a model trained on them learns that nodes float in flank fat.
 *
 * The scan is block-averaged to about 2.5 mm and put in patient order (left, posterior, superior;
 * grid.ts). On that grid the detector finds the body and the air inside it (body.ts), the spinal
 * canal and the front of the spine (spine.ts), the trachea, carina and main bronchi (airway.ts),
 * the lungs with their apices and domes and the mediastinum between them (thorax.ts), whether
 * contrast was given and where the aorta and cava run (vessels.ts), and from all of these the
 * IASLC chest stations, the axillae and the retroperitoneum (station-map.ts, chest-stations.ts,
 * axilla-abdomen-stations.ts). It runs once per host scan: 1-2 s for a 512 x 400 x 135 chest CT.
 * fat.ts then finds, at full resolution, the fat of each station where a node may go.
 */
import { resampleTo } from '../../volume/resample.js'
import { Vec3, Volume } from '../../volume/volume.js'
import { Airway, findAirway } from './airway.js'
import { findBody } from './body.js'
import { analysisGrid, AnalysisGrid, Lattice } from './grid.js'
import { countOf, distanceMm } from './masks.js'
import { findSpine, Spine } from './spine.js'
import { mapStations } from './station-map.js'
import { Landmarks, REGION_STATIONS, RegionName, STATION_NAMES, StationName, tracheaAt } from './stations.js'
import { describeLung, findMediastinum, LEFT, RIGHT, splitLungs } from './thorax.js'
import { findVessels, prevertebralStrip, VesselLabels } from './vessels.js'

export { REGION_STATIONS, STATION_NAMES } from './stations.js'
export type { RegionName, StationName } from './stations.js'

export interface OrganLabels {
  /** Label map; any non-zero voxel is a structure nodes must keep out of. */
  volume: Volume
  /** Name of each label id (used to tell vessels apart). */
  names: Record<number, string>
}

export const VESSEL_NAME = /aorta|vena|cava|arter|vein|portal|iliac|carotid|jugular|subclavian|brachiocephalic/i

export interface HostAnatomy {
  grid: AnalysisGrid
  /** Per canonical voxel: 0, or 1 + index into STATION_NAMES. */
  stationMap: Uint8Array
  /** Coarse voxels of each station that holds any. */
  stationVoxels: Partial<Record<StationName, number>>
  /** Why a region holds no station voxels. */
  missing: Partial<Record<RegionName, string>>
  summary: AnatomySummary
}

/** What the detector found, in patient coordinates (LPS mm), for records and tests. */
export interface AnatomySummary {
  lungs_ml: { right: number; left: number }
  lung_apex_z_mm: { right: number | null; left: number | null }
  diaphragm_dome_z_mm: { right: number | null; left: number | null }
  trachea: { top_mm: Vec3; length_mm: number } | null
  carina_mm: Vec3 | null
  main_bronchi_mm: { right: number; left: number }
  spine_slices: number
  mediastinum_ml: number
  contrast: { enhanced: boolean; blood_pool_hu: number | null; vessels: string }
  stations_ml: Record<string, number>
}

/** Finds the host's anatomy and node stations. */
export function analyseHost(host: Volume, organs: OrganLabels[] = []): HostAnatomy {
  const grid = analysisGrid(host)
  const lm = findLandmarks(grid, organs)
  const { map, reasons } = mapStations(lm)
  const stationVoxels = countStations(map)
  return { grid, stationMap: map, stationVoxels, missing: missingRegions(stationVoxels, reasons, lm.L), summary: summarise(grid, lm, stationVoxels) }
}

function findLandmarks(grid: AnalysisGrid, organs: OrganLabels[]): Landmarks {
  const { lattice: L, hu } = grid
  const { body, outside, lungAir } = findBody(hu, L)
  const spine = findSpine(hu, body, L)
  const { airway, midI, lungs } = airwayAndLungs(hu, body, lungAir, spine, L)
  const right = describeLung(lungs, RIGHT, L), left = describeLung(lungs, LEFT, L)
  const floorK = lowerDome(right.domeK, left.domeK)
  const mediastinum = findMediastinum(lungs, body, midI, spine.frontJ, floorK, L)
  const vessels = findVessels(hu, mediastinum, prevertebralStrip(body, spine, L), vesselLabels(organs, grid), L)
  const lungMask = new Uint8Array(L.voxels)
  for (let v = 0; v < L.voxels; v++) if (lungs[v]) lungMask[v] = 1
  return {
    L, hu, body, lungs, right, left, mediastinum, floorK, airway, spine, midI, vessels,
    skinMm: distanceMm(outside, L), lungMm: distanceMm(lungMask, L), airwayMm: distanceMm(airway ? airway.mask : new Uint8Array(L.voxels), L),
  }
}

/**
 * The airway, the midline and the lungs split by it. An airway is kept only if it is the
 * trachea of a chest: at its lowest slice (the carina) both lungs show 5 cm² or more. A tube of
 * bowel gas in front of the spine of an abdominal scan is not.
 */
function airwayAndLungs(hu: Float32Array, body: Uint8Array, lungAir: Uint8Array, spine: Spine, L: Lattice): { airway: Airway | null; midI: Float64Array; lungs: Uint8Array } {
  const airway = findAirway(hu, body, spine, L)
  const midI = midline(spine, airway, L)
  const lungs = splitLungs(lungAir, airway?.mask ?? null, midI, L)
  if (!airway || inChest(airway, lungs, L)) return { airway, midI, lungs }
  const plainMid = midline(spine, null, L)
  return { airway: null, midI: plainMid, lungs: splitLungs(lungAir, null, plainMid, L) }
}

function inChest(airway: Airway, lungs: Uint8Array, L: Lattice): boolean {
  const k = airway.carina?.k ?? airway.trachea[airway.trachea.length - 1].k
  const count = [0, 0, 0]
  for (let p = 0; p < L.slice; p++) count[lungs[k * L.slice + p]]++
  const minVoxels = 500 / (L.h[0] * L.h[1])
  return count[RIGHT] >= minVoxels && count[LEFT] >= minVoxels
}

function summarise(grid: AnalysisGrid, lm: Landmarks, stationVoxels: Partial<Record<StationName, number>>): AnatomySummary {
  const { L, airway, right, left, vessels } = lm
  const world = (i: number, j: number, k: number): Vec3 => grid.volume.indexToWorld(i, j, k).map(round1) as Vec3
  const zOf = (k: number) => (k < 0 || Number.isNaN(k) ? null : round1(world(0, 0, k)[2]))
  const ml = (voxels: number) => round1((voxels * L.h[0] * L.h[1] * L.h[2]) / 1000)
  return {
    lungs_ml: { right: ml(right.voxels), left: ml(left.voxels) },
    lung_apex_z_mm: { right: right.apexInView ? zOf(right.apexK) : null, left: left.apexInView ? zOf(left.apexK) : null },
    diaphragm_dome_z_mm: { right: zOf(right.domeK), left: zOf(left.domeK) },
    trachea: airway && airway.trachea.length > 0 ? { top_mm: world(airway.trachea[0].i, airway.trachea[0].j, airway.trachea[0].k), length_mm: round1(airway.trachea.length * L.h[2]) } : null,
    carina_mm: airway?.carina ? world(airway.carina.i, airway.carina.j, airway.carina.k) : null,
    main_bronchi_mm: { right: round1((airway?.right.length ?? 0) * L.h[2]), left: round1((airway?.left.length ?? 0) * L.h[2]) },
    spine_slices: lm.spine.found,
    mediastinum_ml: ml(countOf(lm.mediastinum)),
    contrast: { enhanced: vessels.enhanced, blood_pool_hu: Number.isNaN(vessels.bloodPoolHu) ? null : Math.round(vessels.bloodPoolHu), vessels: vessels.source },
    stations_ml: Object.fromEntries(Object.entries(stationVoxels).map(([name, n]) => [name, ml(n)])),
  }
}

/** The midline per slice: the spinal canal where it was seen, else the trachea (carina below it), else the body's centre. */
function midline(spine: Spine, airway: Airway | null, L: Lattice): Float64Array {
  if (spine.found > 0.2 * L.nz || !airway || airway.trachea.length === 0) return spine.midI
  return Float64Array.from({ length: L.nz }, (_, k) => tracheaAt(airway, k).i)
}

function lowerDome(a: number, b: number): number {
  const known = [a, b].filter((d) => !Number.isNaN(d))
  return known.length > 0 ? Math.min(...known) : NaN
}

/** Labelled vessels on the canonical grid: 1 aorta, 2 vena cava, 3 any other vessel; null without labels. */
function vesselLabels(organs: OrganLabels[], grid: AnalysisGrid): VesselLabels {
  if (organs.length === 0) return null
  const out = new Uint8Array(grid.lattice.voxels)
  for (const organ of organs) {
    const kind = new Map<number, number>()
    for (const [label, name] of Object.entries(organ.names)) {
      if (/aorta/i.test(name)) kind.set(Number(label), 1)
      else if (/vena|cava/i.test(name)) kind.set(Number(label), 2)
      else if (VESSEL_NAME.test(name)) kind.set(Number(label), 3)
    }
    if (kind.size === 0) continue
    const labels = resampleTo(organ.volume, grid.volume, { interpolation: 'nearest' }).data
    for (let v = 0; v < out.length; v++) {
      const k = kind.get(labels[v])
      if (k && (!out[v] || k < out[v])) out[v] = k
    }
  }
  return out
}

function countStations(map: Uint8Array): Partial<Record<StationName, number>> {
  const counts = new Float64Array(STATION_NAMES.length + 1)
  for (let v = 0; v < map.length; v++) counts[map[v]]++
  const out: Partial<Record<StationName, number>> = {}
  STATION_NAMES.forEach((name, n) => { if (counts[n + 1] > 0) out[name] = counts[n + 1] })
  return out
}

/** Regions with less than 1 ml of station voxels, and why. */
function missingRegions(voxels: Partial<Record<StationName, number>>, reasons: Partial<Record<RegionName, string>>, L: Lattice): Partial<Record<RegionName, string>> {
  const voxelMl = (L.h[0] * L.h[1] * L.h[2]) / 1000
  const out: Partial<Record<RegionName, string>> = {}
  for (const [region, names] of Object.entries(REGION_STATIONS) as [RegionName, readonly StationName[]][]) {
    const total = names.reduce((s, n) => s + (voxels[n] ?? 0), 0) * voxelMl
    if (total < 1) out[region] = reasons[region] ?? 'no fat or soft tissue there'
  }
  return out
}

const round1 = (x: number) => Math.round(x * 10) / 10
