import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readVolume } from '../../src/io/index.js'
import { measureAllNodes } from '../../src/volume/measure.js'
import { resampleTo } from '../../src/volume/resample.js'
import { runCli, tempDir, sharedData, hasPythonModules, python } from '../helpers.js'
import { listFiles, sameBytes } from './files.js'

const TINY = ['--size', '110,100,40', '--spacing', '3,3,4']

test('the same seed gives identical files; another seed does not', () => {
  const tmp = tempDir()
  try {
    const run = (out: string, seed: string) => runCli(['phantom', '--site', 'neck', '--modality', 'petct', '--cases', '2', '--seed', seed, ...TINY, '--preview', '--out', join(tmp.path, out)])
    for (const [out, seed] of [['a', '7'], ['b', '7'], ['c', '8']]) {
      const r = run(out, seed)
      assert.equal(r.code, 0, r.stderr)
    }
    const files = listFiles(join(tmp.path, 'a'))
    assert.deepEqual(files, listFiles(join(tmp.path, 'b')))
    assert.ok(files.includes('preview/neck_000.png') && files.includes('petTr/neck_001.nii.gz'))
    for (const f of files) assert.ok(sameBytes(join(tmp.path, 'a', f), join(tmp.path, 'b', f)), `${f} differs between runs`)
    assert.ok(!sameBytes(join(tmp.path, 'a', 'imagesTr/neck_000_0000.nii.gz'), join(tmp.path, 'c', 'imagesTr/neck_000_0000.nii.gz')))
  } finally {
    tmp.cleanup()
  }
})

test('dataset.json and files follow the nnU-Net v2 raw layout; nibabel reads them on matching grids', (t) => {
  const tmp = tempDir()
  try {
    const out = join(tmp.path, 'Dataset901_phantom')
    const r = runCli(['phantom', '--site', 'abdomen', '--modality', 'petct', '--cases', '2', '--seed', '1', ...TINY, '--out', out])
    assert.equal(r.code, 0, r.stderr)
    const ds = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8'))
    assert.deepEqual(ds.channel_names, { 0: 'CT', 1: 'PET' })
    assert.deepEqual(ds.labels, { background: 0, benign_node: 1, malignant_node: 2 })
    assert.equal(ds.numTraining, 2)
    assert.equal(ds.file_ending, '.nii.gz')
    assert.deepEqual(readdirSync(join(out, 'labelsTr')).sort(), ['abdomen_000.nii.gz', 'abdomen_001.nii.gz'])
    assert.equal(readdirSync(join(out, 'imagesTr')).length, 4)
    for (const name of ['abdomen_000', 'abdomen_001']) {
      const rec = JSON.parse(readFileSync(join(out, 'instancesTr', `${name}.json`), 'utf8'))
      for (const n of Object.values(rec.instances) as Record<string, unknown>[]) {
        for (const key of ['class', 'site', 'station', 'centre_mm', 'short_axis_mm', 'long_axis_mm', 'volume_ml', 'necrosis', 'suv_max']) assert.ok(key in n, `${name}: node lacks ${key}`)
      }
    }
    if (!hasPythonModules('nibabel', 'numpy')) return t.skip('Debian python with nibabel is not installed')
    const report = python(`
import json, sys, os, nibabel as nib, numpy as np
root = sys.argv[1]
ds = json.load(open(os.path.join(root, 'dataset.json')))
out = []
for f in sorted(os.listdir(os.path.join(root, 'labelsTr'))):
    case = f[:-len(ds['file_ending'])]
    lab = nib.load(os.path.join(root, 'labelsTr', f))
    values = set(np.unique(np.asarray(lab.dataobj)).tolist())
    for ch in ds['channel_names']:
        img = nib.load(os.path.join(root, 'imagesTr', '%s_%04d%s' % (case, int(ch), ds['file_ending'])))
        assert img.shape == lab.shape, (case, ch, img.shape, lab.shape)
        assert np.allclose(img.affine, lab.affine, atol=1e-4), (case, ch)
    inst = np.asarray(nib.load(os.path.join(root, 'instancesTr', f)).dataobj)
    pet = nib.load(os.path.join(root, 'petTr', f))
    out.append({'case': case, 'labels': sorted(values), 'nodes': int(len(np.unique(inst)) - 1), 'pet_zoom': [float(z) for z in pet.header.get_zooms()]})
print(json.dumps(out))
`, [out])
    const cases = JSON.parse(report) as { labels: number[]; nodes: number; pet_zoom: number[] }[]
    assert.equal(cases.length, 2)
    for (const c of cases) {
      assert.ok(c.labels.every((l) => [0, 1, 2].includes(l)))
      assert.ok(c.nodes > 0)
      assert.ok(c.pet_zoom.every((z) => z > 3.5 && z < 4.3))
    }
  } finally {
    tmp.cleanup()
  }
})

