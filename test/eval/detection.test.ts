import { test } from 'node:test'
import assert from 'node:assert/strict'
import { boxGiou, boxIou } from '../../src/eval/boxes.js'
import { classify, rocAuc } from '../../src/eval/classification.js'
import { detectionReport, summarizeDetection } from '../../src/eval/detection.js'
import { averagePrecision, cpm, frocCurve, sensitivityAtRate } from '../../src/eval/froc.js'
import { detectCase } from '../../src/eval/detection.js'
import { matchNodes, parseMatchCriterion } from '../../src/eval/matching.js'
import { attachScores, nodesFromLabelMap } from '../../src/eval/nodes.js'
import { emptyVolume, paintBox } from './scenes.js'

const near = (a: number | null, b: number, tol = 1e-9) => assert.ok(a !== null && Math.abs(a - b) <= tol, `${a} vs ${b}`)

test('box IoU and GIoU of hand-computed boxes', () => {
  const a = { min: [0, 0, 0] as [number, number, number], max: [2, 2, 2] as [number, number, number] }
  const b = { min: [1, 0, 0] as [number, number, number], max: [3, 2, 2] as [number, number, number] }
  near(boxIou(a, b), 4 / 12)
  near(boxGiou(a, b), 4 / 12)
  const c = { min: [4, 0, 0] as [number, number, number], max: [6, 2, 2] as [number, number, number] }
  near(boxIou(a, c), 0)
  near(boxGiou(a, c), 0 - (24 - 16) / 24)
  near(boxGiou(a, a), 1)
})

test('FROC, CPM and AP on a pooled list with known answers', () => {
  // 4 true nodes over 2 scans; detections by descending score: TP, FP, TP, FP, FP, TP
  const d = [[0.9, true], [0.8, false], [0.7, true], [0.6, false], [0.5, false], [0.4, true]].map(([score, tp]) => ({ score: score as number, truePositive: tp as boolean }))
  const curve = frocCurve(d, 4, 2)!
  assert.deepEqual(curve.fpPerScan, [0, 0, 0.5, 0.5, 1, 1.5, 1.5])
  assert.deepEqual(curve.sensitivity, [0, 0.25, 0.25, 0.5, 0.5, 0.5, 0.75])
  assert.equal(sensitivityAtRate(curve, 1 / 8), 0.25)
  assert.equal(sensitivityAtRate(curve, 1 / 2), 0.5)
  assert.equal(sensitivityAtRate(curve, 2), 0.75)
  near(cpm(curve), (0.25 + 0.25 + 0.5 + 0.5 + 0.75 + 0.75 + 0.75) / 7)
  // AP: 2 true nodes, TP 0.9, FP 0.8, TP 0.7 → precision 1 up to recall 0.5 (51 points), 2/3 beyond (50 points)
  near(averagePrecision([{ score: 0.9, truePositive: true }, { score: 0.8, truePositive: false }, { score: 0.7, truePositive: true }], 2), (51 + 50 * 2 / 3) / 101)
  assert.equal(averagePrecision([], 3), 0)
  assert.equal(averagePrecision([], 0), null)
  assert.equal(frocCurve(d, 0, 2), null)
})

test('tied scores enter the FROC together', () => {
  const curve = frocCurve([{ score: 1, truePositive: true }, { score: 1, truePositive: false }], 1, 1)!
  assert.deepEqual(curve.fpPerScan, [0, 1])
  assert.equal(sensitivityAtRate(curve, 0.5), 0)
})

/** A scene: true nodes at three sizes, predictions that hit, miss and double up. */
function scene() {
  // square cross-sections of side s: the long axis is the diagonal and the short axis, across it,
  // (s − 1)·√2 + 1 mm as measureNode counts voxel extents: 2.4, 6.7 and 12.3 mm
  const gt = emptyVolume([40, 20, 10])
  paintBox(gt, [1, 1, 1], [2, 2, 3])          // < 5 mm
  paintBox(gt, [8, 1, 1], [12, 5, 5])         // 5-10 mm
  paintBox(gt, [20, 1, 1], [28, 9, 6])        // >= 10 mm
  const pred = emptyVolume([40, 20, 10])
  paintBox(pred, [9, 1, 1], [12, 5, 5])       // finds the middle node: 100 of its 125 voxels
  paintBox(pred, [21, 2, 1], [28, 9, 6])      // finds the large node: 384 of its 486 voxels
  paintBox(pred, [35, 15, 1], [37, 17, 3])    // a false positive, 4.2 mm
  return { gt, pred }
}

