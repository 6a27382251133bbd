/**
 * Stage 2's decision thresholds, chosen on the classifier's validation cases instead of a fixed 0.5. In
 * radiotherapy a missed malignant node costs more than a benign node drawn as malignant, and a dropped
 * true node cannot be brought back by the reader, so each cut is the highest one that still keeps a set
 * share of the validation nodes, and never above 0.5:
 *   reject_below      P(node) under it drops a candidate; keeps >= 98% of true nodes,
 *   malignant_above   P(malignant | node) at or over it calls a node malignant; keeps >= 95% of malignant nodes.
 */
export const KEEP_NODES = 0.98
export const KEEP_MALIGNANT = 0.95
export const MAX_CUT = 0.5

export interface OperatingPoint {
  reject_below: number
  malignant_above: number
  /** On the validation samples, at these cuts. */
  node_recall: number | null
  malignant_sensitivity: number | null
  benign_specificity: number | null
}

/** probabilities: [not node, benign, malignant] per sample; labels 0 not a node, 1 benign, 2 malignant. */
export function chooseOperatingPoint(labels: number[], probabilities: number[][]): OperatingPoint {
  const pNode = probabilities.map((p) => 1 - p[0]!)
  const pMalignant = probabilities.map((p) => p[2]! / Math.max(p[1]! + p[2]!, 1e-12))
  const nodes = labels.flatMap((l, i) => (l > 0 ? [i] : []))
  const rejectBelow = Math.min(MAX_CUT, keepingCut(nodes.map((i) => pNode[i]!), KEEP_NODES))
  const malignantAbove = Math.min(MAX_CUT, keepingCut(nodes.filter((i) => labels[i] === 2).map((i) => pMalignant[i]!), KEEP_MALIGNANT))
  const share = (ids: number[], ok: (i: number) => boolean) => (ids.length ? round(ids.filter(ok).length / ids.length) : null)
  const kept = nodes.filter((i) => pNode[i]! >= rejectBelow)
  return {
    reject_below: floor4(rejectBelow), malignant_above: floor4(malignantAbove),
    node_recall: share(nodes, (i) => pNode[i]! >= rejectBelow),
    malignant_sensitivity: share(kept.filter((i) => labels[i] === 2), (i) => pMalignant[i]! >= malignantAbove),
    benign_specificity: share(kept.filter((i) => labels[i] === 1), (i) => pMalignant[i]! < malignantAbove),
  }
}

/**
 * The highest t with at least `keep` of the scores >= t: the score at rank floor((1 - keep) n) from the
 * bottom. With no scores there is nothing to keep, and the cut stays at MAX_CUT.
 */
export function keepingCut(scores: number[], keep: number): number {
  if (scores.length === 0) return MAX_CUT
  const sorted = scores.slice().sort((a, b) => a - b)
  return sorted[Math.floor((1 - keep) * sorted.length + 1e-9)]!
}

/** Rounded down, so a sample exactly at the cut stays on the kept side. */
function floor4(x: number): number {
  return Math.floor(x * 1e4) / 1e4
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4
}
