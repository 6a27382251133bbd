import { test } from 'node:test'
import assert from 'node:assert/strict'
import { squaredDistancesAt, squaredDistanceTransform } from '../../src/eval/edt.js'
import type { Vec3 } from '../../src/volume/volume.js'
import { scipyDistanceToFeature, scipyMissing } from './scipy-judge.js'
import { lcg } from './scenes.js'

function bruteForce(feature: Uint8Array, shape: Vec3, spacing: Vec3): Float64Array {
  const [nx, ny, nz] = shape
  const points: Vec3[] = []
  for (let n = 0; n < feature.length; n++) {
    if (feature[n]) points.push([n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))])
  }
  const out = new Float64Array(feature.length)
  for (let n = 0; n < feature.length; n++) {
    const p = [n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))]
    let best = Infinity
    for (const q of points) {
      const d = ((p[0] - q[0]) * spacing[0]) ** 2 + ((p[1] - q[1]) * spacing[1]) ** 2 + ((p[2] - q[2]) * spacing[2]) ** 2
      if (d < best) best = d
    }
    out[n] = best
  }
  return out
}

test('EDT equals brute force on random sparse scenes, isotropic and anisotropic', () => {
  const rand = lcg(7)
  const cases: [Vec3, Vec3, number][] = [
    [[9, 7, 5], [1, 1, 1], 0.05], [[8, 11, 6], [0.7, 1.3, 3], 0.02], [[13, 5, 9], [2.5, 0.4, 1.1], 0.1], [[6, 6, 6], [1, 1, 1], 0.004],
  ]
  for (const [shape, spacing, density] of cases) {
    const feature = new Uint8Array(shape[0] * shape[1] * shape[2])
    for (let n = 0; n < feature.length; n++) feature[n] = rand() < density ? 1 : 0
    feature[Math.floor(rand() * feature.length)] = 1
    const got = squaredDistanceTransform(feature, shape, spacing)
    const want = bruteForce(feature, shape, spacing)
    for (let n = 0; n < want.length; n++) assert.ok(Math.abs(got[n] - want[n]) <= 1e-5 * Math.max(1, want[n]), `voxel ${n}: ${got[n]} vs ${want[n]}`)
    // the query form gives the same values at a random ascending subset
    const queries = Int32Array.from(want.keys()).filter(() => rand() < 0.3)
    const at = squaredDistancesAt(feature, shape, spacing, queries)
    queries.forEach((n, m) => assert.ok(Math.abs(at[m] - want[n]) <= 1e-5 * Math.max(1, want[n]), `query ${n}: ${at[m]} vs ${want[n]}`))
  }
})

test('EDT of a single point is the analytic anisotropic distance', () => {
  const shape: Vec3 = [21, 17, 9], spacing: Vec3 = [0.8, 0.8, 2.5]
  const feature = new Uint8Array(21 * 17 * 9)
  feature[10 + 21 * (8 + 17 * 4)] = 1
  const d = squaredDistanceTransform(feature, shape, spacing)
  assert.equal(d[10 + 21 * (8 + 17 * 4)], 0)
  assert.ok(Math.abs(d[0] - ((10 * 0.8) ** 2 + (8 * 0.8) ** 2 + (4 * 2.5) ** 2)) < 1e-3)
  assert.ok(Math.abs(d[20 + 21 * (16 + 17 * 8)] - ((10 * 0.8) ** 2 + (8 * 0.8) ** 2 + (4 * 2.5) ** 2)) < 1e-3)
})

test('EDT without any feature voxel is Infinity everywhere', () => {
  const d = squaredDistanceTransform(new Uint8Array(24), [4, 3, 2], [1, 1, 1])
  assert.ok(d.every((v) => v === Infinity))
})

test('EDT agrees with scipy distance_transform_edt(sampling=) on an anisotropic grid', { skip: scipyMissing }, () => {
  const rand = lcg(11)
  const shape: Vec3 = [40, 33, 17], spacing: Vec3 = [0.6, 0.9, 3.2]
  const feature = new Uint8Array(shape[0] * shape[1] * shape[2])
  for (let n = 0; n < feature.length; n++) feature[n] = rand() < 0.003 ? 1 : 0
  const got = squaredDistanceTransform(feature, shape, spacing)
  const want = scipyDistanceToFeature(feature, shape, spacing)
  let worst = 0
  for (let n = 0; n < want.length; n++) worst = Math.max(worst, Math.abs(Math.sqrt(got[n]) - want[n]))
  assert.ok(worst < 1e-4, `largest difference from scipy ${worst} mm`)
})
