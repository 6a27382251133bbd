import type { Vec3 } from '../volume/volume.js'
import { quantileSorted } from '../volume/stats.js'
import { squaredDistancesAt } from './edt.js'
import { cropMask, surfaceVoxels, unionBox } from './surface.js'

/**
 * The directed surface distances between a prediction and a ground truth, in mm, sorted ascending:
 * for every surface voxel of one mask, the Euclidean distance to the nearest surface voxel of the
 * other (surfaces as in surface.ts; distances from an exact anisotropic EDT, as MONAI's
 * get_surface_distance computes them with scipy). When either mask is empty both lists are empty
 * and the surface sizes tell which case it is.
 */
export interface SurfaceDistances {
  predSurfaceVoxels: number
  gtSurfaceVoxels: number
  predToGt: Float64Array
  gtToPred: Float64Array
}

/**
 * Computes both directed distance lists. Work is confined to the box around both masks: every
 * surface voxel lies inside it, so the transform there is the transform of the whole grid.
 */
export function surfaceDistances(pred: ArrayLike<number>, gt: ArrayLike<number>, shape: Vec3, spacing: Vec3): SurfaceDistances {
  const box = unionBox(pred, gt, shape)
  if (!box) return { predSurfaceVoxels: 0, gtSurfaceVoxels: 0, predToGt: new Float64Array(0), gtToPred: new Float64Array(0) }
  const [lo, hi] = box
  const boxShape: Vec3 = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1]
  const predSurface = surfaceVoxels(cropMask(pred, shape, lo, hi), boxShape)
  const gtSurface = surfaceVoxels(cropMask(gt, shape, lo, hi), boxShape)
  const result: SurfaceDistances = { predSurfaceVoxels: predSurface.length, gtSurfaceVoxels: gtSurface.length, predToGt: new Float64Array(0), gtToPred: new Float64Array(0) }
  if (predSurface.length === 0 || gtSurface.length === 0) return result
  result.predToGt = distancesToSurface(predSurface, gtSurface, boxShape, spacing)
  result.gtToPred = distancesToSurface(gtSurface, predSurface, boxShape, spacing)
  return result
}

/** Sorted distances from each voxel of `from` to the nearest voxel of `to` (flat indices on one grid, ascending). */
function distancesToSurface(from: Int32Array, to: Int32Array, shape: Vec3, spacing: Vec3): Float64Array {
  const feature = new Uint8Array(shape[0] * shape[1] * shape[2])
  for (const n of to) feature[n] = 1
  const out = squaredDistancesAt(feature, shape, spacing, from)
  for (let m = 0; m < out.length; m++) out[m] = Math.sqrt(out[m])
  return out.sort()
}

/** Which empty-mask case applies: 'both', 'one', or null when both masks have voxels. */
function emptiness(d: SurfaceDistances): 'both' | 'one' | null {
  if (d.predSurfaceVoxels === 0 && d.gtSurfaceVoxels === 0) return 'both'
  if (d.predSurfaceVoxels === 0 || d.gtSurfaceVoxels === 0) return 'one'
  return null
}

/**
 * Hausdorff distance (mm): max( max_{a∈∂P} d(a,∂G), max_{b∈∂G} d(b,∂P) ).
 * Reference: Huttenlocher et al., IEEE TPAMI 15(9) 1993; MONAI compute_hausdorff_distance.
 * Empty masks: both empty → 0 (perfect agreement); one empty → null (undefined, never Infinity).
 */
export function hausdorffDistance(d: SurfaceDistances): number | null {
  return directedMaxOf(d, (sorted) => sorted[sorted.length - 1])
}

/**
 * 95th-percentile Hausdorff distance (mm), as MONAI defines it: the larger of the two directed 95th
 * percentiles, each with numpy's linear interpolation: max( P95{d(a,∂G)}, P95{d(b,∂P)} ).
 * Reference: MONAI compute_hausdorff_distance(percentile=95).
 * Empty masks: both empty → 0; one empty → null.
 */
export function hausdorffDistance95(d: SurfaceDistances): number | null {
  return directedMaxOf(d, (sorted) => quantileSorted(sorted, 0.95))
}

function directedMaxOf(d: SurfaceDistances, statistic: (sorted: Float64Array) => number): number | null {
  const empty = emptiness(d)
  if (empty === 'both') return 0
  if (empty === 'one') return null
  return Math.max(statistic(d.predToGt), statistic(d.gtToPred))
}

/**
 * Average symmetric surface distance (mm): the mean of all directed distances of both directions,
 * (Σ_{a∈∂P} d(a,∂G) + Σ_{b∈∂G} d(b,∂P)) / (|∂P| + |∂G|).
 * Reference: Heimann et al., IEEE TMI 28(8) 2009; MONAI compute_average_surface_distance(symmetric=True).
 * Empty masks: both empty → 0; one empty → null.
 */
export function averageSymmetricSurfaceDistance(d: SurfaceDistances): number | null {
  const empty = emptiness(d)
  if (empty === 'both') return 0
  if (empty === 'one') return null
  return (sum(d.predToGt) + sum(d.gtToPred)) / (d.predToGt.length + d.gtToPred.length)
}

/**
 * Normalised surface Dice at tolerance τ (mm):
 * (|{a∈∂P: d(a,∂G) ≤ τ}| + |{b∈∂G: d(b,∂P) ≤ τ}|) / (|∂P| + |∂G|), counting surface voxels.
 * Reference: Nikolov et al., JMIR 23(7) 2021 (arXiv:1809.04430); MONAI compute_surface_dice.
 * Empty masks: both empty → 1; one empty → 0 (no surface point has a counterpart within τ).
 */
export function normalizedSurfaceDice(d: SurfaceDistances, toleranceMm: number): number {
  const empty = emptiness(d)
  if (empty === 'both') return 1
  if (empty === 'one') return 0
  return (countWithin(d.predToGt, toleranceMm) + countWithin(d.gtToPred, toleranceMm)) / (d.predToGt.length + d.gtToPred.length)
}

/**
 * Boundary F1 at tolerance τ (mm): with boundary precision P = |{a∈∂P: d(a,∂G) ≤ τ}| / |∂P| and
 * boundary recall R = |{b∈∂G: d(b,∂P) ≤ τ}| / |∂G|, BF1 = 2PR / (P + R) (0 when P + R = 0).
 * Reference: Csurka et al., "What is a good evaluation measure for semantic segmentation?", BMVC 2013.
 * Empty masks: both empty → 1; one empty → 0.
 */
export function boundaryF1(d: SurfaceDistances, toleranceMm: number): number {
  const empty = emptiness(d)
  if (empty === 'both') return 1
  if (empty === 'one') return 0
  const precision = countWithin(d.predToGt, toleranceMm) / d.predToGt.length
  const recall = countWithin(d.gtToPred, toleranceMm) / d.gtToPred.length
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall)
}

/** Count of values ≤ limit in an ascending array (binary search). A hair of slack absorbs float32 rounding. */
function countWithin(sorted: Float64Array, limit: number): number {
  const bound = limit + 1e-6
  let lo = 0, hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid] <= bound) lo = mid + 1
    else hi = mid
  }
  return lo
}

function sum(a: Float64Array): number {
  let s = 0
  for (let n = 0; n < a.length; n++) s += a[n]
  return s
}
