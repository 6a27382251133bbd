import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { evaluateCommand } from '../../src/cli/evaluate.js'
import { NodalError } from '../../src/errors.js'
import { writeVolume } from '../../src/io/index.js'
import { Volume } from '../../src/volume/volume.js'
import { emptyVolume, paintBall, paintBox } from './scenes.js'

const KEYS = 'tp fp fn tn dice iou precision recall specificity accuracy f1 avd hd hd95 assd nsd boundary_f1 volume_pred_ml volume_gt_ml'.split(' ')

async function dataset(root: string) {
  for (const dir of ['gt', 'pred', 'reader2', 'scores', 'pred_inst']) mkdirSync(join(root, dir), { recursive: true })
  for (let c = 0; c < 3; c++) {
    const gt = emptyVolume([40, 40, 16], [0.8, 0.8, 2])
    paintBall(gt, [10, 10, 8], 5, 1)
    paintBall(gt, [28, 28, 8], 7, 2)
    const pred = emptyVolume([40, 40, 16], [0.8, 0.8, 2])
    paintBall(pred, [11, 10, 8], 5, 1)
    paintBall(pred, [28, 27, 8], 5 + c, 2)
    paintBox(pred, [2, 30, 2], [4, 33, 4], 1)
    const reader2 = emptyVolume([40, 40, 16], [0.8, 0.8, 2])
    paintBall(reader2, [10, 11, 8], 5.5, 1)
    paintBall(reader2, [28, 28, 8], 6.5, 2)
    await writeVolume(gt, join(root, 'gt', `case${c}.nii.gz`))
    await writeVolume(pred, join(root, 'pred', `case${c}.nii.gz`))
    await writeVolume(reader2, join(root, 'reader2', `case${c}.nii.gz`))
    const prob = pred.withData(Float32Array.from(pred.data, (v) => (v === 2 ? 0.9 : v === 1 ? 0.6 : 0.05)))
    await writeVolume(prob, join(root, 'scores', `case${c}.nii.gz`))
  }
}

async function run(args: string[]): Promise<number> {
  const warn = console.error
  console.error = () => {}
  const log = console.log
  console.log = () => {}
  try {
    return await evaluateCommand.run(args)
  } finally {
    console.error = warn
    console.log = log
  }
}

