import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli, tempDir } from '../helpers.js'

test('nodal demo runs end to end on built-in data and the clinical outputs carry the ground truth exactly', () => {
  const tmp = tempDir()
  try {
    const out = join(tmp.path, 'demo')
    const r = runCli(['demo', '--out', out])
    assert.equal(r.code, 0, r.stderr)
    for (const f of ['dicom/rtstruct.dcm', 'dicom/seg.dcm', 'eval/rtstruct/report.html', 'phantom/dataset.json']) {
      assert.ok(existsSync(join(out, f)), f)
    }
    for (const kind of ['rtstruct', 'seg']) {
      const metrics = JSON.parse(readFileSync(join(out, 'eval', kind, 'metrics.json'), 'utf8'))
      for (const label of ['1', '2']) assert.equal(metrics.cases[0].labels[label].dice, 1, `${kind} label ${label}`)
    }
    assert.equal(runCli(['demo', '--out', out]).code, 0, 'a previous demo folder is replaced')
  } finally {
    tmp.cleanup()
  }
})
