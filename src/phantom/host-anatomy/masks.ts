/**
 * Mask tools for the host-anatomy detector, on the canonical coarse grid: Euclidean distance in mm,
 * connected components of one axial slice, filled convex hulls of axial point sets, and a few
 * per-slice reductions. Everything works on flat typed arrays (x fastest).
 */
import { connectedComponents, Components } from '../../volume/components.js'
import { convexHull } from '../../volume/measure.js'
import { Lattice } from './grid.js'

const FAR = 1e20

/**
 * Distance (mm) from every voxel to the nearest voxel where `features` is non-zero (exact Euclidean,
 * anisotropic spacing; Felzenszwalb & Huttenlocher's separable lower envelope of parabolas).
 * Voxels with no feature anywhere read as a very large number.
 */
export function distanceMm(features: Uint8Array, L: Lattice): Float32Array {
  const d2 = new Float64Array(L.voxels)
  for (let v = 0; v < L.voxels; v++) d2[v] = features[v] ? 0 : FAR
  const longest = Math.max(L.nx, L.ny, L.nz)
  const line = new Float64Array(longest), out = new Float64Array(longest)
  const hull = new Int32Array(longest), bounds = new Float64Array(longest + 1)
  const passes: [number, number, number, number][] = [
    [L.nx, 1, L.ny * L.nz, 0], [L.ny, L.nx, L.nx * L.nz, 1], [L.nz, L.slice, L.slice, 2],
  ]
  for (const [n, stride, lines, axis] of passes) {
    const h = L.h[axis]
    for (let l = 0; l < lines; l++) {
      const start = axis === 0 ? l * L.nx : axis === 1 ? (l % L.nx) + Math.floor(l / L.nx) * L.slice : l
      for (let t = 0; t < n; t++) line[t] = d2[start + t * stride]
      envelope(line, n, h, out, hull, bounds)
      for (let t = 0; t < n; t++) d2[start + t * stride] = out[t]
    }
  }
  const dist = new Float32Array(L.voxels)
  for (let v = 0; v < L.voxels; v++) dist[v] = Math.sqrt(d2[v])
  return dist
}

/** One 1-D pass: out[p] = min_q f[q] + ((p - q) h)^2. */
function envelope(f: Float64Array, n: number, h: number, out: Float64Array, hull: Int32Array, bounds: Float64Array): void {
  let k = -1
  for (let q = 0; q < n; q++) {
    if (f[q] >= FAR) continue
    const xq = q * h
    while (k >= 0) {
      const v = hull[k], xv = v * h
      const s = (f[q] + xq * xq - (f[v] + xv * xv)) / (2 * (xq - xv))
      if (s > bounds[k]) {
        k++
        hull[k] = q
        bounds[k] = s
        break
      }
      k--
    }
    if (k < 0) {
      k = 0
      hull[0] = q
      bounds[0] = -Infinity
    }
  }
  if (k < 0) {
    for (let p = 0; p < n; p++) out[p] = FAR
    return
  }
  bounds[k + 1] = Infinity
  let c = 0
  for (let p = 0; p < n; p++) {
    const xp = p * h
    while (bounds[c + 1] < xp) c++
    const xv = hull[c] * h
    out[p] = f[hull[c]] + (xp - xv) * (xp - xv)
  }
}

/** 4-connected components of one axial slice of a mask. */
export function sliceComponents(mask: Uint8Array, L: Lattice, k: number): Components {
  return connectedComponents(mask.subarray(k * L.slice, (k + 1) * L.slice), [L.nx, L.ny, 1], 6)
}

/** Fills (value 1) the convex hull of the given in-slice points [i, j] into `out` at slice k. */
export function fillConvexHull(points: [number, number][], L: Lattice, k: number, out: Uint8Array): void {
  if (points.length === 0) return
  const hull = convexHull(points)
  const j0 = Math.min(...hull.map((p) => p[1])), j1 = Math.max(...hull.map((p) => p[1]))
  for (let j = j0; j <= j1; j++) {
    let lo = Infinity, hi = -Infinity
    for (let e = 0; e < hull.length; e++) {
      const a = hull[e], b = hull[(e + 1) % hull.length]
      if (a[1] === j) { lo = Math.min(lo, a[0]); hi = Math.max(hi, a[0]) }
      if ((a[1] - j) * (b[1] - j) < 0) {
        const x = a[0] + ((j - a[1]) * (b[0] - a[0])) / (b[1] - a[1])
        lo = Math.min(lo, x)
        hi = Math.max(hi, x)
      }
    }
    const row = k * L.slice + j * L.nx
    for (let i = Math.max(0, Math.ceil(lo - 1e-9)); i <= Math.min(L.nx - 1, Math.floor(hi + 1e-9)); i++) out[row + i] = 1
  }
}

/** Median of a window of `radius` slices either side, skipping NaN (slices without a value). */
export function medianAlongZ(values: Float64Array, radius: number): Float64Array {
  const out = new Float64Array(values.length).fill(NaN)
  for (let k = 0; k < values.length; k++) {
    const win: number[] = []
    for (let t = Math.max(0, k - radius); t <= Math.min(values.length - 1, k + radius); t++) if (!Number.isNaN(values[t])) win.push(values[t])
    if (win.length === 0) continue
    win.sort((a, b) => a - b)
    out[k] = win[Math.floor(win.length / 2)]
  }
  return out
}

/** Fills slices without a value with the value of the slice below (the first value for the bottom ones). */
export function fillGaps(values: Float64Array): Float64Array {
  const out = values.slice()
  let last = NaN
  for (let k = 0; k < out.length; k++) {
    if (Number.isNaN(out[k])) out[k] = last
    else last = out[k]
  }
  const first = out.find((v) => !Number.isNaN(v)) ?? NaN
  for (let k = 0; k < out.length && Number.isNaN(out[k]); k++) out[k] = first
  return out
}

/** Number of non-zero voxels. */
export function countOf(mask: Uint8Array): number {
  let n = 0
  for (let v = 0; v < mask.length; v++) if (mask[v]) n++
  return n
}
