import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connectedComponents } from '../../src/volume/components.js'
import { measureNode, measureAllNodes } from '../../src/volume/measure.js'
import { Volume, Vec3 } from '../../src/volume/volume.js'

function ellipsoid(shape: Vec3, spacing: Vec3, centre: Vec3, semi: Vec3, value = 1, into?: Uint8Array): Uint8Array {
  const data = into ?? new Uint8Array(shape[0] * shape[1] * shape[2])
  let n = 0
  for (let k = 0; k < shape[2]; k++) for (let j = 0; j < shape[1]; j++) for (let i = 0; i < shape[0]; i++, n++) {
    const x = (i * spacing[0] - centre[0]) / semi[0], y = (j * spacing[1] - centre[1]) / semi[1], z = (k * spacing[2] - centre[2]) / semi[2]
    if (x * x + y * y + z * z <= 1) data[n] = value
  }
  return data
}

test('connected components: 6 vs 26 connectivity on diagonal voxels', () => {
  const shape: Vec3 = [3, 3, 3]
  const m = new Uint8Array(27)
  m[0] = 1; m[1 + 3 + 9] = 1; m[26] = 1 // a diagonal line of three voxels
  assert.equal(connectedComponents(m, shape, 26).count, 1)
  assert.equal(connectedComponents(m, shape, 18).count, 3)
  assert.equal(connectedComponents(m, shape, 6).count, 3)
  const edge = new Uint8Array(27)
  edge[0] = 1; edge[1 + 3] = 1 // share an edge
  assert.equal(connectedComponents(edge, shape, 18).count, 1)
  assert.equal(connectedComponents(edge, shape, 6).count, 2)
})

test('connected components: a U shape merges two provisional labels, sizes add up', () => {
  const shape: Vec3 = [5, 3, 1]
  // row 0: X . . . X ; row 1: X . . . X ; row 2: X X X X X
  const m = Uint8Array.from([1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1])
  const c = connectedComponents(m, shape, 6)
  assert.equal(c.count, 1)
  assert.deepEqual(c.sizes, [0, 9])
  const two = Uint8Array.from([1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0])
  const c2 = connectedComponents(two, shape, 26)
  assert.equal(c2.count, 2)
  assert.equal(c2.labels[0], 1)
  assert.equal(c2.labels[4], 2)
})

test('measure: a line of voxels measures n x spacing; a rectangle its centre diagonal plus a voxel', () => {
  const shape: Vec3 = [20, 10, 3]
  const line = new Uint8Array(600)
  for (let i = 3; i < 13; i++) line[i + 20 * 4 + 200] = 1
  const m1 = measureNode(new Volume(line, shape, [0.5, 1.0, 2.0]), 1)!
  assert.ok(Math.abs(m1.long_axis_mm - 5) < 1e-9, `long ${m1.long_axis_mm}`)
  assert.ok(Math.abs(m1.short_axis_mm - 1) < 1e-9, `short ${m1.short_axis_mm}`)

  // 10 x 4 voxels of 0.5 x 1.0 mm: centres span 4.5 x 3 mm
  const data = new Uint8Array(600)
  for (let j = 2; j < 6; j++) for (let i = 3; i < 13; i++) data[i + 20 * j + 200] = 7
  const vol = new Volume(data, shape, [0.5, 1.0, 2.0])
  const m = measureNode(vol, 7)!
  assert.equal(m.voxels, 40)
  const diag = Math.hypot(4.5, 3), u = [4.5 / diag, 3 / diag]
  assert.ok(Math.abs(m.long_axis_mm - (diag + Math.hypot(u[0] * 0.5, u[1] * 1))) < 1e-9, `long ${m.long_axis_mm}`)
  // width of the centres' rectangle perpendicular to its diagonal is 2*area/diagonal
  assert.ok(Math.abs(m.short_axis_mm - ((2 * 4.5 * 3) / diag + Math.hypot(u[1] * 0.5, u[0] * 1))) < 1e-9, `short ${m.short_axis_mm}`)
  assert.equal(m.axial_slice, 1)
  assert.ok(Math.abs(m.volume_ml - 40 * 0.5 * 1 * 2 / 1000) < 1e-12)
  assert.deepEqual(m.bbox, [[3, 2, 1], [12, 5, 1]])
  assert.deepEqual(m.centre_mm, [7.5 * 0.5, 3.5, 2])
})

test('measure: a digitised ellipsoid measures its axes within one voxel', () => {
  const shape: Vec3 = [64, 64, 20]
  const spacing: Vec3 = [0.7, 0.7, 3]
  const data = ellipsoid(shape, spacing, [22, 22, 30], [9, 5, 12], 3)
  const vol = new Volume(data, shape, spacing)
  const m = measureAllNodes(vol).get(3)!
  assert.ok(Math.abs(m.long_axis_mm - 18) <= 0.7, `long ${m.long_axis_mm}`)
  assert.ok(Math.abs(m.short_axis_mm - 10) <= 0.7, `short ${m.short_axis_mm}`)
  const analytic = (4 / 3) * Math.PI * 9 * 5 * 12 / 1000
  assert.ok(Math.abs(m.volume_ml - analytic) / analytic < 0.05, `volume ${m.volume_ml} vs ${analytic}`)
})

test('measure: the slice axis follows the patient superior direction (coronal stack)', () => {
  // voxel axes: i -> L, j -> S, k -> P (a coronal acquisition); the axial plane is spanned by i and k
  const shape: Vec3 = [40, 10, 40]
  const data = new Uint8Array(shape[0] * shape[1] * shape[2])
  for (let k = 10; k < 30; k++) for (let i = 15; i < 20; i++) data[i + 40 * (5 + 10 * k)] = 1
  const vol = new Volume(data, shape, [1, 1, 1], [0, 0, 0], [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
  const m = measureNode(vol, 1)!
  assert.equal(m.axial_slice, 5)
  assert.ok(Math.abs(m.long_axis_mm - (Math.hypot(19, 4) + 1)) < 1e-9, `long ${m.long_axis_mm}`)
})
