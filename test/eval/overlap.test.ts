import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  absoluteVolumeDifference, accuracy, avdRelative, confusion, dice, f1Score, iou, precision, recall, specificity,
} from '../../src/eval/overlap.js'
import { aggregatedDice, summarize } from '../../src/eval/aggregate.js'

const counts = (pred: number[], gt: number[]) => confusion(Uint8Array.from(pred), Uint8Array.from(gt))

test('overlap metrics on hand counts: TP 3, FP 1, FN 2, TN 4', () => {
  const c = counts([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 1, 1, 0, 0, 0, 0])
  assert.deepEqual(c, { tp: 3, fp: 1, fn: 2, tn: 4 })
  assert.equal(dice(c), 6 / 9)
  assert.equal(iou(c), 3 / 6)
  assert.equal(precision(c), 3 / 4)
  assert.equal(recall(c), 3 / 5)
  assert.equal(specificity(c), 4 / 5)
  assert.equal(accuracy(c), 7 / 10)
  assert.equal(f1Score(c), dice(c))
  assert.ok(Math.abs(absoluteVolumeDifference(c, 0.002) - 0.002) < 1e-12)
  assert.equal(avdRelative(c), 1 / 5)
})

test('overlap metrics are symmetric where they should be', () => {
  const a = [1, 1, 0, 1, 0, 1, 0, 0], b = [1, 0, 0, 1, 1, 1, 1, 0]
  const ab = counts(a, b), ba = counts(b, a)
  assert.equal(dice(ab), dice(ba))
  assert.equal(iou(ab), iou(ba))
  assert.equal(precision(ab), recall(ba))
})

test('empty masks: both empty → 1 for every ratio; one empty → Dice/IoU 0, undefined ratios null', () => {
  const both = counts([0, 0, 0], [0, 0, 0])
  for (const f of [dice, iou, precision, recall, specificity, accuracy, f1Score]) assert.equal(f(both), 1)
  assert.equal(absoluteVolumeDifference(both, 1), 0)
  assert.equal(avdRelative(both), 0)
  const missed = counts([0, 0, 0], [1, 1, 0])
  assert.equal(dice(missed), 0)
  assert.equal(iou(missed), 0)
  assert.equal(precision(missed), null)
  assert.equal(recall(missed), 0)
  const spurious = counts([1, 0, 0], [0, 0, 0])
  assert.equal(dice(spurious), 0)
  assert.equal(recall(spurious), null)
  assert.equal(precision(spurious), 0)
  assert.equal(avdRelative(spurious), null)
  assert.equal(specificity(counts([1, 1], [1, 1])), null)
})

test('aggregated Dice weighs cases by physical volume, not voxel count', () => {
  // case A: 1 mm³ voxels, 100 TP, 100 FN; case B: 8 mm³ voxels, 100 TP (800 mm³)
  const dsc = aggregatedDice([
    { tpMm3: 100, predMm3: 100, gtMm3: 200 },
    { tpMm3: 800, predMm3: 800, gtMm3: 800 },
  ])
  assert.equal(dsc, (2 * 900) / (900 + 1000))
  assert.equal(aggregatedDice([{ tpMm3: 0, predMm3: 0, gtMm3: 0 }]), 1)
})

test('summaries skip nulls and use the population standard deviation', () => {
  const s = summarize([1, null, 3, 5, 7])
  assert.deepEqual(s, { mean: 4, median: 4, std: Math.sqrt(5), n: 4 })
  assert.deepEqual(summarize([null]), { mean: null, median: null, std: null, n: 0 })
})
