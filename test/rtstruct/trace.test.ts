import { test } from 'node:test'
import assert from 'node:assert/strict'
import { traceSlice, Loop } from '../../src/io/rtstruct/trace.js'
import { toggleInside } from '../../src/io/rtstruct/rasterize.js'
import { contoursOfStructure } from '../../src/io/rtstruct/write.js'
import { structuresFromLabels } from '../../src/io/rtstruct/structures.js'
import { Vec3, Volume } from '../../src/volume/volume.js'

/** A one-slice mask from rows of '#' (inside) and '.' (outside). */
function sliceFrom(rows: string[]): { mask: Uint8Array; shape: Vec3 } {
  const shape: Vec3 = [rows[0].length, rows.length, 1]
  const mask = new Uint8Array(shape[0] * shape[1])
  rows.forEach((r, j) => [...r].forEach((c, i) => { mask[i + shape[0] * j] = c === '#' ? 1 : 0 }))
  return { mask, shape }
}

function fill(loops: Loop[], shape: Vec3): Uint8Array {
  const out = new Uint8Array(shape[0] * shape[1])
  for (const loop of loops) toggleInside(out, shape[0], shape[1], 0, loop)
  return out
}

const sortedPoints = (loop: Loop) => loop.map(([x, y]) => `${x},${y}`).sort()

test('a single voxel becomes a diamond through the four half-way points', () => {
  const { mask, shape } = sliceFrom(['...', '.#.', '...'])
  const loops = traceSlice(mask, shape, 0)
  assert.equal(loops.length, 1)
  assert.deepEqual(sortedPoints(loops[0]), ['0.5,1', '1,0.5', '1,1.5', '1.5,1'])
  assert.deepEqual([...fill(loops, shape)], [...mask])
})

test('a square cuts its corners diagonally and keeps straight edges as two points', () => {
  const { mask, shape } = sliceFrom(['....', '.##.', '.##.', '....'])
  const [loop] = traceSlice(mask, shape, 0)
  // octagon: two points per side, corners cut at 45 degrees, no staircase
  assert.deepEqual(sortedPoints(loop), ['0.5,1', '0.5,2', '1,0.5', '1,2.5', '2,0.5', '2,2.5', '2.5,1', '2.5,2'])
})

test('holes and islands in holes are separate loops that fill back with the even-odd rule', () => {
  const { mask, shape } = sliceFrom([
    '#######',
    '#.....#',
    '#.###.#',
    '#.#.#.#',
    '#.###.#',
    '#.....#',
    '#######',
  ])
  const loops = traceSlice(mask, shape, 0)
  // outer boundary, inner boundary of the outer ring, outer and inner boundary of the island ring
  assert.equal(loops.length, 4)
  assert.deepEqual([...fill(loops, shape)], [...mask])
})

test('diagonal neighbours stay one region; separate islands give separate loops', () => {
  const loopCount = (rows: string[]) => {
    const { mask, shape } = sliceFrom(rows)
    return traceSlice(mask, shape, 0).length
  }
  assert.equal(loopCount(['#.', '.#']), 1)
  assert.equal(loopCount(['#..', '...', '..#']), 2)
})

test('tracing then filling gives random masks back voxel for voxel', () => {
  let seed = 12345
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  for (let trial = 0; trial < 40; trial++) {
    const shape: Vec3 = [17, 13, 1]
    const density = 0.2 + 0.6 * rand()
    const mask = Uint8Array.from({ length: 17 * 13 }, () => (rand() < density ? 1 : 0))
    assert.deepEqual([...fill(traceSlice(mask, shape, 0), shape)], [...mask], `trial ${trial}`)
  }
})

test('contour points are in patient coordinates of the grid (hand-computed, oblique grid)', () => {
  // voxel axes: i along +y, j along -x, k along +z; spacing 0.5, 0.8, 2; origin (10, 20, 30)
  const vol = new Volume(new Uint8Array(5 * 5 * 3), [5, 5, 3], [0.5, 0.8, 2], [10, 20, 30], [[0, 1, 0], [-1, 0, 0], [0, 0, 1]])
  vol.data[vol.offset(2, 3, 1)] = 1
  const set = structuresFromLabels(vol)
  const [contour] = contoursOfStructure(set, 1)
  assert.equal(contour.slice, 1)
  const points = []
  for (let p = 0; p < contour.points.length; p += 3) points.push(contour.points.slice(p, p + 3).map((v) => +v.toFixed(6)).join(','))
  // centre of voxel (2,3,1): x = 10 - 3*0.8 = 7.6, y = 20 + 2*0.5 = 21, z = 30 + 2 = 32
  assert.deepEqual(points.sort(), ['7.2,21,32', '7.6,20.75,32', '7.6,21.25,32', '8,21,32'])
})
