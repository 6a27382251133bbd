/**
 * Lungs split into right and left, their apices and diaphragm domes, and the mediastinum.
 *
 * A lung voxel is right or left by the side of the midline it lies on. The apex of a lung is its
 * highest slice with at least 1 cm² of it. The dome of the diaphragm under a lung is where the lung's
 * base is highest over the lateral 45 % of its footprint (the mid-clavicular line; the medial part
 * sits on the heart, not on the diaphragm). The mediastinum is, slice by slice, what lies inside
 * the convex hull of both lungs but outside them, in the piece that crosses the midline, in front of
 * the spine and above the lower dome.
 */
import { Lattice } from './grid.js'
import { fillConvexHull, sliceComponents } from './masks.js'

export const RIGHT = 1, LEFT = 2

export interface LungSide {
  voxels: number
  /** Highest slice holding at least 1 cm² of this lung (-1 if the lung is absent). */
  apexK: number
  /** False when the lung reaches the top slice (its apex is above the scan). */
  apexInView: boolean
  /** Slice of the diaphragm dome under this lung (NaN when its base is not in view). */
  domeK: number
  /** Per slice: lateral-most and medial-most i of this lung, front-most and back-most j (NaN where absent). */
  lateralI: Float64Array
  medialI: Float64Array
  frontJ: Float64Array
  backJ: Float64Array
}

export interface Thorax {
  /** 0 none, 1 right lung, 2 left lung (airway excluded). */
  lungs: Uint8Array
  right: LungSide
  left: LungSide
  /** 1 inside the mediastinum. */
  mediastinum: Uint8Array
  /** Lowest slice of the mediastinum (the lower dome), or NaN. */
  floorK: number
}

/** Lung air less the airway and its wall's partial-volume rim (one voxel in-plane), by side of the midline. */
export function splitLungs(lungAir: Uint8Array, airway: Uint8Array | null, midI: Float64Array, L: Lattice): Uint8Array {
  const lungs = new Uint8Array(L.voxels)
  const onAirway = (v: number, i: number, j: number) => airway !== null && (airway[v] ||
    (i > 0 && airway[v - 1]) || (i < L.nx - 1 && airway[v + 1]) || (j > 0 && airway[v - L.nx]) || (j < L.ny - 1 && airway[v + L.nx]))
  for (let k = 0; k < L.nz; k++) {
    const mid = midI[k]
    for (let j = 0; j < L.ny; j++) {
      const row = k * L.slice + j * L.nx
      for (let i = 0; i < L.nx; i++) {
        const v = row + i
        if (lungAir[v] && !onAirway(v, i, j)) lungs[v] = i < mid ? RIGHT : LEFT
      }
    }
  }
  return lungs
}

export function describeLung(lungs: Uint8Array, side: number, L: Lattice): LungSide {
  const nan = () => new Float64Array(L.nz).fill(NaN)
  const s: LungSide = { voxels: 0, apexK: -1, apexInView: false, domeK: NaN, lateralI: nan(), medialI: nan(), frontJ: nan(), backJ: nan() }
  const minArea = 100 / (L.h[0] * L.h[1])
  for (let k = 0; k < L.nz; k++) {
    let count = 0, iMin = Infinity, iMax = -Infinity, jMin = Infinity, jMax = -Infinity
    for (let j = 0; j < L.ny; j++) {
      const row = k * L.slice + j * L.nx
      for (let i = 0; i < L.nx; i++) {
        if (lungs[row + i] !== side) continue
        count++
        if (i < iMin) iMin = i
        if (i > iMax) iMax = i
        if (j < jMin) jMin = j
        if (j > jMax) jMax = j
      }
    }
    s.voxels += count
    if (count === 0) continue
    s.lateralI[k] = side === RIGHT ? iMin : iMax
    s.medialI[k] = side === RIGHT ? iMax : iMin
    s.frontJ[k] = jMin
    s.backJ[k] = jMax
    if (count >= minArea) s.apexK = k
  }
  s.apexInView = s.apexK >= 0 && s.apexK < L.nz - 1
  s.domeK = domeOf(lungs, side, L)
  return s
}