test('nodal evaluate writes metrics.json, metrics.csv and a self-contained report.html', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nodal-eval-'))
  try {
    await dataset(root)
    const out = join(root, 'out')
    const rc = await run(['--pred', join(root, 'pred'), '--gt', join(root, 'gt'), '--labels', '1,2', '--pred-scores', join(root, 'scores'),
      '--second-reader', join(root, 'reader2'), '--out', out])
    assert.equal(rc, 0)
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'))
    assert.equal(m.cases.length, 3)
    for (const key of KEYS) assert.ok(key in m.cases[0].labels['1'], `missing ${key}`)
    assert.ok(m.cases[0].labels['2'].dice > 0.5)
    for (const key of ['mean', 'median', 'std']) assert.ok(key in m.aggregate['1'].hd95)
    assert.ok(m.aggregate['2'].dsc_agg > 0.5 && m.aggregate['2'].dsc_agg < 1)
    // label 1: the ball is found in every case, the box is a false positive in every case
    assert.equal(m.detection['1'].tp, 3)
    assert.equal(m.detection['1'].fp, 3)
    assert.equal(m.detection['1'].fp_per_scan, 1)
    assert.equal(m.detection['1'].froc.sensitivity.length, 7)
    assert.ok('>=10mm' in m.detection['2'].by_size)
    assert.ok(m.detection.all)
    assert.equal(m.classification.nodes, 6)
    assert.equal(m.classification.roc_auc, 1)
    assert.deepEqual(Object.keys(m.readers), ['model_vs_reader1', 'model_vs_reader2', 'reader2_vs_reader1'])
    const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n')
    assert.equal(csv.length, 1 + 3 * 2)
    assert.ok(csv[0].startsWith('case,label,resampled,tp,fp,fn,tn,dice'))
    const html = readFileSync(join(out, 'report.html'), 'utf8')
    assert.ok(!/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(html), 'the page must not load anything from a network')
    assert.ok(!/<script/i.test(html))
    assert.equal((html.match(/<svg /g) ?? []).length, (html.match(/<\/svg>/g) ?? []).length)
    assert.ok((html.match(/<svg /g) ?? []).length >= 4, 'FROC, size and Bland-Altman plots')
    assert.ok(html.includes('data:image/png;base64,'), 'worst-case thumbnails inline')
    assert.deepEqual(readdirSync(out).sort(), ['metrics.csv', 'metrics.json', 'report.html'])
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('a prediction on another grid is resampled by world coordinates, with a warning', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nodal-eval-'))
  try {
    mkdirSync(join(root, 'gt')); mkdirSync(join(root, 'pred'))
    const gt = paintBox(emptyVolume([20, 20, 10], [1, 1, 2]), [5, 5, 2], [12, 12, 6])
    // the same box on a grid of half the spacing, shifted origin: voxel (2i+1, 2j+1, 2k+1) sits at world (i, j, 2k) + ...
    const fine = new Volume(new Uint8Array(40 * 40 * 20), [40, 40, 20], [0.5, 0.5, 1], [-0.25, -0.25, -0.5])
    paintBox(fine, [10, 10, 4], [25, 25, 13])
    await writeVolume(gt, join(root, 'gt', 'a.nii.gz'))
    await writeVolume(fine, join(root, 'pred', 'a.nii.gz'))
    const warnings: string[] = []
    const warn = console.error, log = console.log
    console.error = (m: string) => { warnings.push(m) }
    console.log = () => {}
    try {
      assert.equal(await evaluateCommand.run(['--pred', join(root, 'pred'), '--gt', join(root, 'gt'), '--out', join(root, 'out')]), 0)
    } finally {
      console.error = warn; console.log = log
    }
    assert.ok(warnings.some((w) => /resampled/.test(w)))
    const m = JSON.parse(readFileSync(join(root, 'out', 'metrics.json'), 'utf8'))
    assert.equal(m.cases[0].resampled, true)
    assert.equal(m.cases[0].labels['1'].dice, 1)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('instance maps with scores and classes, centre matching, and a label absent from every case', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nodal-eval-'))
  try {
    for (const dir of ['gt', 'pred', 'gt_inst', 'pred_inst']) mkdirSync(join(root, dir))
    // two touching true nodes (one benign, one malignant) that connected components would merge
    const gt = emptyVolume([30, 12, 6]), gtInst = emptyVolume([30, 12, 6])
    paintBox(gt, [2, 2, 1], [9, 9, 4], 1); paintBox(gtInst, [2, 2, 1], [9, 9, 4], 1)
    paintBox(gt, [10, 2, 1], [17, 9, 4], 2); paintBox(gtInst, [10, 2, 1], [17, 9, 4], 2)
    const pred = emptyVolume([30, 12, 6]), predInst = emptyVolume([30, 12, 6])
    paintBox(pred, [3, 2, 1], [9, 9, 4], 1); paintBox(predInst, [3, 2, 1], [9, 9, 4], 7)
    paintBox(pred, [10, 2, 1], [16, 9, 4], 1); paintBox(predInst, [10, 2, 1], [16, 9, 4], 8)
    paintBox(pred, [22, 2, 1], [25, 5, 3], 1); paintBox(predInst, [22, 2, 1], [25, 5, 3], 9)
    await writeVolume(gt, join(root, 'gt', 'a.nii.gz'))
    await writeVolume(gtInst, join(root, 'gt_inst', 'a.nii.gz'))
    await writeVolume(pred, join(root, 'pred', 'a.nii.gz'))
    await writeVolume(predInst, join(root, 'pred_inst', 'a.nii.gz'))
    writeFileSync(join(root, 'gt_inst', 'a.json'), JSON.stringify({ instances: { 1: { class: 'benign' }, 2: { class: 'malignant' } } }))
    writeFileSync(join(root, 'pred_inst', 'a.json'), JSON.stringify({ instances: {
      7: { score: 0.9, probability_malignant: 0.2 }, 8: { score: 0.8, probability_malignant: 0.7 }, 9: { score: 0.3, probability_malignant: 0.9 } } }))
    const out = join(root, 'out')
    assert.equal(await run(['--pred', join(root, 'pred'), '--gt', join(root, 'gt'), '--labels', '1,2,3', '--match', 'centre',
      '--pred-instances', join(root, 'pred_inst'), '--gt-instances', join(root, 'gt_inst'), '--out', out]), 0)
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'))
    const all = m.detection.all
    assert.deepEqual([all.gt_nodes, all.tp, all.fp, all.fn], [2, 2, 1, 0])
    // the false positive scores lowest: 2 true nodes found before any false one
    assert.equal(all.froc.sensitivity[0], 1)
    assert.equal(m.classification.nodes, 2)
    assert.equal(m.classification.roc_auc, 1)
    assert.deepEqual(m.classification.confusion_matrix, { benign: { benign: 1, malignant: 0 }, malignant: { benign: 0, malignant: 1 } })
    // label 3 is in no mask: both-empty conventions
    const l3 = m.cases[0].labels['3']
    assert.deepEqual([l3.dice, l3.iou, l3.hd, l3.hd95, l3.assd, l3.nsd, l3.boundary_f1, l3.tn], [1, 1, 0, 0, 0, 1, 1, 30 * 12 * 6])
    assert.equal(m.aggregate['3'].dsc_agg, 1)
    assert.equal(m.detection['3'].sensitivity, null)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('malignant nodes over every node by P(malignant): the sweep passes the called-malignant operating point', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nodal-eval-'))
  try {
    for (const dir of ['gt', 'pred', 'gt_inst', 'pred_inst']) mkdirSync(join(root, dir))
    // truth: malignant A and B, benign C. Prediction: A called malignant (p 0.9), B called benign (p 0.3),
    // C benign (p 0.4), D where nothing is (p 0.1)
    const shape: [number, number, number] = [40, 10, 6]
    const gt = emptyVolume(shape), gtInst = emptyVolume(shape), pred = emptyVolume(shape), predInst = emptyVolume(shape)
    const boxes: [number, number][] = [[1, 6], [10, 15], [19, 24], [30, 35]]
    boxes.slice(0, 3).forEach(([a, b], i) => { paintBox(gt, [a, 2, 1], [b, 7, 4], i < 2 ? 2 : 1); paintBox(gtInst, [a, 2, 1], [b, 7, 4], i + 1) })
    boxes.forEach(([a, b], i) => { paintBox(pred, [a, 2, 1], [b, 7, 4], i === 0 ? 2 : 1); paintBox(predInst, [a, 2, 1], [b, 7, 4], i + 1) })
    await writeVolume(gt, join(root, 'gt', 'a.nii.gz'))
    await writeVolume(gtInst, join(root, 'gt_inst', 'a.nii.gz'))
    await writeVolume(pred, join(root, 'pred', 'a.nii.gz'))
    await writeVolume(predInst, join(root, 'pred_inst', 'a.nii.gz'))
    const probabilities = [0.9, 0.3, 0.4, 0.1]
    const nodesJson = (p: (number | undefined)[]) => JSON.stringify({ instances: Object.fromEntries(p.map((v, i) => [i + 1, { score: 0.95, probability_malignant: v }])) })
    writeFileSync(join(root, 'pred_inst', 'a.json'), nodesJson(probabilities))
    const evaluateOnce = async (out: string) => {
      assert.equal(await run(['--pred', join(root, 'pred'), '--gt', join(root, 'gt'), '--labels', '1,2',
        '--pred-instances', join(root, 'pred_inst'), '--gt-instances', join(root, 'gt_inst'), '--out', out]), 0)
      return JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'))
    }
    const m = await evaluateOnce(join(root, 'out'))
    const rate = (d: { froc: { fp_per_scan: number[]; sensitivity: number[] } }, r: number) => d.froc.sensitivity[d.froc.fp_per_scan.indexOf(r)]
    // label 2 holds only A: half the malignant nodes, whatever the FP rate
    assert.deepEqual([m.detection['2'].tp, m.detection['2'].fn, rate(m.detection['2'], 4)], [1, 1, 0.5])
    // ranked 0.9 A (TP), 0.4 C (FP), 0.3 B (TP), 0.1 D (FP): sensitivity 0.5 below 1 FP/scan, 1 from 1 FP/scan
    const swept = m.detection.malignant_by_probability
    assert.deepEqual([swept.gt_nodes, swept.pred_nodes, swept.tp, swept.fp], [2, 4, 2, 2])
    assert.deepEqual([rate(swept, 0.5), rate(swept, 1), rate(swept, 2)], [0.5, 1, 1])
    // a node without a probability: no sweep (the label groups stay)
    writeFileSync(join(root, 'pred_inst', 'a.json'), nodesJson([0.9, undefined, 0.4, 0.1]))
    const without = await evaluateOnce(join(root, 'out2'))
    assert.equal(without.detection.malignant_by_probability, undefined)
    assert.equal(without.detection['2'].tp, 1)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('bad input is a one-line NodalError and leaves no output', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nodal-eval-'))
  try {
    mkdirSync(join(root, 'gt')); mkdirSync(join(root, 'pred')); mkdirSync(join(root, 'far'))
    const gt = paintBox(emptyVolume([10, 10, 5]), [2, 2, 1], [5, 5, 3])
    await writeVolume(gt, join(root, 'gt', 'a.nii.gz'))
    await writeVolume(gt, join(root, 'pred', 'b.nii.gz'))
    await writeVolume(new Volume(gt.data, [10, 10, 5], [1, 1, 1], [500, 0, 0]), join(root, 'far', 'a.nii.gz'))
    writeFileSync(join(root, 'notes.txt'), 'x')
    const out = join(root, 'out')
    const cases: [string[], RegExp][] = [
      [['--pred', join(root, 'missing'), '--gt', join(root, 'gt'), '--out', out], /no such file or folder/],
      [['--pred', join(root, 'pred'), '--gt', join(root, 'gt'), '--out', out], /no prediction file has the name/],
      [['--pred', join(root, 'far'), '--gt', join(root, 'gt'), '--out', out], /does not overlap/],
      [['--pred', join(root, 'far'), '--gt', join(root, 'gt'), '--out', out, '--match', 'best'], /--match/],
      [['--pred', join(root, 'far'), '--gt', join(root, 'gt')], /required/],
    ]
    for (const [args, message] of cases) {
      await assert.rejects(run(args), (e: unknown) => e instanceof NodalError && message.test(e.message) && !e.message.includes('\n'))
    }
    assert.equal(existsSync(out), false)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})
