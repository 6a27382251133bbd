import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { evaluateCommand } from '../../src/cli/evaluate.js'
import type { OutputClass } from '../../src/bundle/index.js'
import { writeCaseOutputs } from '../../src/infer/outputs.js'
import { writeVolume } from '../../src/io/index.js'
import { BACKGROUND, ALL_NODES_CLASSES, fakeCase, fakeModel, fakeResult } from '../infer/fake-prediction.js'
import { emptyVolume, paintBox } from './scenes.js'

const SHAPE: [number, number, number] = [40, 20, 10]
const BENIGN: [[number, number, number], [number, number, number]] = [[2, 2, 2], [7, 7, 6]]
const MALIGNANT: [[number, number, number], [number, number, number]] = [[14, 2, 2], [21, 9, 7]]
const FALSE_POSITIVE: [[number, number, number], [number, number, number]] = [[30, 12, 2], [33, 15, 5]]

/**
 * <root>/gt/case_a.nii.gz with a benign (1) and a malignant (2) node, and <root>/pred/case_a/ as nodal
 * predict writes it, from a model with `classes`: `predicted` gives each predicted box its network class
 * and foreground probability (the node's score in nodes.json).
 */
async function setup(root: string, classes: OutputClass[], predicted: Array<[typeof BENIGN, number, number]>): Promise<void> {
  mkdirSync(join(root, 'gt'))
  const gt = emptyVolume(SHAPE)
  paintBox(gt, ...BENIGN, 1)
  paintBox(gt, ...MALIGNANT, 2)
  await writeVolume(gt, join(root, 'gt', 'case_a.nii.gz'))
  const labels = emptyVolume(SHAPE)
  const foreground = new Float32Array(labels.data.length)
  for (const [[lo, hi], cls, p] of predicted) {
    paintBox(labels, lo, hi, cls)
    for (let n = 0; n < labels.data.length; n++) if (labels.data[n] === cls && foreground[n] === 0) foreground[n] = p
  }
  const result = fakeResult(labels, classes, { foreground })
  await writeCaseOutputs(join(root, 'pred'), fakeCase('case_a', fakeModel(classes), result, { formats: ['nifti', 'json', 'csv'] }))
}

async function evaluateQuietly(args: string[]): Promise<{ metrics: any; warnings: string[] }> {
  const warnings: string[] = []
  const warn = console.error, log = console.log
  console.error = (m: string) => { warnings.push(m) }
  console.log = () => {}
  try {
    assert.equal(await evaluateCommand.run(args), 0)
  } finally {
    console.error = warn; console.log = log
  }
  const out = args[args.indexOf('--out') + 1]!
  return { metrics: JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')), warnings }
}

test("nodal evaluate reads nodal predict's output: an all-nodes model is compared with every true node, scored by nodes.json", async () => {
  const root = mkdtempSync(join(tmpdir(), 'nodal-eval-predict-'))
  try {
    await setup(root, ALL_NODES_CLASSES, [[BENIGN, 1, 0.7], [MALIGNANT, 1, 0.8], [FALSE_POSITIVE, 1, 0.3]])
    const nodesJson = join(root, 'pred', 'case_a', 'nodes.json')
    assert.deepEqual(Object.values<any>(JSON.parse(readFileSync(nodesJson, 'utf8')).instances).map((n) => n.score), [0.7, 0.8, 0.3])
    const args = ['--pred', join(root, 'pred'), '--gt', join(root, 'gt'), '--out', join(root, 'out')]
    const { metrics: m, warnings } = await evaluateQuietly(args)
    // the 'node' class (dataset labels 1 and 2) against ground-truth labels 1 and 2 together
    assert.deepEqual(m.labels, [1])
    assert.ok(warnings.some((w) => /class 'node' stands for dataset labels 1, 2/.test(w)), warnings.join('\n'))
    assert.deepEqual(m.label_translation, { ground_truth: { 2: 1 }, prediction: { 1: 1 } })
    for (const group of ['1', 'all']) {
      const d = m.detection[group]
      assert.deepEqual([d.gt_nodes, d.pred_nodes, d.tp, d.fp, d.fn], [2, 3, 2, 1, 0], group)
      assert.equal(d.sensitivity, 1)
    }
    const truth = 6 * 6 * 5 + 8 * 8 * 6, predictedVoxels = truth + 4 * 4 * 4
    assert.ok(Math.abs(m.cases[0].labels['1'].dice - (2 * truth) / (truth + predictedVoxels)) < 1e-9, 'Dice of all nodes against all nodes')
    // scores from nodes.json: the false positive (0.3) ranks last, both true nodes come first
    assert.equal(m.detection.all.froc.sensitivity[0], 1)
    const nodes = JSON.parse(readFileSync(nodesJson, 'utf8'))
    nodes.instances['3'].score = 0.95
    writeFileSync(nodesJson, JSON.stringify(nodes))
    const again = await evaluateQuietly([...args.slice(0, -1), join(root, 'out2')])
    assert.equal(again.metrics.detection.all.froc.sensitivity[0], 0, 'now the false positive ranks first')
    // --labels in dataset labels: 1,2 is the one evaluated label; one case folder is read as well
    const one = await evaluateQuietly(['--pred', join(root, 'pred', 'case_a'), '--gt', join(root, 'gt', 'case_a.nii.gz'), '--labels', '1,2', '--out', join(root, 'out3')])
    assert.deepEqual(one.metrics.labels, [1])
    assert.equal(one.metrics.detection.all.sensitivity, 1)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test("a predict output's class indices are translated to the dataset labels they stand for", async () => {
  const root = mkdtempSync(join(tmpdir(), 'nodal-eval-predict-'))
  try {
    // a malignant-only model: network class 1 is dataset label 2
    await setup(root, [BACKGROUND, { index: 1, name: 'malignant_node', dataset_labels: [2] }], [[MALIGNANT, 1, 0.9]])
    const { metrics: m } = await evaluateQuietly(['--pred', join(root, 'pred'), '--gt', join(root, 'gt'), '--out', join(root, 'out')])
    assert.deepEqual(m.labels, [1, 2])
    assert.equal(m.label_translation, undefined)
    assert.deepEqual([m.detection['2'].tp, m.detection['2'].fp, m.detection['2'].fn], [1, 0, 0])
    assert.deepEqual([m.detection['1'].tp, m.detection['1'].fn], [0, 1])
    assert.equal(m.cases[0].labels['2'].dice, 1)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})
