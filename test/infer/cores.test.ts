/**
 * Nodes grown from predicted cores (src/infer/cores.ts), on hand-made label maps: a bar of node voxels holding
 * two cores becomes two nodes split halfway between the cores; a component with one core, or none, stays
 * one node; a core under the size floor is no seed; cores meeting at a thin neck are split first; through
 * extractNodes, one core drawn over both halves of a dumbbell does not keep it whole: the watershed on the
 * mask still cuts the mask's neck.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { componentsFromCores } from '../../src/infer/cores.js'
import { extractNodes } from '../../src/infer/nodes.js'
import { Volume, type Vec3 } from '../../src/volume/volume.js'

const SHAPE: Vec3 = [30, 10, 10]
const at = (i: number, j: number, k: number) => i + SHAPE[0] * (j + SHAPE[1] * k)

/** Node (1) at x 2..21, y and z 2..7; cores (2) at x 4..7 and 16..19, y and z 3..6. */
function bar(): Uint8Array {
  const labels = new Uint8Array(SHAPE[0] * SHAPE[1] * SHAPE[2])
  for (let k = 2; k < 8; k++) for (let j = 2; j < 8; j++) for (let i = 2; i < 22; i++) {
    const core = ((i >= 4 && i <= 7) || (i >= 16 && i <= 19)) && j >= 3 && j <= 6 && k >= 3 && k <= 6
    labels[at(i, j, k)] = core ? 2 : 1
  }
  return labels
}

test('two cores in one component: two nodes, each voxel with the nearer core; core voxels become node', () => {
  const labels = bar()
  const { ids, count } = componentsFromCores(labels, SHAPE, [1, 1, 1], 2, 1)
  assert.equal(count, 2)
  const id = (i: number) => ids[at(i, 4, 4)]!
  assert.notEqual(id(5), id(18))
  // the cores end at x 7 and start at x 16: x 8..11 are 1..4 steps from the left core and 5..8 from the right
  assert.deepEqual([2, 8, 11, 12, 15, 21].map(id), [id(5), id(5), id(5), id(18), id(18), id(18)])
  assert.equal(labels.filter((v) => v === 2).length, 0)
  assert.equal(ids.filter((v) => v === id(5)).length, 10 * 36)
})

test('a component with one core, one without: one node each', () => {
  const labels = new Uint8Array(SHAPE[0] * SHAPE[1] * SHAPE[2])
  for (let k = 2; k < 8; k++) for (let j = 2; j < 8; j++) for (let i = 2; i < 10; i++) labels[at(i, j, k)] = i >= 4 && i <= 7 && j >= 3 && j <= 6 && k >= 3 && k <= 6 ? 2 : 1
  for (let k = 2; k < 5; k++) for (let j = 2; j < 5; j++) for (let i = 20; i < 23; i++) labels[at(i, j, k)] = 1
  const { ids, count } = componentsFromCores(labels, SHAPE, [1, 1, 1], 2, 1)
  assert.equal(count, 2)
  assert.notEqual(ids[at(5, 4, 4)], 0)
  assert.notEqual(ids[at(21, 3, 3)], 0)
  assert.notEqual(ids[at(5, 4, 4)], ids[at(21, 3, 3)])
})

test('a core under the size floor is no seed: the component stays one node', () => {
  const labels = bar()
  // the right core shrunk to 2 voxels (2 mm³ on a 1 mm grid, under the 8 mm³ floor)
  for (let v = 0; v < labels.length; v++) if (labels[v] === 2 && v % SHAPE[0] >= 16) labels[v] = 1
  labels[at(17, 4, 4)] = 2
  labels[at(18, 4, 4)] = 2
  assert.equal(componentsFromCores(labels, SHAPE, [1, 1, 1], 2, 1).count, 1)
})

test('extractNodes: one core drawn over both halves of a dumbbell does not keep it whole: the watershed cuts the mask\'s neck', () => {
  // two 6-voxel cubes joined by a 2 x 2 neck. The core is a 2 x 2 bar through both cubes and the neck, with
  // no neck of its own (as a network draws one core over two matted nodes whose crease it does not see)
  const make = (withCore: boolean) => {
    const labels = new Uint8Array(SHAPE[0] * SHAPE[1] * SHAPE[2])
    for (let k = 2; k < 8; k++) for (let j = 2; j < 8; j++) for (let i = 2; i < 20; i++) {
      const cube = i < 8 || i >= 14
      const bar = j >= 4 && j <= 5 && k >= 4 && k <= 5
      if (cube || bar) labels[at(i, j, k)] = withCore && bar && i >= 3 && i <= 18 ? 2 : 1
    }
    return new Volume(labels, SHAPE, [1, 1, 1], [0, 0, 0])
  }
  const classes = [{ index: 0, name: 'background', dataset_labels: [0] }, { index: 1, name: 'node', dataset_labels: [1] }, { index: 2, name: 'node_core', dataset_labels: [2] }]
  const cored = make(true)
  assert.equal(componentsFromCores(new Uint8Array(cored.data), SHAPE, [1, 1, 1], 2, 1).count, 1, 'one core: one node before the watershed')
  const foreground = Float32Array.from(cored.data, (v) => (v ? 0.9 : 0.1))
  assert.equal(extractNodes(make(false), foreground, { classes: classes.slice(0, 2) }).nodes.length, 2, 'without cores the watershed cuts the neck')
  const nodes = extractNodes(cored, foreground, { classes }).nodes
  assert.equal(nodes.length, 2, 'with the core too')
  assert.ok(nodes.every((n) => n.class === 'node'))
  assert.equal(extractNodes(make(true), foreground, { classes, separate: false }).nodes.length, 1, 'no watershed: the core keeps it one')
})

test('cores that meet at a thin neck are split by the watershed first: two nodes; without that split, one', () => {
  const make = () => {
    const labels = new Uint8Array(SHAPE[0] * SHAPE[1] * SHAPE[2])
    for (let k = 1; k < 9; k++) for (let j = 1; j < 9; j++) for (let i = 2; i < 22; i++) {
      const cube = (i >= 4 && i <= 9) || (i >= 14 && i <= 19)
      const inCore = cube ? j >= 2 && j <= 7 && k >= 2 && k <= 7 : j >= 4 && j <= 5 && k >= 4 && k <= 5
      labels[at(i, j, k)] = inCore ? 2 : 1
    }
    return labels
  }
  const split = componentsFromCores(make(), SHAPE, [1, 1, 1], 2, 1)
  assert.equal(split.count, 2)
  assert.notEqual(split.ids[at(6, 4, 4)], split.ids[at(17, 4, 4)])
  assert.equal(componentsFromCores(make(), SHAPE, [1, 1, 1], 2, 1, { splitCores: false }).count, 1)
})
