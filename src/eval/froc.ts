/** One scored detection pooled over all scans: its score and whether it found a true node. */
export interface ScoredDetection {
  score: number
  truePositive: boolean
}

export interface FrocCurve {
  /** Operating points from the strictest threshold to the loosest, starting at (0, 0). */
  fpPerScan: number[]
  sensitivity: number[]
  thresholds: number[]
}

/** The FP-per-scan rates of the FROC summary (LUNA16, nnDetection). */
export const FROC_RATES = [1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8]

/**
 * FROC curve: for each distinct score threshold t (descending), sensitivity = TP(score ≥ t) / true
 * nodes and FP per scan = FP(score ≥ t) / scans. Ties in score enter together.
 * Reference: Chakraborty, Med Phys 16(4) 1989; Setio et al. (LUNA16), MedIA 42 2017.
 * Empty cases: no true node → sensitivity is undefined and the curve is null.
 */
export function frocCurve(detections: ScoredDetection[], trueNodes: number, scans: number): FrocCurve | null {
  if (trueNodes === 0 || scans === 0) return null
  const sorted = [...detections].sort((a, b) => b.score - a.score)
  const curve: FrocCurve = { fpPerScan: [0], sensitivity: [0], thresholds: [Infinity] }
  let tp = 0, fp = 0
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].truePositive) tp++
    else fp++
    if (i + 1 < sorted.length && sorted[i + 1].score === sorted[i].score) continue
    curve.fpPerScan.push(fp / scans)
    curve.sensitivity.push(tp / trueNodes)
    curve.thresholds.push(sorted[i].score)
  }
  return curve
}

/**
 * Sensitivity at a given FP-per-scan rate: the highest sensitivity of an operating point whose FP
 * per scan does not exceed the rate (a threshold a user could actually pick; no interpolation
 * between points, so never optimistic). A rate below every point's FPs gives the sensitivity of
 * the strictest points that stay within it, 0 at worst.
 */
export function sensitivityAtRate(curve: FrocCurve, rate: number): number {
  let best = 0
  for (let i = 0; i < curve.fpPerScan.length; i++) {
    if (curve.fpPerScan[i] <= rate + 1e-12 && curve.sensitivity[i] > best) best = curve.sensitivity[i]
  }
  return best
}

/**
 * Competition performance metric: the mean sensitivity at 1/8, 1/4, 1/2, 1, 2, 4 and 8 FP per scan.
 * Reference: Niemeijer et al., IEEE TMI 30(2) 2011; LUNA16. Null when there is no true node.
 */
export function cpm(curve: FrocCurve | null, rates = FROC_RATES): number | null {
  if (!curve) return null
  return rates.reduce((s, r) => s + sensitivityAtRate(curve, r), 0) / rates.length
}

/**
 * Average precision, COCO's 101-point interpolation: precision made monotone (at each recall, the
 * best precision at that recall or beyond), averaged over recall 0, 0.01, ..., 1 (0 where a recall
 * is never reached). Reference: Lin et al. (COCO), ECCV 2014; used by nnDetection at IoU 0.1.
 * Empty cases: no true node → null; true nodes but no detection → 0.
 */
export function averagePrecision(detections: ScoredDetection[], trueNodes: number): number | null {
  if (trueNodes === 0) return null
  const sorted = [...detections].sort((a, b) => b.score - a.score)
  const recall: number[] = [], precision: number[] = []
  let tp = 0
  sorted.forEach((d, i) => {
    if (d.truePositive) tp++
    recall.push(tp / trueNodes)
    precision.push(tp / (i + 1))
  })
  for (let i = precision.length - 2; i >= 0; i--) precision[i] = Math.max(precision[i], precision[i + 1])
  let sum = 0, i = 0
  for (let step = 0; step <= 100; step++) {
    const r = step / 100
    while (i < recall.length && recall[i] < r - 1e-12) i++
    if (i < recall.length) sum += precision[i]
  }
  return sum / 101
}
