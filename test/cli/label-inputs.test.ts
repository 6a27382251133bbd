/**
 * Images given where a label map belongs (evaluate --gt/--pred, export) are refused at once with one line
 * saying why, instead of being scored as thousands of structures for many minutes; a label in neither
 * file is reported, not silently scored as perfect.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeVolume } from '../../src/io/index.js'
import { Volume } from '../../src/volume/volume.js'
import { hasCommand, runCli, tempDir } from '../helpers.js'

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

test('export onto a reference series that covers part of the labels: refused with the share lost, or clipped with a warning under --allow-clip', async () => {
  const tmp = tempDir()
  try {
    // reference CT: 32 x 32 x 4 slices of 2 mm at z 0..6; labels on 32 x 32 x 8 slices (z 0..14): a box over z 4..10
    const ct = join(tmp.path, 'ct.nii.gz'), labels = join(tmp.path, 'labels.nii.gz')
    await writeVolume(new Volume(new Int16Array(32 * 32 * 4).fill(40), [32, 32, 4], [1, 1, 2], [0, 0, 0]), ct)
    const data = new Uint8Array(32 * 32 * 8)
    for (let k = 2; k <= 5; k++) for (let j = 10; j < 20; j++) for (let i = 10; i < 20; i++) data[i + 32 * (j + 32 * k)] = 1
    await writeVolume(new Volume(data, [32, 32, 8], [1, 1, 2], [0, 0, 0]), labels)
    assert.equal(runCli(['convert', ct, join(tmp.path, 'ref'), '--to', 'dicom']).code, 0)
    const out = join(tmp.path, 'rt.dcm')
    const refused = runCli(['export', labels, '--reference', join(tmp.path, 'ref'), '--format', 'rtstruct', '--out', out])
    assert.equal(refused.code, 2)
    // slices 2, 3 inside (z 4, 6), slices 4, 5 outside: half the volume, 0.40 of 0.80 ml
    assert.match(refused.stderr, /50\.0% of the labelled volume \(0\.40 of 0\.80 ml\) lies outside the reference series .*--allow-clip/)
    assert.equal(existsSync(out), false)
    const clipped = runCli(['export', labels, '--reference', join(tmp.path, 'ref'), '--format', 'rtstruct', '--out', out, '--allow-clip'])
    assert.equal(clipped.code, 0, clipped.stderr)
    assert.match(clipped.stderr, /warning: .*50\.0% of the labelled volume .* exported clipped/)
    assert.ok(existsSync(out))
  } finally {
    tmp.cleanup()
  }
})

test('export onto a reference series with an empty Series or SOP Instance UID is refused in one line naming the UID', { skip: hasCommand('dcmodify') ? false : 'dcmodify (dcmtk) not installed' }, async () => {
  const tmp = tempDir()
  try {
    const ct = join(tmp.path, 'ct.nii.gz'), labels = join(tmp.path, 'labels.nii.gz')
    await writeVolume(new Volume(new Int16Array(16 * 16 * 3).fill(40), [16, 16, 3], [1, 1, 2], [0, 0, 0]), ct)
    await writeVolume(new Volume(Uint8Array.from({ length: 16 * 16 * 3 }, (_, v) => (v % 16 > 4 && v % 16 < 9 ? 1 : 0)), [16, 16, 3], [1, 1, 2], [0, 0, 0]), labels)
    for (const [name, key, pattern] of [['series', '(0020,000e)', /empty SeriesInstanceUID/], ['sop', '(0008,0018)', /empty SOPInstanceUID/]] as const) {
      const ref = join(tmp.path, name)
      assert.equal(runCli(['convert', ct, ref, '--to', 'dicom']).code, 0)
      const files = readdirSync(ref).map((f) => join(ref, f))
      execFileSync('dcmodify', ['-nb', '-m', `${key}=`, ...(name === 'series' ? files : files.slice(1, 2))])
      for (const format of ['rtstruct', 'seg']) {
        const out = join(tmp.path, `${name}-${format}.dcm`)
        const r = runCli(['export', labels, '--reference', ref, '--format', format, '--out', out])
        assert.equal(r.code, 2, `${name} ${format}: ${r.stderr}`)
        assert.match(r.stderr, pattern)
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
        assert.equal(existsSync(out), false)
      }
    }
  } finally {
    tmp.cleanup()
  }
})

test('info lists a label map\'s labels with voxels and volumes; export --names totalsegmentator; no-op options are warned about', async () => {
  const tmp = tempDir()
  try {
    // labels 5 (liver, 40 voxels) and 52 (aorta, 12 voxels) on 1 x 1 x 2 mm voxels
    const data = new Uint8Array(16 * 16 * 3)
    for (let v = 0; v < 40; v++) data[v] = 5
    for (let v = 300; v < 312; v++) data[v] = 52
    const labels = join(tmp.path, 'organs.nii.gz'), ct = join(tmp.path, 'ct.nii.gz')
    await writeVolume(new Volume(data, [16, 16, 3], [1, 1, 2], [0, 0, 0]), labels)
    await writeVolume(new Volume(new Int16Array(16 * 16 * 3).fill(40), [16, 16, 3], [1, 1, 2], [0, 0, 0]), ct)
    const info = runCli(['info', labels, '--json'])
    assert.equal(info.code, 0, info.stderr)
    assert.deepEqual(JSON.parse(info.stdout).labels, [{ value: 5, voxels: 40, volume_ml: 0.08 }, { value: 52, voxels: 12, volume_ml: 0.024 }])
    assert.equal(JSON.parse(runCli(['info', ct, '--json']).stdout).labels.length, 1, 'a constant image is one label')
    assert.equal(runCli(['convert', ct, join(tmp.path, 'ref'), '--to', 'dicom']).code, 0)
    const out = join(tmp.path, 'organs.dcm')
    const e = runCli(['export', labels, '--reference', join(tmp.path, 'ref'), '--format', 'rtstruct', '--out', out, '--names', 'totalsegmentator'])
    assert.equal(e.code, 0, e.stderr)
    assert.match(e.stdout, /2 ROIs: liver, aorta/)
    // --names entries for labels the map does not hold, --series on a file: said, not silently ignored
    writeFileSync(join(tmp.path, 'names.json'), JSON.stringify({ 5: 'liver', 52: 'aorta', 7: 'pancreas' }))
    const unused = runCli(['export', labels, '--reference', join(tmp.path, 'ref'), '--format', 'rtstruct', '--out', join(tmp.path, 'b.dcm'), '--names', join(tmp.path, 'names.json')])
    assert.equal(unused.code, 0, unused.stderr)
    assert.match(unused.stderr, /warning: .*names label 7, which the label map does not hold/)
    const series = runCli(['convert', ct, join(tmp.path, 'c.nrrd'), '--series', '1.2.3'])
    assert.equal(series.code, 0, series.stderr)
    assert.match(series.stderr, /warning: --series applies to a DICOM folder/)
  } finally {
    tmp.cleanup()
  }
})
