import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { prepareOutput } from '../../src/cli/demo.js'
import { NodalError } from '../../src/errors.js'
import { runCli, tempDir } from '../helpers.js'

test('nodal demo runs end to end on built-in data: the shipped multi-stage model finds and classifies nodes on a phantom PET/CT and a real CT', () => {
  const tmp = tempDir()
  try {
    const out = join(tmp.path, 'demo')
    const r = runCli(['demo', '--out', out])
    assert.equal(r.code, 0, r.stderr)
    for (const f of ['pred/ct/labels.nii.gz', 'pred/ct/nodes.json', 'pred/ct/rtstruct.dcm', 'pred/ct/seg.dcm', 'pred/ct/report.html', 'pred/ct/cam.nii.gz', 'eval/phantom/metrics.json', 'real/dataset.json']) {
      assert.ok(existsSync(join(out, f)), f)
    }
    const nodes = JSON.parse(readFileSync(join(out, 'pred', 'ct', 'nodes.json'), 'utf8'))
    assert.equal(nodes.stage2.classifier, 'petct', 'PET was given, so the PET/CT classifier ran')
    // loose bounds: the demo checks the pipeline runs the models; bench/malignancy.ts measures them
    const phantom = JSON.parse(readFileSync(join(out, 'eval', 'phantom', 'metrics.json'), 'utf8'))
    assert.ok(phantom.detection.all.tp >= 1, `no true node found on the phantom: ${JSON.stringify(phantom.detection.all)}`)
    const realPred = readdirSync(join(out, 'pred-real'))
    assert.equal(realPred.length, 1)
    assert.equal(JSON.parse(readFileSync(join(out, 'pred-real', realPred[0]!, 'nodes.json'), 'utf8')).stage2.classifier, 'ct')
    assert.ok(existsSync(join(out, 'eval', 'real', 'metrics.json')))
    // the DICOM-SEG nodal predict wrote carries its labels exactly
    const seg = JSON.parse(readFileSync(join(out, 'eval', 'seg', 'metrics.json'), 'utf8'))
    for (const [label, m] of Object.entries(seg.cases[0].labels) as [string, { dice: number }][]) assert.equal(m.dice, 1, `SEG label ${label}`)
    assert.match(r.stdout, /demo finished/)
  } finally {
    tmp.cleanup()
  }
})

test('the demo replaces a previous demo folder and refuses any other non-empty folder', () => {
  const tmp = tempDir()
  try {
    const previous = join(tmp.path, 'previous')
    prepareOutput(previous)
    writeFileSync(join(previous, 'old.txt'), 'x')
    prepareOutput(previous)
    assert.deepEqual(readdirSync(previous), ['.nodal-demo'])
    const other = join(tmp.path, 'other')
    mkdirSync(other)
    writeFileSync(join(other, 'mine.txt'), 'keep')
    assert.throws(() => prepareOutput(other), (e: unknown) => e instanceof NodalError && /not empty/.test(e.message))
    assert.equal(readFileSync(join(other, 'mine.txt'), 'utf8'), 'keep')
  } finally {
    tmp.cleanup()
  }
})
