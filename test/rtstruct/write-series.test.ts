import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { writeDicomSeries } from '../../src/io/dicom/write-series.js'
import { readVolume, writeVolume } from '../../src/io/index.js'
import { Volume } from '../../src/volume/volume.js'
import { hasPythonModules, python, runCli, sharedData, tempDir } from '../helpers.js'
import { sceneAxes } from './scene.js'

const noPydicom = hasPythonModules('pydicom') ? false : 'Debian python3-pydicom not installed'

function ramp(axes = sceneAxes(0), dtype: 'int16' | 'float32' = 'int16'): Volume {
  const shape: [number, number, number] = [12, 9, 5]
  const data = dtype === 'int16' ? new Int16Array(12 * 9 * 5) : new Float32Array(12 * 9 * 5)
  for (let n = 0; n < data.length; n++) data[n] = dtype === 'int16' ? (n * 37) % 3000 - 1024 : Math.sin(n) * 900.25
  return new Volume(data, shape, [0.7, 0.9, 2.5], [-12.5, 30.25, -100], axes)
}

test('a volume written as a CT series reads back with the same voxels and geometry (oblique, descending)', async () => {
  const tmp = tempDir()
  try {
    const vol = ramp(sceneAxes(20, true))
    await writeDicomSeries(vol, join(tmp.path, 'ct'))
    const back = await readVolume(join(tmp.path, 'ct'))
    // the reader orders slices along the normal, so the slice axis comes back reversed
    const reversed = back.axes[2].map((v, r) => v + vol.axes[2][r]).every((v) => Math.abs(v) < 1e-6)
    assert.ok(reversed, `slice axis ${back.axes[2]} vs ${vol.axes[2]}`)
    for (let k = 0; k < 5; k++) for (let j = 0; j < 9; j++) for (let i = 0; i < 12; i++) {
      assert.equal(back.at(i, j, 4 - k), vol.at(i, j, k))
      const [a, b] = [back.indexToWorld(i, j, 4 - k), vol.indexToWorld(i, j, k)]
      assert.ok(a.every((v, r) => Math.abs(v - b[r]) < 1e-4), `voxel ${i},${j},${k}: ${a} vs ${b}`)
    }
  } finally {
    tmp.cleanup()
  }
})

test('non-integer values are stored with a rescale that keeps them within half a step', async () => {
  const tmp = tempDir()
  try {
    const vol = ramp(sceneAxes(0), 'float32')
    await writeDicomSeries(vol, join(tmp.path, 'ct'))
    const back = await readVolume(join(tmp.path, 'ct'))
    const step = 1800.5 / 65000
    for (let n = 0; n < vol.data.length; n++) assert.ok(Math.abs(back.data[n] - vol.data[n]) <= step, `voxel ${n}`)
  } finally {
    tmp.cleanup()
  }
})

test('nodal convert --to dicom --like joins the reference patient, study and frame (checked with pydicom)', { skip: noPydicom }, async () => {
  const ctDir = sharedData('dicom/ct-3slice')
  if (!ctDir) return
  const tmp = tempDir()
  try {
    const nifti = join(tmp.path, 'ct.nii.gz')
    assert.equal(runCli(['convert', ctDir, nifti]).code, 0)
    const out = join(tmp.path, 'series')
    const r = runCli(['convert', nifti, out, '--to', 'dicom', '--like', ctDir])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(readdirSync(out).length, 3)
    const read = (dir: string) => JSON.parse(python(`
import pydicom, json, sys, os
d = sys.argv[1]
fs = [pydicom.dcmread(os.path.join(d, f)) for f in sorted(os.listdir(d))]
fs.sort(key=lambda x: float(x.ImagePositionPatient[2]))
f = fs[0]
print(json.dumps({k: str(f.get(k, '')) for k in ['PatientName', 'PatientID', 'StudyInstanceUID', 'FrameOfReferenceUID']} |
  {'ipp': [[float(v) for v in x.ImagePositionPatient] for x in fs], 'iop': [float(v) for v in f.ImageOrientationPatient],
   'ps': [float(v) for v in f.PixelSpacing], 'series': len({x.SeriesInstanceUID for x in fs}),
   'hu': [int(x.pixel_array[100, 200]) * float(x.RescaleSlope) + float(x.RescaleIntercept) for x in fs]}))`, [dir]))
    const mine = read(out), theirs = read(ctDir)
    for (const key of ['PatientName', 'PatientID', 'StudyInstanceUID', 'FrameOfReferenceUID', 'hu']) assert.deepEqual(mine[key], theirs[key], key)
    // through NIfTI's float32 affine: equal to about 1e-5 mm
    for (const key of ['iop', 'ps']) mine[key].forEach((v: number, i: number) => assert.ok(Math.abs(v - theirs[key][i]) < 1e-5, `${key} ${v} vs ${theirs[key][i]}`))
    mine.ipp.forEach((p: number[], k: number) => p.forEach((v, r) => assert.ok(Math.abs(v - theirs.ipp[k][r]) < 1e-4, `IPP ${k}`)))
    assert.equal(mine.series, 1)
  } finally {
    tmp.cleanup()
  }
})

test('a volume with sheared axes is refused: a DICOM series cannot store it', async () => {
  const tmp = tempDir()
  try {
    const vol = ramp([[1, 0, 0], [0, 1, 0], [0.6, 0, 0.8]])
    await writeVolume(vol, join(tmp.path, 'sheared.nii.gz'))
    const r = runCli(['convert', join(tmp.path, 'sheared.nii.gz'), join(tmp.path, 'out'), '--to', 'dicom'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /sheared/)
    assert.ok(spawnSync('ls', [join(tmp.path, 'out')]).status !== 0 || readdirSync(join(tmp.path, 'out')).length === 0)
  } finally {
    tmp.cleanup()
  }
})

test('convert --to dicom refuses a folder that holds files (slices of two series would mix) and a PET volume, leaving both untouched', async () => {
  const tmp = tempDir()
  try {
    const nifti = join(tmp.path, 'ct.nii.gz')
    await writeVolume(ramp(), nifti)
    const out = join(tmp.path, 'series')
    assert.equal(runCli(['convert', nifti, out, '--to', 'dicom']).code, 0)
    const before = readdirSync(out).sort()
    const again = runCli(['convert', nifti, out, '--to', 'dicom'])
    assert.equal(again.code, 2)
    assert.match(again.stderr, /is not empty \(it may hold another series\)/)
    assert.deepEqual(readdirSync(out).sort(), before)
    // PET kept as PET through NIfTI (descrip modality=PT), then refused as a CT series
    const pet = ramp(sceneAxes(0), 'float32').withData(new Float32Array(12 * 9 * 5).fill(2.5), { modality: 'PT', units: 'SUVbw' })
    const petFile = join(tmp.path, 'pet.nii.gz')
    await writeVolume(pet, petFile)
    assert.equal((await readVolume(petFile)).meta.modality, 'PT')
    const refused = runCli(['convert', petFile, join(tmp.path, 'pet-series'), '--to', 'dicom'])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /this volume is PT; nodal writes DICOM series as CT only/)
    assert.equal(readdirSync(tmp.path).includes('pet-series'), false)
  } finally {
    tmp.cleanup()
  }
})
