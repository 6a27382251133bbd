import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { REPO, runCli, tempDir } from '../helpers.js'

// the samples that ship with nodal, so these tests run on a clone without ../shared
const chest = join(REPO, 'samples', 'ct', 'abdomen_ct_3mm_sm.nii.gz')
const dicom = join(REPO, 'samples', 'dicom', 'ct-3slice')

test('nodal --help lists the commands; nodal <command> --help describes options', () => {
  const main = runCli(['--help'])
  assert.equal(main.code, 0)
  assert.match(main.stdout, /info/)
  assert.match(main.stdout, /convert/)
  const info = runCli(['info', '--help'])
  assert.equal(info.code, 0)
  assert.match(info.stdout, /--json/)
  assert.match(info.stdout, /example/)
})

test('nodal info --json reports the documented keys', () => {
  const r = runCli(['info', dicom, '--json'])
  assert.equal(r.code, 0, r.stderr)
  const j = JSON.parse(r.stdout)
  assert.deepEqual(j.shape, [512, 512, 3])
  assert.ok(Math.abs(j.spacing[0] - 0.810547) < 1e-9)
  assert.ok(Math.abs(j.spacing[2] - 1.0) < 1e-6, 'slice spacing from positions, not the 1.25 mm thickness')
  assert.deepEqual(j.axes, [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
  assert.equal(j.dtype, 'int16')
  assert.equal(j.modality, 'CT')
  assert.equal(j.orientation, 'LPS')
  assert.equal(j.min, -3024)
  assert.equal(j.max, 1381)
  assert.ok(j.origin[2] < -128, 'origin is the lowest slice')
  assert.ok(j.series.uid.startsWith('1.2.392'))
})

test('nodal convert DICOM -> NIfTI -> NRRD keeps geometry (checked through info)', () => {
  const tmp = tempDir()
  try {
    assert.equal(runCli(['convert', dicom, join(tmp.path, 'ct.nii.gz')]).code, 0)
    assert.equal(runCli(['convert', join(tmp.path, 'ct.nii.gz'), join(tmp.path, 'ct.nrrd')]).code, 0)
    const a = JSON.parse(runCli(['info', dicom, '--json']).stdout)
    const b = JSON.parse(runCli(['info', join(tmp.path, 'ct.nrrd'), '--json']).stdout)
    for (const key of ['shape', 'axes', 'dtype', 'min', 'max']) assert.deepEqual(b[key], a[key], key)
    for (let d = 0; d < 3; d++) assert.ok(Math.abs(b.origin[d] - a.origin[d]) < 1e-4)
  } finally {
    tmp.cleanup()
  }
})

function assertCleanFailure(r: ReturnType<typeof runCli>, pattern: RegExp) {
  assert.equal(r.code, 2, `exit code ${r.code}: ${r.stderr}`)
  const lines = r.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line expected, got: ${r.stderr}`)
  assert.match(lines[0], /^nodal: /)
  assert.match(lines[0], pattern)
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
}

test('bad input: one line naming the file, exit 2, no partial output', () => {
  const tmp = tempDir()
  try {
    const p = (name: string) => join(tmp.path, name)
    const full = readFileSync(chest)
    writeFileSync(p('truncated.nii.gz'), full.subarray(0, full.length / 2))
    writeFileSync(p('empty.nii'), '')
    writeFileSync(p('garbage.nii'), Buffer.alloc(400, 7))
    writeFileSync(p('short-body.nii.gz'), gzipSync(readFileSync(chest).subarray(0, 0)))
    writeFileSync(p('corrupt.nrrd'), 'NRRD0004\ntype: short\ndimension: 3\nsizes: 10 10 10\nencoding: raw\n\n1234')
    writeFileSync(p('scan.xyz'), 'hello')
    mkdirSync(p('emptydir'))
    writeFileSync(join(p('emptydir'), 'notes.txt'), 'no dicom here')
    const cases: [string, RegExp][] = [
      ['truncated.nii.gz', /truncated\.nii\.gz: (corrupt gzip|truncated)/],
      ['empty.nii', /empty\.nii: is empty/],
      ['garbage.nii', /garbage\.nii: not a NIfTI file/],
      ['short-body.nii.gz', /short-body\.nii\.gz/],
      ['corrupt.nrrd', /corrupt\.nrrd: ITK could not read it/],
      ['scan.xyz', /scan\.xyz: unsupported format/],
      ['emptydir', /emptydir: contains no DICOM image series/],
      ['missing.nii', /missing\.nii: no such file/],
    ]
    for (const [name, pattern] of cases) {
      assertCleanFailure(runCli(['info', p(name)]), pattern)
      assertCleanFailure(runCli(['convert', p(name), p(`out-${name}.nii.gz`)]), pattern)
    }
    assertCleanFailure(runCli(['convert', chest, p('out.jpg')]), /out\.jpg: unsupported output format/)
    assertCleanFailure(runCli(['info']), /give exactly one file/)
    assertCleanFailure(runCli(['info', chest, '--bogus']), /Unknown option/)
    assertCleanFailure(runCli(['frobnicate']), /unknown command 'frobnicate'/)
    const left = readdirSync(tmp.path).filter((f) => f.startsWith('out') || f.startsWith('.nodal-tmp'))
    assert.deepEqual(left, [], 'no partial outputs')
    assert.ok(!existsSync(p('out.jpg')))
  } finally {
    tmp.cleanup()
  }
})
