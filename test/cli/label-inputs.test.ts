/**
 * Images given where a label map belongs (evaluate --gt/--pred, export) are refused at once with one line
 * saying why, instead of being scored as thousands of structures for many minutes; a label in neither
 * file is reported, not silently scored as perfect.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeVolume } from '../../src/io/index.js'
import { Volume } from '../../src/volume/volume.js'
import { runCli, tempDir } from '../helpers.js'

function volumeOf(data: Int16Array | Float32Array): Volume {
  return new Volume(data, [32, 32, 8], [1, 1, 2], [0, 0, 0])
}

test('evaluate and export refuse an image given as a label map (non-integer, or thousands of values), in under 10 s', async () => {
  const tmp = tempDir()
  try {
    const n = 32 * 32 * 8
    const ct = join(tmp.path, 'ct.nii.gz'), pet = join(tmp.path, 'pet.nii.gz'), labels = join(tmp.path, 'labels.nii.gz')
    await writeVolume(volumeOf(Int16Array.from({ length: n }, (_, v) => (v % 3000) - 1000)), ct)
    await writeVolume(volumeOf(Float32Array.from({ length: n }, (_, v) => (v % 97) / 7)), pet)
    await writeVolume(volumeOf(Int16Array.from({ length: n }, (_, v) => (v % 512 < 40 ? 1 : 0))), labels)
    assert.equal(runCli(['convert', ct, join(tmp.path, 'ref'), '--to', 'dicom']).code, 0)
    const cases: [string[], RegExp][] = [
      [['evaluate', '--gt', labels, '--pred', ct, '--out', join(tmp.path, 'e1')], /ct\.nii\.gz: holds (more than 1000 distinct values|negative values)/],
      [['evaluate', '--gt', pet, '--pred', labels, '--out', join(tmp.path, 'e2')], /pet\.nii\.gz: holds non-integer values .*an image, not a label map/],
      [['export', ct, '--reference', join(tmp.path, 'ref'), '--format', 'rtstruct', '--out', join(tmp.path, 'x.dcm')], /ct\.nii\.gz: holds negative values/],
      [['export', pet, '--reference', join(tmp.path, 'ref'), '--format', 'seg', '--out', join(tmp.path, 'x.dcm')], /pet\.nii\.gz: holds non-integer values/],
    ]
    for (const [args, message] of cases) {
      const start = Date.now()
      const r = runCli(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, message)
      assert.ok(Date.now() - start < 10_000)
    }
    const ok = runCli(['evaluate', '--gt', labels, '--pred', labels, '--out', join(tmp.path, 'e3')])
    assert.equal(ok.code, 0, ok.stderr)
    assert.doesNotMatch(ok.stderr, /warning/)
    // a label in neither file: the empty-mask convention is kept in the numbers, but said out loud
    const absent = runCli(['evaluate', '--gt', labels, '--pred', labels, '--labels', '3', '--out', join(tmp.path, 'e4')])
    assert.equal(absent.code, 0, absent.stderr)
    assert.match(absent.stderr, /warning: label 3 is in neither the ground truth nor the prediction of any case/)
    const metrics = JSON.parse(readFileSync(join(tmp.path, 'e4', 'metrics.json'), 'utf8'))
    assert.equal(metrics.aggregate['3'].dice.mean, 1)
    assert.ok(metrics.warnings.some((w: string) => /label 3 is in neither/.test(w)))
  } finally {
    tmp.cleanup()
  }
})
