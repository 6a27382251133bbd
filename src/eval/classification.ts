/** A node whose true class and predicted probability of malignancy are both known. */
export interface ClassifiedNode {
  malignant: boolean
  probability: number
}

export interface ConfusionMatrix {
  /** Rows: true class; columns: predicted class. */
  benign: { benign: number; malignant: number }
  malignant: { benign: number; malignant: number }
}

export interface ClassificationResult {
  nodes: number
  roc_auc: number | null
  threshold: number
  sensitivity: number | null
  specificity: number | null
  confusion_matrix: ConfusionMatrix
}

/**
 * ROC AUC as the Mann-Whitney probability that a random malignant node scores above a random benign
 * one, ties counting one half. Reference: Hanley & McNeil, Radiology 143(1) 1982.
 * Empty cases: with no malignant or no benign node the AUC is undefined → null.
 */
export function rocAuc(nodes: ClassifiedNode[]): number | null {
  const pos = nodes.filter((n) => n.malignant).map((n) => n.probability).sort((a, b) => a - b)
  const neg = nodes.filter((n) => !n.malignant).map((n) => n.probability).sort((a, b) => a - b)
  if (pos.length === 0 || neg.length === 0) return null
  let wins = 0, below = 0, equal = 0
  for (const p of pos) {
    while (below < neg.length && neg[below] < p) below++
    equal = below
    while (equal < neg.length && neg[equal] === p) equal++
    wins += below + (equal - below) / 2
  }
  return wins / (pos.length * neg.length)
}

/**
 * Sensitivity TP/(TP+FN), specificity TN/(TN+FP) for malignancy at `threshold` (probability ≥
 * threshold → malignant), and the confusion matrix. Null where a class has no node (0/0).
 */
export function classify(nodes: ClassifiedNode[], threshold = 0.5): ClassificationResult {
  const m: ConfusionMatrix = { benign: { benign: 0, malignant: 0 }, malignant: { benign: 0, malignant: 0 } }
  for (const n of nodes) m[n.malignant ? 'malignant' : 'benign'][n.probability >= threshold ? 'malignant' : 'benign']++
  const positives = m.malignant.benign + m.malignant.malignant
  const negatives = m.benign.benign + m.benign.malignant
  return {
    nodes: nodes.length,
    roc_auc: rocAuc(nodes),
    threshold,
    sensitivity: positives ? m.malignant.malignant / positives : null,
    specificity: negatives ? m.benign.benign / negatives : null,
    confusion_matrix: m,
  }
}
