import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readVolume } from '../../src/io/index.js'
import { cropOrPad } from '../../src/volume/crop.js'
import { orientationCode, reorient } from '../../src/volume/orient.js'
import { resampleTo, resampleToSpacing } from '../../src/volume/resample.js'
import { Axes, Volume, affineLPS, worldToIndex } from '../../src/volume/volume.js'
import { sharedData } from '../helpers.js'

function ramp(shape: [number, number, number], spacing: [number, number, number], origin: [number, number, number], axes?: Axes): Volume {
  const data = new Float32Array(shape[0] * shape[1] * shape[2])
  const v = new Volume(data, shape, spacing, origin, axes)
  // a linear function of world position: linear interpolation must reproduce it exactly
  let n = 0
  for (let k = 0; k < shape[2]; k++) for (let j = 0; j < shape[1]; j++) for (let i = 0; i < shape[0]; i++, n++) {
    const w = v.indexToWorld(i, j, k)
    data[n] = 2 * w[0] - 3 * w[1] + 0.5 * w[2]
  }
  return v
}

test('index <-> world round trip and hand-computed affine', () => {
  const v = new Volume(new Uint8Array(24), [2, 3, 4], [0.5, 2, 3], [10, 20, 30], [[0, 1, 0], [-1, 0, 0], [0, 0, 1]])
  assert.deepEqual(affineLPS(v), [[0, -2, 0, 10], [0.5, 0, 0, 20], [0, 0, 3, 30], [0, 0, 0, 1]])
  assert.deepEqual(v.indexToWorld(1, 2, 3), [10 - 4, 20 + 0.5, 30 + 9])
  const back = worldToIndex(v, [6, 20.5, 39])
  assert.ok(back.every((x, i) => Math.abs(x - [1, 2, 3][i]) < 1e-12))
})

test('linear resampling onto a rotated grid reproduces a linear function of world position', () => {
  const src = ramp([30, 30, 20], [1, 1, 2], [0, 0, 0])
  const a = 0.3
  const target = { shape: [10, 10, 5] as [number, number, number], spacing: [1.3, 0.7, 2.2] as [number, number, number], origin: [8, 9, 10] as [number, number, number],
    axes: [[Math.cos(a), Math.sin(a), 0], [-Math.sin(a), Math.cos(a), 0], [0, 0, 1]] as Axes }
  const out = resampleTo(src, target, { interpolation: 'linear' })
  for (const [i, j, k] of [[0, 0, 0], [9, 9, 4], [3, 5, 2]]) {
    const w = out.indexToWorld(i, j, k)
    assert.ok(Math.abs(out.at(i, j, k) - (2 * w[0] - 3 * w[1] + 0.5 * w[2])) < 1e-3)
  }
})

test('resampling only where a mask says: the same values there, the fill elsewhere', () => {
  const src = ramp([30, 30, 20], [1, 1, 2], [0, 0, 0])
  const target = { shape: [10, 10, 5] as [number, number, number], spacing: [1.3, 0.7, 2.2] as [number, number, number], origin: [8, 9, 10] as [number, number, number], axes: src.axes }
  const full = resampleTo(src, target, { interpolation: 'linear' })
  const where = Uint8Array.from({ length: 500 }, (_, n) => (n % 7 === 0 ? 1 : 0))
  const part = resampleTo(src, target, { interpolation: 'linear', where, fill: -1 })
  for (let n = 0; n < 500; n++) assert.equal(part.data[n], where[n] ? full.data[n] : -1)
})

test('nearest resampling keeps labels and fills outside with 0; spacing change keeps the extent', () => {
  const lab = new Volume(new Uint8Array(8 * 8 * 8).fill(3), [8, 8, 8], [1, 1, 1], [0, 0, 0])
  const shifted = resampleTo(lab, { shape: [8, 8, 8], spacing: [1, 1, 1], origin: [4, 0, 0], axes: lab.axes }, { interpolation: 'nearest' })
  assert.equal(shifted.dtype, 'uint8')
  assert.equal(shifted.at(3, 0, 0), 3)
  assert.equal(shifted.at(4, 0, 0), 0, 'world x = 8 lies outside the source')
  const coarse = resampleToSpacing(lab, [2, 2, 2], { interpolation: 'nearest' })
  assert.deepEqual(coarse.shape, [4, 4, 4])
  assert.deepEqual(coarse.origin, [0.5, 0.5, 0.5], 'outer corner (-0.5) stays in place')
})

test('crop and pad keep world positions', () => {
  const v = ramp([10, 10, 10], [1, 2, 3], [5, 6, 7])
  const c = cropOrPad(v, [-2, 3, 4], [6, 4, 8], -1)
  assert.deepEqual(c.origin, [3, 12, 19])
  assert.equal(c.at(0, 0, 0), -1)
  assert.equal(c.at(2, 0, 0), v.at(0, 3, 4))
  assert.equal(c.at(5, 3, 5), v.at(3, 6, 9))
  assert.equal(c.at(5, 3, 6), -1)
})

test('reorientation to LPS and RAS keeps every voxel at its world position', () => {
  // a coronal, flipped acquisition: i -> R, j -> I, k -> A
  const v = ramp([5, 6, 7], [0.5, 1, 2], [10, -20, 30], [[-1, 0, 0], [0, 0, -1], [0, -1, 0]])
  assert.equal(orientationCode(v.axes), 'RIA')
  for (const code of ['LPS', 'RAS', 'ASL']) {
    const r = reorient(v, code)
    assert.equal(orientationCode(r.axes), code)
    for (const [i, j, k] of [[0, 0, 0], [4, 5, 6], [1, 2, 3]]) {
      const w = v.indexToWorld(i, j, k)
      const idx = r.worldToIndex(w).map((x) => Math.round(x)) as [number, number, number]
      assert.ok(Math.abs(r.worldToIndex(w)[0] - idx[0]) < 1e-9)
      assert.equal(r.at(...idx), v.at(i, j, k))
    }
  }
})

const heart = sharedData('ct/chest_ct_1p5mm_heart.nii.gz'), chest = sharedData('ct/chest_ct_1p5mm.nii.gz')
test('the heart mask on its larger grid, resampled by world coordinates, covers the heart on the chest CT', { skip: !(heart && chest) && 'needs ../shared/data' }, async () => {
  const ct = await readVolume(chest!)
  const mask = await readVolume(heart!)
  assert.notDeepEqual(mask.shape, ct.shape, 'the grids differ, so index matching would be wrong')
  const onCt = resampleTo(mask, ct, { interpolation: 'nearest' })
  let sum = 0, count = 0
  for (let n = 0; n < onCt.data.length; n++) if (onCt.data[n]) { sum += ct.data[n]; count++ }
  assert.ok(count > 10000, `heart voxels ${count}`)
  assert.ok(sum / count > 100, `mean HU inside the heart ${sum / count}`)
  // matching by index instead would miss: the same test on raw indices gives a much lower mean
  let wrongSum = 0, wrongCount = 0
  for (let k = 0; k < ct.shape[2]; k++) for (let j = 0; j < ct.shape[1]; j++) for (let i = 0; i < ct.shape[0]; i++) {
    if (mask.at(i, j, k)) { wrongSum += ct.at(i, j, k); wrongCount++ }
  }
  assert.ok(wrongCount === 0 || wrongSum / wrongCount < sum / count - 50)
})
