/**
 * nodal dataset borders (src/dataset/borders.ts): labels 1 node / 2 border between touching nodes, from the
 * instance maps. Hand-made instance maps whose border voxels are known by counting: two boxes side by side
 * and a lone box, on an anisotropic grid.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { borderLabels, coreLabels, writeBorderDataset, writeCoreDataset } from '../../src/dataset/borders.js'
import { connectedComponents } from '../../src/volume/components.js'
import { classesOf } from '../../src/train/index.js'
import { readDataset } from '../../src/dataset/index.js'
import { readVolume } from '../../src/io/index.js'
import { Volume, type Vec3 } from '../../src/volume/volume.js'
import { runCli, tempDir } from '../helpers.js'
import { put } from './make.js'

const SHAPE: Vec3 = [20, 8, 6]
const SPACING: Vec3 = [1, 1, 2]

/** Node 1 fills x 2..7, node 2 x 8..12 (touching at the plane between x 7 and 8), node 3 x 15..17 alone. */
function instances(): Volume {
  const [nx, ny, nz] = SHAPE
  const ids = new Uint16Array(nx * ny * nz)
  for (let k = 1; k < 5; k++) for (let j = 2; j < 6; j++) for (let i = 0; i < nx; i++) {
    ids[i + nx * (j + ny * k)] = i >= 2 && i <= 7 ? 1 : i >= 8 && i <= 12 ? 2 : i >= 15 && i <= 17 ? 3 : 0
  }
  return new Volume(ids, SHAPE, SPACING, [0, 0, 0])
}

test('borderLabels: node voxels within the distance of another node are 2, the rest of every node 1, the outer edge stays 1', () => {
  const labels = borderLabels(instances(), 2)
  const [nx, ny] = SHAPE
  const at = (i: number, j: number, k: number) => labels.data[i + nx * (j + ny * k)]
  // along x the nodes meet between x 7 and 8: within 2 mm are x 6, 7 (node 1) and 8, 9 (node 2)
  assert.deepEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map((i) => at(i, 3, 2)), [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 0])
  // the lone node and the nodes' outer faces next to background: no border
  assert.deepEqual([15, 16, 17].map((i) => at(i, 3, 2)), [1, 1, 1])
  let twos = 0
  for (const v of labels.data) if (v === 2) twos++
  // 4 x-columns (6..9) x 4 rows (j 2..5) x 4 slices (k 1..4); z spacing 2 mm adds no reach along x
  assert.equal(twos, 4 * 4 * 4)
  // 1 mm: only the touching faces
  let ones = 0
  for (const v of borderLabels(instances(), 1).data) if (v === 2) ones++
  assert.equal(ones, 2 * 4 * 4)
})

test('writeBorderDataset: a dataset of the same cases with labels node / node_border, images referenced; no instance maps, one-line refusal', async () => {
  const tmp = tempDir()
  try {
    const src = join(tmp.path, 'Dataset001_src')
    put(src, 'dataset.json', JSON.stringify({ channel_names: { 0: 'CT' }, labels: { background: 0, benign_node: 1, malignant_node: 2 }, numTraining: 1, file_ending: '.nii.gz', nodal: { patients: { a: 'p1' } } }))
    const inst = instances()
    put(src, 'imagesTr/a_0000.nii.gz', inst.withData(new Int16Array(inst.data.length).fill(40), {}))
    put(src, 'labelsTr/a.nii.gz', inst.withData(Uint8Array.from(inst.data, (v) => (v === 0 ? 0 : v === 3 ? 1 : 2)), {}))
    put(src, 'instancesTr/a.nii.gz', inst)
    put(src, 'instancesTr/a.json', '{"instances": {}}')
    const out = join(tmp.path, 'Dataset002_borders')
    const r = await writeBorderDataset(src, out, { borderMm: 2 })
    assert.deepEqual([r.cases, r.casesWithBorders, r.borderVoxels], [1, 1, 64])
    const ds = readDataset(out)
    assert.deepEqual([...ds.labels.names], [[0, 'background'], [1, 'node'], [2, 'node_border']])
    assert.equal(ds.cases[0]!.images[0], join(src, 'imagesTr', 'a_0000.nii.gz'))
    assert.equal(ds.cases[0]!.patient, 'p1')
    const labels = await readVolume(ds.cases[0]!.label!)
    assert.deepEqual(Array.from(labels.data), Array.from(borderLabels(inst, 2).data))
    assert.deepEqual(labels.spacing, SPACING)
    // through the CLI: a dataset without instance maps is refused and nothing is left
    const plain = join(tmp.path, 'Dataset003_plain')
    put(plain, 'dataset.json', JSON.stringify({ channel_names: { 0: 'CT' }, labels: { background: 0, node: 1 }, numTraining: 1, file_ending: '.nii.gz' }))
    put(plain, 'imagesTr/a_0000.nii.gz', inst)
    put(plain, 'labelsTr/a.nii.gz', inst)
    const refused = runCli(['dataset', 'borders', plain, '--out', join(tmp.path, 'Dataset004_none')])
    assert.equal(refused.code !== 0, true)
    assert.match(refused.stderr, /has no instance map/)
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr)
    assert.equal(existsSync(join(tmp.path, 'Dataset004_none')), false)
    assert.deepEqual(readdirSync(tmp.path).filter((f) => f.includes('tmp-')), [])
  } finally {
    tmp.cleanup()
  }
})

