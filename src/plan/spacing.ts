/**
 * Target spacing. Two values come out:
 * - `data`: nnU-Net's rule, the median spacing per axis; for strongly anisotropic data (one axis over 3x
 *   coarser than the finest and its median extent small) that axis takes the 10th percentile of its
 *   spacings instead, so thick-slice outliers do not blur every case;
 * - `coarse`: the data spacing coarsened, per axis, up to `smallest node / voxelsAcross` (default 3 voxels
 *   across the smallest node class, at least a 5 mm node), never finer than the data spacing. On a CPU
 *   budget this buys a larger field of view and more iterations without losing the small nodes.
 */
import { quantileSorted } from '../volume/stats.js'
import type { Fingerprint, Triple } from './plans.js'

export const ANISOTROPY_THRESHOLD = 3
export const MIN_NODE_MM = 5
export const VOXELS_ACROSS_SMALLEST_NODE = 3

export function dataSpacing(fp: Fingerprint): Triple {
  const target = [...fp.median_spacing] as Triple
  const worst = target.indexOf(Math.max(...target))
  const others = [0, 1, 2].filter((a) => a !== worst)
  const finestOther = Math.min(...others.map((a) => target[a]!))
  const anisotropic = target[worst]! > ANISOTROPY_THRESHOLD * finestOther
  const fewSlices = fp.median_shape[worst]! * ANISOTROPY_THRESHOLD < Math.min(...others.map((a) => fp.median_shape[a]!))
  if (anisotropic && fewSlices) {
    const sorted = fp.spacings.map((s) => s[worst]!).sort((a, b) => a - b)
    // never finer than the other axes: that would invent resolution the data lacks
    target[worst] = Math.max(quantileSorted(sorted, 0.1), Math.max(...others.map((a) => target[a]!)))
  }
  // NIfTI stores spacing in float32: 0.800000011920929 is 0.8
  return target.map(round) as Triple
}

/** The coarsest spacing that keeps `VOXELS_ACROSS_SMALLEST_NODE` voxels across the smallest node class. */
export function nodeLimitMm(fp: Fingerprint): number {
  return Math.max(fp.smallest_node_mm ?? MIN_NODE_MM, MIN_NODE_MM) / VOXELS_ACROSS_SMALLEST_NODE
}

export function coarseSpacing(fp: Fingerprint): Triple {
  const limit = nodeLimitMm(fp)
  return dataSpacing(fp).map((s) => round(Math.max(s, limit))) as Triple
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000
}
