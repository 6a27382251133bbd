/**
 * Voxel overlap metrics of one label, MONAI style: one small function per metric over the
 * confusion counts. Formulas use voxel counts; with one grid per case every voxel has the same volume.
 *
 * Empty-mask rule shared by every ratio below: when its denominator is 0, the value is 1 if both
 * masks are empty (nothing to find and nothing found is perfect agreement), and null otherwise
 * (the ratio is undefined; null, never NaN or Infinity, so JSON stays valid and means skip it).
 */

export interface Confusion {
  tp: number
  fp: number
  fn: number
  tn: number
}

/** Voxel confusion counts of a binary prediction against a binary ground truth (non-zero = inside). */
export function confusion(pred: ArrayLike<number>, gt: ArrayLike<number>): Confusion {
  let tp = 0, fp = 0, fn = 0
  for (let n = 0; n < gt.length; n++) {
    if (pred[n]) {
      if (gt[n]) tp++
      else fp++
    } else if (gt[n]) fn++
  }
  return { tp, fp, fn, tn: gt.length - tp - fp - fn }
}

function ratio(numerator: number, denominator: number, c: Confusion): number | null {
  if (denominator > 0) return numerator / denominator
  return c.tp + c.fp === 0 && c.tp + c.fn === 0 ? 1 : null
}

/** Dice similarity coefficient 2TP / (2TP + FP + FN). Dice, Ecology 26(3) 1945. Both empty → 1; one empty → 0. */
export function dice(c: Confusion): number {
  return ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn, c) as number
}

/** Jaccard index (IoU) TP / (TP + FP + FN). Jaccard 1912. Both empty → 1; one empty → 0. */
export function iou(c: Confusion): number {
  return ratio(c.tp, c.tp + c.fp + c.fn, c) as number
}

/** Precision (positive predictive value) TP / (TP + FP). Empty prediction: 1 if the truth is empty too, else null. */
export function precision(c: Confusion): number | null {
  return ratio(c.tp, c.tp + c.fp, c)
}

/** Recall (sensitivity) TP / (TP + FN). Empty truth: 1 if the prediction is empty too, else null. */
export function recall(c: Confusion): number | null {
  return ratio(c.tp, c.tp + c.fn, c)
}

/** Specificity TN / (TN + FP). Null only when the truth fills the whole grid (no negative voxel). */
export function specificity(c: Confusion): number | null {
  return ratio(c.tn, c.tn + c.fp, c)
}

/** Accuracy (TP + TN) / (TP + FP + FN + TN); always defined for a non-empty grid. */
export function accuracy(c: Confusion): number {
  return (c.tp + c.tn) / (c.tp + c.fp + c.fn + c.tn)
}

/**
 * F1 score 2·precision·recall / (precision + recall) = 2TP / (2TP + FP + FN): at voxel level it is
 * the Dice coefficient, reported under its own name because papers use both. Empty masks as Dice.
 */
export function f1Score(c: Confusion): number {
  return dice(c)
}

/**
 * Absolute volume difference |V_pred − V_gt| in mL, with V = voxel count × voxel volume.
 * Both empty → 0; one empty → the other's volume. (The relative form is avdRelative.)
 */
export function absoluteVolumeDifference(c: Confusion, voxelMl: number): number {
  return Math.abs((c.tp + c.fp) - (c.tp + c.fn)) * voxelMl
}

/** Relative absolute volume difference |V_pred − V_gt| / V_gt. Empty truth: 0 if the prediction is empty too, else null. */
export function avdRelative(c: Confusion): number | null {
  const gt = c.tp + c.fn
  if (gt > 0) return Math.abs(c.tp + c.fp - gt) / gt
  return c.tp + c.fp === 0 ? 0 : null
}