/** Two 9-voxel cubes touching at x 9 | 10 (1 mm grid), and a lone 3-voxel cube. */
function cubes(): Volume {
  const shape: Vec3 = [24, 11, 11]
  const ids = new Uint16Array(shape[0] * shape[1] * shape[2])
  for (let k = 1; k <= 9; k++) for (let j = 1; j <= 9; j++) for (let i = 1; i <= 18; i++) ids[i + shape[0] * (j + shape[1] * k)] = i <= 9 ? 1 : 2
  for (let k = 1; k <= 3; k++) for (let j = 1; j <= 3; j++) for (let i = 20; i <= 22; i++) ids[i + shape[0] * (j + shape[1] * k)] = 3
  return new Volume(ids, shape, [1, 1, 1], [0, 0, 0])
}

test('coreLabels: a core per node, deeper than the core distance or half the node\'s depth; the neighbour counts as outside', () => {
  const inst = cubes()
  const count = (labels: Volume, id: number) => { let n = 0; labels.data.forEach((v, i) => { if (v === 2 && inst.data[i] === id) n++ }); return n }
  // a 9-voxel cube's depth (to the nearest voxel centre outside it, the neighbour included) is 1..5 mm; half the
  // greatest, 2.5 mm, is under 3: the core is the voxels 3 or more deep, a 5-voxel cube; the lone 3-voxel cube
  // (depths 1, 2) is core all through (threshold 1 mm)
  const labels = coreLabels(inst, 3)
  assert.deepEqual([count(labels, 1), count(labels, 2), count(labels, 3)], [125, 125, 27])
  assert.equal(connectedComponents(Uint8Array.from(labels.data, (v) => (v === 2 ? 1 : 0)), inst.shape, 26).count, 3, 'the touching cubes have cores apart')
  // 2 mm: the voxels 2 or more deep, a 7-voxel cube
  assert.deepEqual([count(coreLabels(inst, 2), 1)], [343])
  assert.equal(labels.data.filter((v, i) => v !== 0 && inst.data[i] === 0).length, 0)
  assert.equal(labels.data.filter((v, i) => v === 0 && inst.data[i] !== 0).length, 0)
})

test('writeCoreDataset and nodal dataset cores: labels node / node_core; a detector trained on it evaluates against the source\'s labels', async () => {
  const tmp = tempDir()
  try {
    const src = join(tmp.path, 'Dataset001_src')
    put(src, 'dataset.json', JSON.stringify({ channel_names: { 0: 'CT' }, labels: { background: 0, benign_node: 1, malignant_node: 2 }, numTraining: 1, file_ending: '.nii.gz' }))
    const inst = cubes()
    put(src, 'imagesTr/a_0000.nii.gz', inst.withData(new Int16Array(inst.data.length).fill(40), {}))
    put(src, 'labelsTr/a.nii.gz', inst.withData(Uint8Array.from(inst.data, (v) => (v === 0 ? 0 : v === 3 ? 1 : 2)), {}))
    put(src, 'instancesTr/a.nii.gz', inst)
    put(src, 'instancesTr/a.json', '{"instances": {}}')
    const r = await writeCoreDataset(src, join(tmp.path, 'Dataset002_cores'))
    assert.deepEqual([r.cases, r.borderVoxels], [1, 125 + 125 + 27])
    const ds = readDataset(join(tmp.path, 'Dataset002_cores'))
    assert.deepEqual([...ds.labels.names], [[0, 'background'], [1, 'node'], [2, 'node_core']])
    // --target classes: node stands for the source's benign and malignant labels, the core for none
    assert.deepEqual(classesOf('classes', ds).map((c) => [c.name, c.dataset_labels]), [['background', [0]], ['node', [1, 2]], ['node_core', []]])
    const cli = runCli(['dataset', 'cores', src, '--out', join(tmp.path, 'Dataset003_cores'), '--core-mm', '2'])
    assert.equal(cli.code, 0, cli.stderr)
    assert.match(cli.stdout, /1 cases, 713 core voxels/)
  } finally {
    tmp.cleanup()
  }
})
