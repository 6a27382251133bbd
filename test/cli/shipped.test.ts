/** README and help examples name samples/ and models/ as in the repository; from any other folder they mean the shipped ones. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CLI, REPO, tempDir } from '../helpers.js'

function nodalIn(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' })
}

test('from another folder, samples/... names the shipped sample, with a note', () => {
  const tmp = tempDir()
  try {
    const r = nodalIn(tmp.path, 'info', 'samples/dicom/ct-3slice', '--json')
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stderr, /samples\/dicom\/ct-3slice is not in this folder; using the one shipped with nodal/)
    assert.equal(JSON.parse(r.stdout).shape.join('x'), '512x512x3')
  } finally {
    tmp.cleanup()
  }
})

test('a samples/ path that exists in the folder is used as given; an output is never redirected into the package', () => {
  const tmp = tempDir()
  try {
    mkdirSync(join(tmp.path, 'samples'))
    writeFileSync(join(tmp.path, 'samples', 'note.txt'), 'not a scan')
    const local = nodalIn(tmp.path, 'info', 'samples/note.txt')
    assert.notEqual(local.status, 0)
    assert.doesNotMatch(local.stderr, /shipped/)
    const out = 'samples/converted.nii.gz'
    const r = nodalIn(tmp.path, 'convert', 'samples/dicom/ct-3slice', out)
    assert.equal(r.status, 0, r.stderr)
    assert.ok(existsSync(join(tmp.path, out)), 'written in the folder the user ran nodal in')
    assert.ok(!existsSync(join(REPO, out)), 'nothing written into the package')
  } finally {
    tmp.cleanup()
  }
})

test('--model models/<name> from another folder opens the shipped bundle', () => {
  const tmp = tempDir()
  try {
    const r = nodalIn(tmp.path, 'predict', 'missing.nii.gz', '--model', 'models/nodes_multi', '--out', 'pred')
    assert.equal(r.status, 2)
    assert.match(r.stderr, /models\/nodes_multi is not in this folder; using the one shipped/)
    assert.match(r.stderr, /missing\.nii\.gz/, 'the error is about the input, not the model')
  } finally {
    tmp.cleanup()
  }
})
