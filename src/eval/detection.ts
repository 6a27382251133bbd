import { boxGiou, boxIou } from './boxes.js'
import { averagePrecision, cpm, FROC_RATES, frocCurve, ScoredDetection, sensitivityAtRate } from './froc.js'
import { Matching, MatchCriterion, matchNodes, nodeIntersections } from './matching.js'
import type { NodeMap } from './nodes.js'
import { mean, median } from './aggregate.js'

/** The IoU thresholds of the AP summary. */
export const AP_IOUS = [0.1, 0.25, 0.5]

/** What one case contributes to the pooled detection metrics. */
export interface CaseDetection {
  predScores: number[]
  predShortAxisMm: number[]
  gtShortAxisMm: number[]
  /** Matching under the chosen criterion (drives TP/FP/FN, FROC, node Dice, box IoU). */
  matching: Matching
  /** Matchings at IoU 0.1, 0.25, 0.5 for AP, keyed by the threshold as text. */
  matchingAtIou: Record<string, Matching>
  /** Per matched predicted node p: voxel Dice, box IoU and GIoU with its true node. */
  pairs: Map<number, { dice: number; boxIou: number; giou: number }>
}

export function detectCase(pred: NodeMap, gt: NodeMap, criterion: MatchCriterion): CaseDetection {
  const intersections = nodeIntersections(pred, gt)
  const matching = matchNodes(pred, gt, criterion, intersections)
  const matchingAtIou: Record<string, Matching> = {}
  for (const t of AP_IOUS) matchingAtIou[String(t)] = matchNodes(pred, gt, { by: 'iou', threshold: t }, intersections)
  const pairs = new Map<number, { dice: number; boxIou: number; giou: number }>()
  matching.forEach((g, p) => {
    if (g < 0) return
    const inter = intersections.get(p * gt.nodes.length + g) ?? 0
    const a = pred.nodes[p], b = gt.nodes[g]
    pairs.set(p, { dice: (2 * inter) / (a.voxels + b.voxels), boxIou: boxIou(a.box, b.box), giou: boxGiou(a.box, b.box) })
  })
  return {
    predScores: pred.nodes.map((n) => n.score),
    predShortAxisMm: pred.nodes.map((n) => n.shortAxisMm),
    gtShortAxisMm: gt.nodes.map((n) => n.shortAxisMm),
    matching, matchingAtIou, pairs,
  }
}

/** Node size strata by short axis (mm). */
export const SIZE_STRATA: { name: string; min: number; max: number }[] = [
  { name: '<5mm', min: 0, max: 5 },
  { name: '5-10mm', min: 5, max: 10 },
  { name: '>=10mm', min: 10, max: Infinity },
]
export type SizeStratum = (typeof SIZE_STRATA)[number]

export interface DetectionSummary {
  scans: number
  gt_nodes: number
  pred_nodes: number
  tp: number
  fp: number
  fn: number
  sensitivity: number | null
  precision: number | null
  f1: number | null
  fp_per_scan: number
  node_dice_mean: number | null
  node_dice_median: number | null
  box_iou_mean: number | null
  giou_mean: number | null
  froc: { fp_per_scan: number[]; sensitivity: number[] | null }
  cpm: number | null
  ap: Record<string, number | null>
  map: number | null
  /** Every operating point, for plots. */
  froc_curve: { fp_per_scan: number[]; sensitivity: number[] } | null
}

/**
 * Pooled detection metrics over cases. Counts: TP = matched predicted nodes, FP = unmatched ones,
 * FN = unmatched true nodes; sensitivity TP/(TP+FN), precision TP/(TP+FP), F1 2TP/(2TP+FP+FN),
 * FP per scan FP/scans. Empty cases: a ratio with no node to count (0/0) is null, never 0 or 1.
 *
 * With a size stratum, the matching is kept (never redone) and restricted: true nodes of that size,
 * predicted nodes matched to them, and unmatched predicted nodes of that size (their own short axis).
 */
export function summarizeDetection(cases: CaseDetection[], stratum: SizeStratum | null = null): DetectionSummary {
  const inStratum = (mm: number) => !stratum || (mm >= stratum.min && mm < stratum.max)
  const scored = (c: CaseDetection, matching: Matching): ScoredDetection[] => {
    const out: ScoredDetection[] = []
    matching.forEach((g, p) => {
      const keep = g >= 0 ? inStratum(c.gtShortAxisMm[g]) : inStratum(c.predShortAxisMm[p])
      if (keep) out.push({ score: c.predScores[p], truePositive: g >= 0 })
    })
    return out
  }
  const detections = cases.flatMap((c) => scored(c, c.matching))
  const gtNodes = cases.reduce((s, c) => s + c.gtShortAxisMm.filter(inStratum).length, 0)
  const tp = detections.filter((d) => d.truePositive).length
  const fp = detections.length - tp
  const fn = gtNodes - tp
  const pairStats = cases.flatMap((c) => [...c.pairs].filter(([p]) => inStratum(c.gtShortAxisMm[c.matching[p]])).map(([, s]) => s))
  const curve = frocCurve(detections, gtNodes, cases.length)
  const ap: Record<string, number | null> = {}
  for (const t of AP_IOUS) ap[String(t)] = averagePrecision(cases.flatMap((c) => scored(c, c.matchingAtIou[String(t)])), gtNodes)
  const apValues = Object.values(ap).filter((v): v is number => v !== null)
  return {
    scans: cases.length,
    gt_nodes: gtNodes,
    pred_nodes: detections.length,
    tp, fp, fn,
    sensitivity: gtNodes ? tp / gtNodes : null,
    precision: detections.length ? tp / detections.length : null,
    f1: tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : null,
    fp_per_scan: cases.length ? fp / cases.length : 0,
    node_dice_mean: mean(pairStats.map((s) => s.dice)),
    node_dice_median: median(pairStats.map((s) => s.dice)),
    box_iou_mean: mean(pairStats.map((s) => s.boxIou)),
    giou_mean: mean(pairStats.map((s) => s.giou)),
    froc: { fp_per_scan: FROC_RATES, sensitivity: curve ? FROC_RATES.map((r) => sensitivityAtRate(curve, r)) : null },
    cpm: cpm(curve),
    ap,
    map: apValues.length === AP_IOUS.length ? apValues.reduce((s, v) => s + v, 0) / apValues.length : null,
    froc_curve: curve ? { fp_per_scan: curve.fpPerScan, sensitivity: curve.sensitivity } : null,
  }
}

/** The summary over all nodes plus one per size stratum. */
export function detectionReport(cases: CaseDetection[]): DetectionSummary & { by_size: Record<string, DetectionSummary> } {
  const bySize: Record<string, DetectionSummary> = {}
  for (const s of SIZE_STRATA) bySize[s.name] = summarizeDetection(cases, s)
  return { ...summarizeDetection(cases), by_size: bySize }
}