test('detection on a synthetic scene: matches, counts, per-node Dice and size strata', () => {
  const { gt, pred } = scene()
  const p = nodesFromLabelMap(pred, [1]), g = nodesFromLabelMap(gt, [1])
  assert.equal(g.nodes.length, 3)
  assert.deepEqual(g.nodes.map((n) => Math.round(n.shortAxisMm * 10) / 10), [2.4, 6.7, 12.3])
  const scores = { '1': { score: 0.9 }, '2': { score: 0.8 }, '3': { score: 0.95 } }
  attachScores(p, scores, null, false)
  const d = detectCase(p, g, { by: 'iou', threshold: 0.1 })
  assert.deepEqual([...d.matching], [1, 2, -1])
  const s = summarizeDetection([d])
  assert.equal(s.tp, 2); assert.equal(s.fp, 1); assert.equal(s.fn, 1)
  near(s.sensitivity, 2 / 3); near(s.precision, 2 / 3); near(s.f1, 4 / 6); near(s.fp_per_scan, 1)
  near(s.node_dice_mean, ((2 * 100) / (100 + 125) + (2 * 384) / (384 + 486)) / 2)
  // the false positive scores highest: sensitivity at 1 FP/scan 2/3, below it 0
  assert.deepEqual(s.froc.sensitivity, [0, 0, 0, 2 / 3, 2 / 3, 2 / 3, 2 / 3])
  const r = detectionReport([d])
  assert.deepEqual([r.by_size['<5mm'].gt_nodes, r.by_size['<5mm'].tp, r.by_size['<5mm'].fp, r.by_size['<5mm'].fn], [1, 0, 1, 1])
  assert.deepEqual([r.by_size['5-10mm'].tp, r.by_size['5-10mm'].fp, r.by_size['5-10mm'].sensitivity], [1, 0, 1])
  assert.deepEqual([r.by_size['>=10mm'].tp, r.by_size['>=10mm'].fp], [1, 0])
})

test('matching is one-to-one and greedy by score', () => {
  const gt = paintBox(emptyVolume([20, 10, 4]), [0, 0, 0], [9, 9, 3])
  const pred = emptyVolume([20, 10, 4])
  paintBox(pred, [0, 0, 0], [3, 9, 3])   // IoU 0.4 with the one true node
  paintBox(pred, [5, 0, 0], [9, 9, 3])   // IoU 0.5
  const p = nodesFromLabelMap(pred, [1]), g = nodesFromLabelMap(gt, [1])
  attachScores(p, { '1': { score: 0.9 }, '2': { score: 0.1 } }, null, false)
  assert.deepEqual([...matchNodes(p, g, { by: 'iou', threshold: 0.1 })], [0, -1])
  attachScores(p, { '1': { score: 0.1 }, '2': { score: 0.9 } }, null, false)
  assert.deepEqual([...matchNodes(p, g, { by: 'iou', threshold: 0.1 })], [-1, 0])
  assert.deepEqual([...matchNodes(p, g, { by: 'iou', threshold: 0.45 })], [-1, 0])
  // centre rule: both centroids lie inside the true node; the higher score claims it
  assert.deepEqual([...matchNodes(p, g, { by: 'centre' })], [-1, 0])
  assert.deepEqual(parseMatchCriterion('iou:0.25'), { by: 'iou', threshold: 0.25 })
  assert.equal(parseMatchCriterion('iou:2'), null)
})

test('node score from a probability map is the maximum inside the node', () => {
  const pred = paintBox(emptyVolume([6, 6, 2]), [1, 1, 0], [2, 2, 1])
  const prob = emptyVolume([6, 6, 2]).withData(new Float32Array(72).fill(0.2))
  prob.data[prob.offset(2, 2, 1)] = 0.7
  prob.data[prob.offset(5, 5, 1)] = 0.99
  const p = nodesFromLabelMap(pred, [1])
  attachScores(p, null, prob, false)
  near(p.nodes[0].score, 0.7, 1e-6)
})

test('ROC AUC with ties, sensitivity, specificity and the confusion matrix', () => {
  const nodes = [
    { malignant: true, probability: 0.9 }, { malignant: true, probability: 0.4 }, { malignant: false, probability: 0.4 },
    { malignant: false, probability: 0.1 }, { malignant: false, probability: 0.6 },
  ]
  // pairs (pos, neg): 0.9 beats all 3; 0.4 ties one, beats one, loses one → (3 + 1.5) / 6
  near(rocAuc(nodes), 4.5 / 6)
  const c = classify(nodes)
  assert.deepEqual(c.confusion_matrix, { benign: { benign: 2, malignant: 1 }, malignant: { benign: 1, malignant: 1 } })
  near(c.sensitivity, 0.5); near(c.specificity, 2 / 3)
  assert.equal(rocAuc([{ malignant: true, probability: 1 }]), null)
  assert.equal(classify([]).sensitivity, null)
})

test('detection with no node anywhere: ratios null, FP per scan 0', () => {
  const none = nodesFromLabelMap(emptyVolume([4, 4, 4]), [1])
  const s = summarizeDetection([detectCase(none, none, { by: 'iou', threshold: 0.1 })])
  assert.deepEqual([s.sensitivity, s.precision, s.f1, s.cpm, s.map, s.node_dice_mean], [null, null, null, null, null, null])
  assert.equal(s.fp_per_scan, 0)
  assert.equal(s.froc.sensitivity, null)
})
