import type { Vec3 } from '../volume/volume.js'
import {
  absoluteVolumeDifference, accuracy, avdRelative, confusion, dice, f1Score, iou, precision, recall, specificity,
} from './overlap.js'
import {
  averageSymmetricSurfaceDistance, boundaryF1, hausdorffDistance, hausdorffDistance95, normalizedSurfaceDice, surfaceDistances,
} from './surface-distance.js'

/** Every voxel and surface metric of one label in one case (keys as they appear in metrics.json). */
export interface LabelMetrics {
  tp: number
  fp: number
  fn: number
  tn: number
  dice: number
  iou: number
  precision: number | null
  recall: number | null
  specificity: number | null
  accuracy: number
  f1: number
  avd: number
  avd_rel: number | null
  hd: number | null
  hd95: number | null
  assd: number | null
  nsd: number
  boundary_f1: number
  volume_pred_ml: number
  volume_gt_ml: number
}

/** Keys of LabelMetrics that are per-case numbers worth aggregating (all of them). */
export const METRIC_KEYS: (keyof LabelMetrics)[] = [
  'tp', 'fp', 'fn', 'tn', 'dice', 'iou', 'precision', 'recall', 'specificity', 'accuracy', 'f1', 'avd', 'avd_rel',
  'hd', 'hd95', 'assd', 'nsd', 'boundary_f1', 'volume_pred_ml', 'volume_gt_ml',
]

/**
 * All metrics of binary masks `pred` and `gt` (non-zero = inside) on one grid.
 * Distances in mm use `spacing`; volumes use the voxel volume in mm³.
 */
export function labelMetrics(pred: Uint8Array, gt: Uint8Array, shape: Vec3, spacing: Vec3, voxelMm3: number, toleranceMm: number): LabelMetrics {
  const c = confusion(pred, gt)
  const voxelMl = voxelMm3 / 1000
  const d = surfaceDistances(pred, gt, shape, spacing)
  return {
    ...c,
    dice: dice(c),
    iou: iou(c),
    precision: precision(c),
    recall: recall(c),
    specificity: specificity(c),
    accuracy: accuracy(c),
    f1: f1Score(c),
    avd: absoluteVolumeDifference(c, voxelMl),
    avd_rel: avdRelative(c),
    hd: hausdorffDistance(d),
    hd95: hausdorffDistance95(d),
    assd: averageSymmetricSurfaceDistance(d),
    nsd: normalizedSurfaceDice(d, toleranceMm),
    boundary_f1: boundaryF1(d, toleranceMm),
    volume_pred_ml: (c.tp + c.fp) * voxelMl,
    volume_gt_ml: (c.tp + c.fn) * voxelMl,
  }
}

/**
 * Binary mask of the voxels whose value is one of `labels` (integer labels), through a lookup table
 * rather than a set, since it runs over every voxel.
 */
export function labelMask(data: ArrayLike<number>, labels: number[]): Uint8Array {
  const max = Math.max(0, ...labels)
  const table = new Uint8Array(max + 1)
  for (const l of labels) if (Number.isInteger(l) && l > 0) table[l] = 1
  const out = new Uint8Array(data.length)
  for (let n = 0; n < data.length; n++) {
    const v = data[n]
    if (v > 0 && v <= max && table[v] === 1) out[n] = 1
  }
  return out
}
