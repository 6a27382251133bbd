/**
 * Nodes apart along a predicted border class (src/infer/borders.ts), on hand-made label maps: two nodes
 * joined by a band of border voxels become two, each border voxel going to the nearer node and taking its
 * class; a blob of border alone is a node of its own; through extractNodes, a model with a node_border
 * class gives two nodes where a plain mask gives one.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { componentsAcrossBorders } from '../../src/infer/borders.js'
import { extractNodes } from '../../src/infer/nodes.js'
import { Volume, type Vec3 } from '../../src/volume/volume.js'

const SHAPE: Vec3 = [24, 10, 10]

/** Class 1 at x 2..9 and 14..21 with border (2) at x 10..13 between them, in y and z 2..7. */
function joined(): Uint8Array {
  const [nx, ny, nz] = SHAPE
  const labels = new Uint8Array(nx * ny * nz)
  for (let k = 2; k < 8; k++) for (let j = 2; j < 8; j++) for (let i = 2; i < 22; i++) labels[i + nx * (j + ny * k)] = i >= 10 && i <= 13 ? 2 : 1
  return labels
}

test('two nodes joined by border voxels come apart; each border voxel joins the nearer node and takes its class', () => {
  const labels = joined()
  const [nx, ny] = SHAPE
  const { ids, count } = componentsAcrossBorders(labels, SHAPE, 2, 1)
  assert.equal(count, 2)
  const id = (i: number) => ids[i + nx * (4 + ny * 4)]!
  assert.notEqual(id(5), id(18))
  // x 10, 11 are nearer the left node, 12, 13 the right one
  assert.deepEqual([9, 10, 11, 12, 13, 14].map(id), [id(5), id(5), id(5), id(18), id(18), id(18)])
  assert.equal(labels.filter((v) => v === 2).length, 0, 'border voxels take their node\'s class')
})

test('border voxels no node reaches are a node of their own', () => {
  const [nx, ny, nz] = SHAPE
  const labels = new Uint8Array(nx * ny * nz)
  for (let k = 2; k < 5; k++) for (let j = 2; j < 5; j++) for (let i = 2; i < 5; i++) labels[i + nx * (j + ny * k)] = 2
  for (let k = 2; k < 5; k++) for (let j = 2; j < 5; j++) for (let i = 12; i < 15; i++) labels[i + nx * (j + ny * k)] = 1
  const { ids, count } = componentsAcrossBorders(labels, SHAPE, 2, 1)
  assert.equal(count, 2)
  assert.equal(labels[3 + nx * (3 + ny * 3)], 1)
  assert.notEqual(ids[3 + nx * (3 + ny * 3)], ids[13 + nx * (3 + ny * 3)])
})

test('extractNodes: a model with a node_border class splits the joined pair; without it, one node', () => {
  const classes = [{ index: 0, name: 'background', dataset_labels: [0] }, { index: 1, name: 'node', dataset_labels: [1] }, { index: 2, name: 'node_border', dataset_labels: [2] }]
  const make = () => new Volume(joined(), SHAPE, [1, 1, 1], [0, 0, 0])
  const foreground = Float32Array.from(joined(), (v) => (v ? 0.9 : 0.1))
  const withBorder = extractNodes(make(), foreground, { classes, separate: false })
  assert.equal(withBorder.nodes.length, 2)
  assert.deepEqual(withBorder.nodes.map((n) => n.class), ['node', 'node'])
  assert.deepEqual(withBorder.nodes.map((n) => n.voxels), [10 * 36, 10 * 36])
  const plain = make()
  for (let v = 0; v < plain.data.length; v++) if (plain.data[v]) plain.data[v] = 1
  assert.equal(extractNodes(plain, foreground, { classes: classes.slice(0, 2), separate: false }).nodes.length, 1)
})