/**
 * The 85th percentile of the lung's base height over the lateral 45 % (and middle 80 % front to
 * back) of its footprint; NaN when the base is not in view (a third of those columns reach the
 * bottom slice: the diaphragm is below the scan, and the bases left are the top of the heart).
 */
function domeOf(lungs: Uint8Array, side: number, L: Lattice): number {
  const base = new Int32Array(L.slice).fill(-1)
  let iMin = Infinity, iMax = -Infinity, jMin = Infinity, jMax = -Infinity
  for (let k = L.nz - 1; k >= 0; k--) {
    for (let p = 0; p < L.slice; p++) {
      if (lungs[k * L.slice + p] !== side) continue
      base[p] = k
      const i = p % L.nx, j = Math.floor(p / L.nx)
      iMin = Math.min(iMin, i); iMax = Math.max(iMax, i); jMin = Math.min(jMin, j); jMax = Math.max(jMax, j)
    }
  }
  if (iMin > iMax) return NaN
  const [lo, hi] = side === RIGHT ? [iMin, iMin + 0.45 * (iMax - iMin)] : [iMax - 0.45 * (iMax - iMin), iMax]
  const bases: number[] = []
  let atBottom = 0
  for (let p = 0; p < L.slice; p++) {
    const i = p % L.nx, j = Math.floor(p / L.nx)
    if (base[p] < 0 || i < lo || i > hi || j < jMin + 0.1 * (jMax - jMin) || j > jMax - 0.1 * (jMax - jMin)) continue
    if (base[p] === 0) atBottom++
    else bases.push(base[p])
  }
  if (bases.length < 20 || atBottom > 0.5 * bases.length) return NaN
  bases.sort((a, b) => a - b)
  return bases[Math.floor(0.85 * (bases.length - 1))]
}

/**
 * The mediastinum, slice by slice: the hull of both lungs minus the lungs, the piece of it that
 * crosses the midline (within 10 mm), in front of the spine's front plus 5 mm and above `floorK`.
 */
export function findMediastinum(lungs: Uint8Array, body: Uint8Array, midI: Float64Array, spineFrontJ: Float64Array, floorK: number, L: Lattice): Uint8Array {
  const out = new Uint8Array(L.voxels)
  const hull = new Uint8Array(L.voxels)
  const minArea = 200 / (L.h[0] * L.h[1])
  for (let k = Number.isNaN(floorK) ? 0 : Math.max(0, Math.ceil(floorK)); k < L.nz; k++) {
    const points: [number, number][] = []
    let right = 0, left = 0
    for (let j = 0; j < L.ny; j++) {
      const row = k * L.slice + j * L.nx
      let first = -1, last = -1
      for (let i = 0; i < L.nx; i++) {
        const s = lungs[row + i]
        if (!s) continue
        if (s === RIGHT) right++; else left++
        if (first < 0) first = i
        last = i
      }
      if (first >= 0) points.push([first, j], [last, j])
    }
    if (right < minArea || left < minArea) continue
    fillConvexHull(points, L, k, hull)
    const back = Number.isNaN(spineFrontJ[k]) ? L.ny : spineFrontJ[k] + 5 / L.h[1]
    for (let p = 0; p < L.slice; p++) {
      const v = k * L.slice + p
      if (!hull[v] || lungs[v] || !body[v] || Math.floor(p / L.nx) > back) hull[v] = 0
    }
    keepMidlinePieces(hull, L, k, midI[k], out)
  }
  return out
}

/** Copies into `out` the 4-connected pieces of slice k of `mask` that come within 10 mm of the midline. */
function keepMidlinePieces(mask: Uint8Array, L: Lattice, k: number, mid: number, out: Uint8Array): void {
  const cc = sliceComponents(mask, L, k)
  if (cc.count === 0) return
  const keep = new Uint8Array(cc.count + 1)
  const band = 10 / L.h[0]
  for (let p = 0; p < L.slice; p++) {
    const c = cc.labels[p]
    if (c && Math.abs((p % L.nx) - mid) <= band) keep[c] = 1
  }
  for (let p = 0; p < L.slice; p++) if (keep[cc.labels[p]] && cc.labels[p]) out[k * L.slice + p] = 1
}