test('bad input is one line, exit 2, and nothing is written', () => {
  const tmp = tempDir()
  try {
    const out = join(tmp.path, 'out')
    const bogus = join(tmp.path, 'bogus.nii.gz')
    writeFileSync(bogus, 'not a scan')
    const nonEmpty = join(tmp.path, 'full')
    const full = runCli(['phantom', '--site', 'chest', '--cases', '1', '--seed', '1', ...TINY, '--out', nonEmpty])
    assert.equal(full.code, 0, full.stderr)
    const cases: [string[], RegExp][] = [
      [['--site', 'knee', '--cases', '1', '--seed', '1', '--out', out], /unknown site 'knee'/],
      [['--site', 'chest', '--cases', '1', '--seed', '1', '--spacing', '0,1,1', '--out', out], /--spacing/],
      [['--site', 'chest', '--cases', '0', '--seed', '1', '--out', out], /--cases/],
      [['--site', 'chest', '--cases', '1', '--seed', '1', '--modality', 'xray', '--out', out], /unknown modality/],
      [['--insert-into', bogus, '--cases', '1', '--seed', '1', '--out', out], /bogus\.nii\.gz/],
      [['--insert-into', join(tmp.path, 'missing.nii.gz'), '--cases', '1', '--seed', '1', '--out', out], /no such file/],
      [['--site', 'chest', '--cases', '1', '--seed', '1', '--out', nonEmpty], /not empty/],
    ]
    const mr = sharedData('mr/abdomen_mr_sm.nii.gz')
    if (mr) cases.push([['--insert-into', mr, '--cases', '1', '--seed', '1', '--out', out], /no fat next to vessels/])
    for (const [args, message] of cases) {
      const r = runCli(['phantom', ...args])
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`)
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.ok(!existsSync(out), `${args.join(' ')} left ${out}`)
    }
    assert.deepEqual(readdirSync(tmp.path).filter((f) => f.includes('tmp')), [], 'a temporary folder was left behind')
  } finally {
    tmp.cleanup()
  }
})

test('insertion into the real abdominal CT: nodes in fat near vessels, never on organs or bone; host noise kept', async (t) => {
  const ct = sharedData('ct/abdomen_ct_3mm_sm.nii.gz'), organs = sharedData('ct/abdomen_ct_3mm_sm_organs.nii.gz')
  if (!ct || !organs) return t.skip('../shared/data/ct is missing')
  const tmp = tempDir()
  try {
    const args = (out: string) => ['phantom', '--insert-into', ct, '--organs', organs, '--organ-names', 'totalsegmentator', '--cases', '2', '--seed', '5', '--site', 'abdomen', '--out', join(tmp.path, out)]
    for (const out of ['a', 'b']) assert.equal(runCli(args(out)).code, 0)
    for (const f of listFiles(join(tmp.path, 'a'))) assert.ok(sameBytes(join(tmp.path, 'a', f), join(tmp.path, 'b', f)), `${f} differs`)
    const host = await readVolume(ct), labels = await readVolume(organs)
    for (const name of ['inserted_abdomen_ct_3mm_sm_000', 'inserted_abdomen_ct_3mm_sm_001']) {
      const dir = join(tmp.path, 'a')
      const image = await readVolume(join(dir, 'imagesTr', `${name}_0000.nii.gz`))
      const inst = await readVolume(join(dir, 'instancesTr', `${name}.nii.gz`))
      const rec = JSON.parse(readFileSync(join(dir, 'instancesTr', `${name}.json`), 'utf8')).instances
      const measured = measureAllNodes(inst)
      assert.ok(measured.size >= 1)
      assert.equal(Object.keys(rec).length, measured.size)
      for (const [id, m] of measured) {
        assert.equal(rec[id].short_axis_mm, m.short_axis_mm)
        assert.equal(rec[id].long_axis_mm, m.long_axis_mm)
        assert.equal(rec[id].volume_ml, m.volume_ml)
      }
      const near = grow(inst.data, inst.shape, 3)
      for (let v = 0; v < inst.data.length; v++) {
        if (inst.data[v] !== 0) {
          assert.equal(labels.data[v], 0, `node ${inst.data[v]} on organ label ${labels.data[v]}`)
          assert.ok(host.data[v] < 150, `node ${inst.data[v]} on bone or contrast (${host.data[v]} HU)`)
        } else if (!near[v] && image.data[v] !== host.data[v]) {
          assert.fail(`voxel ${v} far from any node changed from ${host.data[v]} to ${image.data[v]}`)
        }
      }
    }
  } finally {
    tmp.cleanup()
  }
})

test('insertion into the chest CT with a heart mask on another grid (matched by world coordinates)', async (t) => {
  const ct = sharedData('ct/chest_ct_1p5mm.nii.gz'), pa = sharedData('ct/chest_ct_1p5mm_pulmonary_artery.nii.gz'), heart = sharedData('ct/chest_ct_1p5mm_heart.nii.gz')
  if (!ct || !pa || !heart) return t.skip('../shared/data/ct is missing')
  const tmp = tempDir()
  try {
    const out = join(tmp.path, 'chest')
    const r = runCli(['phantom', '--insert-into', ct, '--organs', pa, '--organs', heart, '--cases', '1', '--seed', '2', '--out', out])
    assert.equal(r.code, 0, r.stderr)
    const inst = await readVolume(join(out, 'instancesTr', 'inserted_chest_ct_1p5mm_000.nii.gz'))
    const heartOnCt = resampleTo(await readVolume(heart), inst, { interpolation: 'nearest' })
    const paMask = await readVolume(pa)
    let nodeVoxels = 0
    for (let v = 0; v < inst.data.length; v++) {
      if (inst.data[v] === 0) continue
      nodeVoxels++
      assert.equal(heartOnCt.data[v], 0, 'node inside the heart')
      assert.equal(paMask.data[v], 0, 'node inside the pulmonary artery')
    }
    assert.ok(nodeVoxels > 0)
  } finally {
    tmp.cleanup()
  }
})

/** Voxels within r voxels (box) of a non-zero voxel. */
function grow(data: ArrayLike<number>, shape: number[], r: number): Uint8Array {
  const [nx, ny, nz] = shape
  const out = new Uint8Array(nx * ny * nz)
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    if (!data[i + nx * (j + ny * k)]) continue
    for (let c = Math.max(0, k - r); c <= Math.min(nz - 1, k + r); c++) for (let b = Math.max(0, j - r); b <= Math.min(ny - 1, j + r); b++) for (let a = Math.max(0, i - r); a <= Math.min(nx - 1, i + r); a++) out[a + nx * (b + ny * c)] = 1
  }
  return out
}
