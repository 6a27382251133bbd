/**
 * dataset import's pieces that need no DICOM: --map rules (globs, regexes, first match wins, label
 * names) and image/label file pairs (paired by name, grids checked, images refused as labels).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { labelNames, matchRule, parseMapRules } from '../../src/dataset/import/rules.js'
import { importNiftiPairs } from '../../src/dataset/import/nifti-pairs.js'
import { readDataset } from '../../src/dataset/index.js'
import { readVolume } from '../../src/io/index.js'
import { NodalError } from '../../src/errors.js'
import { Volume } from '../../src/volume/volume.js'
import { tempDir } from '../helpers.js'
import { put } from './make.js'

test('--map rules: case-insensitive globs over the whole name, /regex/, first rule wins, label names', () => {
  const rules = parseMapRules('GTVn*,*node*mal*=2; LN*,*node*=1; /^l[0-9]{1,2}_r$/=3:level_right')
  const label = (name: string) => matchRule(rules, name)?.label ?? null
  assert.equal(label('GTVn_L2'), 2)
  assert.equal(label('gtvN'), 2)
  assert.equal(label('Lymph_Node_malignant'), 2, 'first rule wins over *node*')
  assert.equal(label('node_R'), 1)
  assert.equal(label('LN_L2'), 1)
  assert.equal(label('L12_R'), 3)
  assert.equal(label('L123_R'), null)
  assert.equal(label('GTVp'), null, 'a glob covers the whole name')
  assert.equal(label('xLN'), null)
  assert.deepEqual(labelNames(rules), { background: 0, GTVn: 2, LN: 1, level_right: 3 })
  assert.deepEqual(labelNames(parseMapRules('*node*=1; node*=1')), { background: 0, node: 1 }, 'a value is named by its first rule')
  for (const bad of ['GTVn*', 'GTVn*=0', 'GTVn*=x', '=2', '/[/=2', 'a=2:9name', ' ; ']) {
    assert.throws(() => parseMapRules(bad), (e: unknown) => e instanceof NodalError && /--map rule/.test(e.message), bad)
  }
})

function box(shape: [number, number, number], spacing: [number, number, number], origin: [number, number, number], fill: (i: number, j: number, k: number) => number, dtype: 'int16' | 'float32' = 'int16'): Volume {
  const data = dtype === 'int16' ? new Int16Array(shape[0] * shape[1] * shape[2]) : new Float32Array(shape[0] * shape[1] * shape[2])
  for (let k = 0; k < shape[2]; k++) for (let j = 0; j < shape[1]; j++) for (let i = 0; i < shape[0]; i++) data[i + shape[0] * (j + shape[1] * k)] = fill(i, j, k)
  return new Volume(data, shape, spacing, origin)
}

test('image/label pairs: paired by name and suffix, grids checked, an image given as label refused, report written', async () => {
  const tmp = tempDir()
  try {
    const img = (v: number) => box([8, 8, 4], [1, 1, 2], [0, 0, 0], (i) => v + i)
    const lab = box([8, 8, 4], [1, 1, 2], [0, 0, 0], (i, j, k) => (i > 2 && i < 6 && j > 2 && j < 6 && k > 0 ? (i === 3 ? 2 : 1) : 0))
    put(tmp.path, 'images/p1_ct.nii.gz', img(0))
    put(tmp.path, 'labels/p1_seg.nii.gz', lab)
    put(tmp.path, 'images/p2_0000.nii.gz', img(10))
    put(tmp.path, 'labels/p2.nii.gz', lab)
    put(tmp.path, 'images/p3.nii.gz', img(20))
    put(tmp.path, 'labels/p3_label.nii.gz', box([8, 8, 4], [1, 1, 2], [0, 0, 4], () => 0)) // shifted by 2 slices: same shape, other place
    put(tmp.path, 'images/p4.nii.gz', img(30))
    put(tmp.path, 'labels/p4_mask.nii.gz', box([8, 8, 4], [1, 1, 2], [0, 0, 0], (i) => i * 0.5, 'float32')) // an image, not labels
    put(tmp.path, 'images/p5.nii.gz', img(40)) // no label
    put(tmp.path, 'labels/p6_gt.nii.gz', lab) // no image
    const out = join(tmp.path, 'ds')
    const r = await importNiftiPairs({ images: join(tmp.path, 'images'), labels: join(tmp.path, 'labels'), out, labelNames: { background: 0, benign_node: 1, malignant_node: 2 } })
    assert.deepEqual(r.cases.map((c) => c.case), ['p1', 'p2'])
    const why = Object.fromEntries(r.skipped.map((s) => [s.file.split('/').pop(), s.reason]))
    assert.match(why['p3_label.nii.gz']!, /not on the grid of p3\.nii\.gz \(origin/)
    assert.match(why['p4_mask.nii.gz']!, /not a label value .* is it an image\?/)
    assert.match(why['p5.nii.gz']!, /no label file/)
    assert.match(why['p6_gt.nii.gz']!, /no image file/)
    const ds = readDataset(out)
    assert.deepEqual(ds.cases.map((c) => c.name), ['p1', 'p2'])
    const label = await readVolume(join(out, 'labelsTr', 'p1.nii.gz'))
    assert.deepEqual(Array.from(label.data), Array.from(lab.data))
    assert.deepEqual(label.grid.origin, lab.grid.origin)
    assert.ok(existsSync(join(out, 'import_report.json')))
    assert.equal(JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8')).labels.malignant_node, 2)
    // label values not named by --label-names: refused, nothing written
    const out2 = join(tmp.path, 'ds2')
    await assert.rejects(importNiftiPairs({ images: join(tmp.path, 'images'), labels: join(tmp.path, 'labels'), out: out2, labelNames: { background: 0, node: 1 } }), /label value\(s\) 2 found but not named/)
    assert.equal(existsSync(out2), false)
  } finally {
    tmp.cleanup()
  }
})

test('nodal dataset check CLI: 0 clean, 1 with problems (0 under --warnings-ok when all are warnings), 2 not a dataset', async () => {
  const { makeDataset, volume } = await import('./make.js')
  const { runCli } = await import('../helpers.js')
  const tmp = tempDir()
  try {
    const root = join(tmp.path, 'ds')
    makeDataset(root)
    // distinct images, and one 8-voxel node per case (make.ts's labels are a pattern of single voxels)
    put(root, 'imagesTr/b_0000.nii.gz', volume((n) => n * 10 + 3))
    for (const c of ['a', 'b']) put(root, `labelsTr/${c}.nii.gz`, volume((n) => (n % 4 < 2 && Math.floor(n / 4) % 3 < 2 ? 1 : 0)))
    const clean = runCli(['dataset', 'check', root])
    assert.equal(clean.code, 0, clean.stdout + clean.stderr)
    put(root, 'labelsTr/b.nii.gz', volume(() => 0)) // an empty label: a warning
    const warned = runCli(['dataset', 'check', root])
    assert.equal(warned.code, 1, warned.stdout)
    assert.match(warned.stdout, /empty-label/)
    assert.equal(runCli(['dataset', 'check', root, '--warnings-ok']).code, 0)
    const notDataset = runCli(['dataset', 'check', tmp.path])
    assert.equal(notDataset.code, 2)
    assert.match(notDataset.stderr, /dataset\.json: no such file/)
  } finally {
    tmp.cleanup()
  }
})
