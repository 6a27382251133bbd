import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkCaseVolumes, LABELS, labelSetFrom, readDataset, verifyCase, verifyDataset } from '../../src/dataset/index.js'
import { NodalError } from '../../src/errors.js'
import { tempDir } from '../helpers.js'
import { makeDataset, put, volume } from './make.js'

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof NodalError, String(e))
    assert.equal(e.code, 'bad-dataset')
    assert.doesNotMatch(e.message, /\n/)
    assert.match(e.message, pattern)
    return true
  })
}

test('a good case gives its grid and label values', async () => {
  const tmp = tempDir('nodal-check-')
  try {
    makeDataset(tmp.path)
    const ds = readDataset(tmp.path)
    const checks = await verifyDataset(ds)
    assert.deepEqual(checks.get('a')!.labelValues, [0, 1, 2])
    assert.deepEqual(checks.get('b')!.grid.shape, [4, 3, 2])
    assert.deepEqual(checks.get('b')!.grid.spacing, [1, 1, 2])
  } finally {
    tmp.cleanup()
  }
})

test('a label on another grid (origin shifted by 1 mm) is caught, saying how it differs', async () => {
  const tmp = tempDir('nodal-check-')
  try {
    makeDataset(tmp.path)
    put(tmp.path, 'labelsTr/b.nii.gz', volume((n) => n % 3, [1, 0, 0]))
    const ds = readDataset(tmp.path)
    await verifyCase(ds.cases[0], ds.labels)
    await rejects(verifyCase(ds.cases[1], ds.labels), /labelsTr\/b\.nii\.gz: case "b" is not on the grid of .*b_0000\.nii\.gz \(origin 1,0,0 vs 0,0,0 mm\)$/)
    await rejects(verifyDataset(ds), /case "b" is not on the grid/)
    put(tmp.path, 'imagesTr/b_0001.nii.gz', volume(() => 0, [0, 0, 0], [4, 3, 3]))
    await rejects(verifyCase(ds.cases[1], ds.labels), /b_0001\.nii\.gz: case "b" is not on the grid of .* \(shape 4x3x3 vs 4x3x2\)$/)
  } finally {
    tmp.cleanup()
  }
})

test('undeclared label values are listed', async () => {
  const tmp = tempDir('nodal-check-')
  try {
    makeDataset(tmp.path)
    put(tmp.path, 'labelsTr/a.nii.gz', volume((n) => (n === 0 ? 7 : n === 1 ? 3 : 1)))
    const ds = readDataset(tmp.path)
    await rejects(verifyCase(ds.cases[0], ds.labels), /labelsTr\/a\.nii\.gz: case "a" has undeclared label values 3, 7 \(declared: 0 background, 1 benign_node, 2 malignant_node\)$/)
  } finally {
    tmp.cleanup()
  }
})

test('checkCaseVolumes runs the same checks on volumes already in memory', () => {
  const c = { name: 'm', images: ['m_0000.nii.gz', 'm_0001.nii.gz'], label: 'm.nii.gz' }
  const labels = labelSetFrom({ labels: LABELS })
  const image = volume(() => 0)
  assert.deepEqual(checkCaseVolumes(c, { channels: [image, image], label: volume((n) => n % 2) }, labels).labelValues, [0, 1])
  const tilted = volume(() => 0)
  tilted.axes = [[0, 1, 0], [1, 0, 0], [0, 0, 1]]
  assert.throws(() => checkCaseVolumes(c, { channels: [image, tilted] }, labels), /^NodalError: m_0001\.nii\.gz: case "m" is not on the grid of m_0000\.nii\.gz \(direction 0,1,0 1,0,0 0,0,1 vs 1,0,0 0,1,0 0,0,1\)$/)
  assert.throws(() => checkCaseVolumes(c, { channels: [image], label: volume(() => 9) }, labels), /m\.nii\.gz: case "m" has undeclared label value 9 /)
})
