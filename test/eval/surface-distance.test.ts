import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  averageSymmetricSurfaceDistance, boundaryF1, hausdorffDistance, hausdorffDistance95, normalizedSurfaceDice, surfaceDistances,
} from '../../src/eval/surface-distance.js'
import { surfaceVoxels } from '../../src/eval/surface.js'
import type { Vec3 } from '../../src/volume/volume.js'
import { binary, emptyVolume, lcg, paintBall, paintBox } from './scenes.js'
import { scipyMissing, scipySurfaceMetrics } from './scipy-judge.js'

const close = (a: number | null, b: number, tol = 1e-5) => assert.ok(a !== null && Math.abs(a - b) <= tol, `${a} vs ${b}`)

test('surface of a 10-cube is its 488 outer voxels; a grid-filling mask is all surface at the edges', () => {
  const v = paintBox(emptyVolume([14, 14, 14]), [2, 2, 2], [11, 11, 11])
  assert.equal(surfaceVoxels(v.data, v.shape).length, 10 ** 3 - 8 ** 3)
  const full = new Uint8Array(27).fill(1)
  assert.equal(surfaceVoxels(full, [3, 3, 3]).length, 26)
  assert.equal(surfaceVoxels(new Uint8Array(27), [3, 3, 3]).length, 0)
})

function cubes(shift: number, spacing: Vec3) {
  const a = paintBox(emptyVolume([20, 14, 14], spacing), [2, 2, 2], [11, 11, 11])
  const b = paintBox(emptyVolume([20, 14, 14], spacing), [2 + shift, 2, 2], [11 + shift, 11, 11])
  return surfaceDistances(binary(a), binary(b), a.shape, spacing)
}

test('cube shifted by 3 voxels: Hausdorff 3 voxels, isotropic and anisotropic', () => {
  close(hausdorffDistance(cubes(3, [1, 1, 1])), 3)
  close(hausdorffDistance(cubes(3, [2, 0.5, 0.7])), 6)
  close(hausdorffDistance(cubes(3, [0.6, 3, 3])), 1.8)
})

test('cube shifted by 1 voxel: NSD and boundary F1 at 0.5 mm are 324/488 (counted by hand), 1 at 1 mm', () => {
  const d = cubes(1, [1, 1, 1])
  // A's surface voxels with a B-surface voxel at distance 0: the side rings of slices x = 1..9 (9 × 36)
  close(normalizedSurfaceDice(d, 0.5), 324 / 488)
  close(boundaryF1(d, 0.5), 324 / 488)
  close(normalizedSurfaceDice(d, 1), 1)
  close(hausdorffDistance(d), 1)
  // 164 of 488 surface voxels per direction are 1 mm away, the rest 0
  close(averageSymmetricSurfaceDistance(d), 164 / 488)
  // 95th percentile of 324 zeros and 164 ones (numpy linear) is 1
  close(hausdorffDistance95(d), 1)
})

test('concentric balls: Hausdorff ≈ difference of radii (within one voxel), anisotropic grid', () => {
  const spacing: Vec3 = [0.7, 0.7, 2]
  const a = paintBall(emptyVolume([60, 60, 24], spacing), [30, 30, 12], 12)
  const b = paintBall(emptyVolume([60, 60, 24], spacing), [30, 30, 12], 18)
  const d = surfaceDistances(binary(a), binary(b), a.shape, spacing)
  const hd = hausdorffDistance(d)!
  assert.ok(Math.abs(hd - 6) <= 2, `hd ${hd}`)
  const assd = averageSymmetricSurfaceDistance(d)!
  assert.ok(Math.abs(assd - 6) <= 1.5, `assd ${assd}`)
  assert.equal(normalizedSurfaceDice(d, 2), 0)
})

test('identical masks: every distance 0, NSD and boundary F1 1', () => {
  const a = binary(paintBall(emptyVolume([20, 20, 20]), [10, 10, 10], 6))
  const d = surfaceDistances(a, a, [20, 20, 20], [1, 1, 1])
  assert.equal(hausdorffDistance(d), 0)
  assert.equal(hausdorffDistance95(d), 0)
  assert.equal(averageSymmetricSurfaceDistance(d), 0)
  assert.equal(normalizedSurfaceDice(d, 0), 1)
  assert.equal(boundaryF1(d, 0), 1)
})

test('surface metrics are symmetric in prediction and truth', () => {
  const spacing: Vec3 = [0.8, 1.1, 2.5]
  const a = binary(paintBox(paintBall(emptyVolume([30, 26, 14], spacing), [12, 12, 7], 7), [20, 3, 2], [26, 8, 5]))
  const b = binary(paintBall(emptyVolume([30, 26, 14], spacing), [15, 13, 6], 8))
  const ab = surfaceDistances(a, b, [30, 26, 14], spacing), ba = surfaceDistances(b, a, [30, 26, 14], spacing)
  for (const f of [hausdorffDistance, hausdorffDistance95, averageSymmetricSurfaceDistance]) close(f(ab), f(ba)!)
  close(normalizedSurfaceDice(ab, 2), normalizedSurfaceDice(ba, 2))
  close(boundaryF1(ab, 2), boundaryF1(ba, 2))
})

test('empty masks: both empty → distances 0, NSD/BF1 1; one empty → distances null, NSD/BF1 0', () => {
  const empty = new Uint8Array(64), one = new Uint8Array(64)
  one[21] = 1
  const both = surfaceDistances(empty, empty, [4, 4, 4], [1, 1, 1])
  assert.equal(hausdorffDistance(both), 0)
  assert.equal(hausdorffDistance95(both), 0)
  assert.equal(averageSymmetricSurfaceDistance(both), 0)
  assert.equal(normalizedSurfaceDice(both, 2), 1)
  assert.equal(boundaryF1(both, 2), 1)
  for (const d of [surfaceDistances(one, empty, [4, 4, 4], [1, 1, 1]), surfaceDistances(empty, one, [4, 4, 4], [1, 1, 1])]) {
    assert.equal(hausdorffDistance(d), null)
    assert.equal(hausdorffDistance95(d), null)
    assert.equal(averageSymmetricSurfaceDistance(d), null)
    assert.equal(normalizedSurfaceDice(d, 2), 0)
    assert.equal(boundaryF1(d, 2), 0)
  }
})

test('HD, HD95, ASSD and NSD agree with a scipy implementation of MONAI\'s definition on random blobs', { skip: scipyMissing }, () => {
  const rand = lcg(3)
  const shape: Vec3 = [36, 30, 16], spacing: Vec3 = [0.7, 0.9, 2.5]
  for (let trial = 0; trial < 3; trial++) {
    const p = emptyVolume(shape, spacing), g = emptyVolume(shape, spacing)
    for (let b = 0; b < 4; b++) {
      paintBall(p, [rand() * 36, rand() * 30, rand() * 16], 2 + rand() * 6)
      paintBall(g, [rand() * 36, rand() * 30, rand() * 16], 2 + rand() * 6)
    }
    const pm = binary(p), gm = binary(g)
    const d = surfaceDistances(pm, gm, shape, spacing)
    const [hd, hd95, assd, nsd] = scipySurfaceMetrics(Uint8Array.from(pm, (v, n) => v | (gm[n] << 1)), shape, spacing)
    close(hausdorffDistance(d), hd, 1e-4)
    close(hausdorffDistance95(d), hd95, 1e-4)
    close(averageSymmetricSurfaceDistance(d), assd, 1e-4)
    close(normalizedSurfaceDice(d, 2), nsd, 1e-9)
  }
})
