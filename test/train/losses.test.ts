import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  boundaryLoss, crossEntropy, deepSupervisionLoss, diceCeLoss, distanceTo, focalLoss, focalTverskyLoss,
  groundTruthDistanceMaps, signedDistance, softDiceLoss, tverskyLoss,
} from '../../src/train/losses/index.js'
import { gradcheck, manualSeed, noGrad, randint, randn, tensor, tidy, where, type Tensor } from '../../src/torch/index.js'
import { runPython } from '../torch/python.js'

const ignore = 255

/** Labels [N, ...spatial] in 0..classes-1 with some voxels set to the ignore label. */
function labelsWithIgnored(shape: number[], classes: number): Tensor {
  return tidy(() => {
    const labels = randint(0, classes, shape)
    return where(randint(0, 4, shape).eq(0), ignore, labels)
  })
}

type Loss = (logits: Tensor, target: Tensor) => Tensor

function lossCases(target: Tensor, classes: number): [string, Loss][] {
  const distanceMaps = groundTruthDistanceMaps(target, classes)
  return [
    ['cross-entropy', (z, t) => crossEntropy(z, t)],
    ['weighted cross-entropy', (z, t) => crossEntropy(z, t, { weight: [0.2, 1, 3] })],
    ['focal', (z, t) => focalLoss(z, t, { gamma: 2, alpha: [0.25, 1, 1] })],
    ['soft Dice per sample', (z, t) => softDiceLoss(z, t)],
    ['soft Dice batch, background, smoothing 1', (z, t) => softDiceLoss(z, t, { batch: true, includeBackground: true, smooth: 1 })],
    ['Tversky', (z, t) => tverskyLoss(z, t, { alpha: 0.3, beta: 0.7 })],
    ['focal Tversky', (z, t) => focalTverskyLoss(z, t, { gamma: 0.75 })],
    ['boundary', (z, t) => boundaryLoss(z, t, { distanceMaps })],
    ['Dice + CE', (z, t) => diceCeLoss(z, t)],
  ]
}

test('finite-difference gradient check of every loss (with ignored voxels)', () => {
  manualSeed(10)
  const target = labelsWithIgnored([2, 5, 6], 3)
  const logits = randn([2, 3, 5, 6], { dtype: 'float64' })
  for (const [name, loss] of lossCases(target, 3)) {
    const result = gradcheck(([z]) => loss(z!, target), [logits], 1e-6, 60)
    assert.ok(result.maxRelError < 1e-6, `${name}: relative gradient error ${result.maxRelError}`)
  }
})

test('finite-difference gradient check of deep-supervision Dice + CE', () => {
  manualSeed(11)
  const target = labelsWithIgnored([1, 8, 8], 2)
  const full = randn([1, 2, 8, 8], { dtype: 'float64' })
  const half = randn([1, 2, 4, 4], { dtype: 'float64' })
  const result = gradcheck(([a, b]) => deepSupervisionLoss([a!, b!], target, (z, t) => diceCeLoss(z, t)), [full, half], 1e-6, 40)
  assert.ok(result.maxRelError < 1e-6, `relative gradient error ${result.maxRelError}`)
})

test('every loss ignores the ignore label: values and gradients do not depend on ignored voxels', () => {
  manualSeed(12)
  const target = labelsWithIgnored([2, 4, 4, 3], 3)
  const ignored = target.eq(ignore).unsqueeze(1)
  const logits = randn([2, 3, 4, 4, 3], { dtype: 'float64', requiresGrad: true })
  const changed = noGrad(() => where(ignored, randn([2, 3, 4, 4, 3], { dtype: 'float64' }).mul(5), logits))
  for (const [name, loss] of lossCases(target, 3)) {
    const a = tidy(() => loss(logits, target).item())
    const b = tidy(() => loss(changed, target).item())
    assert.ok(Math.abs(a - b) < 1e-12, `${name}: ${a} vs ${b}`)
    logits.clearGrad()
    tidy(() => loss(logits, target).backward())
    const leaked = tidy(() => logits.grad!.mul(ignored).abs().amax().item())
    assert.equal(leaked, 0, `${name}: gradient reached ignored voxels`)
  }
})

test('cross-entropy matches torch.nn.functional.cross_entropy (weights, ignore_index)', () => {
  manualSeed(13)
  const target = labelsWithIgnored([2, 3, 4], 3)
  const logits = randn([2, 3, 3, 4], { dtype: 'float64' })
  const expected = runPython<{ plain: number; weighted: number }>(`
import json, sys, torch
import torch.nn.functional as F
d = json.load(sys.stdin)
z = torch.tensor(d['z'], dtype=torch.float64).reshape(2, 3, 3, 4)
t = torch.tensor(d['t']).reshape(2, 3, 4)
print(json.dumps({'plain': F.cross_entropy(z, t, ignore_index=255).item(),
                  'weighted': F.cross_entropy(z, t, weight=torch.tensor([0.2, 1, 3], dtype=torch.float64), ignore_index=255).item()}))`,
  { z: logits.toNumbers(), t: target.toNumbers() })
  assert.ok(Math.abs(crossEntropy(logits, target).item() - expected.plain) < 1e-12)
  assert.ok(Math.abs(crossEntropy(logits, target, { weight: [0.2, 1, 3] }).item() - expected.weighted) < 1e-12)
})

test('losses reach their bounds: perfect prediction, wrong prediction, special cases', () => {
  manualSeed(14)
  const target = randint(0, 3, [2, 6, 6])
  const perfect = tidy(() => target.oneHot(3).permute([0, 3, 1, 2]).double().mul(40))
  const shiftedLabels = tidy(() => where(target.eq(2), 0, target.add(1)))
  const wrong = tidy(() => shiftedLabels.oneHot(3).permute([0, 3, 1, 2]).double().mul(40))
  assert.ok(softDiceLoss(perfect, target).item() < 1e-6)
  assert.ok(softDiceLoss(wrong, target).item() > 0.999)
  assert.ok(crossEntropy(perfect, target).item() < 1e-6)
  assert.ok(tverskyLoss(perfect, target).item() < 1e-6)
  assert.ok(focalTverskyLoss(wrong, target).item() > 0.999)
  const logits = randn([2, 3, 6, 6], { dtype: 'float64' })
  const tolerance = 1e-12
  assert.ok(Math.abs(focalLoss(logits, target, { gamma: 0 }).item() - crossEntropy(logits, target).item()) < tolerance)
  assert.ok(Math.abs(tverskyLoss(logits, target, { alpha: 0.5, beta: 0.5, smooth: 0 }).item() - softDiceLoss(logits, target, { smooth: 0 }).item()) < tolerance)
  assert.ok(focalLoss(logits, target, { gamma: 2 }).item() < crossEntropy(logits, target).item())
  const allIgnored = tensor(new Array(72).fill(ignore), [2, 6, 6], { dtype: 'int64' })
  assert.equal(Math.abs(crossEntropy(logits, allIgnored).item()), 0)
  assert.equal(Math.abs(focalLoss(logits, allIgnored).item()), 0)
})

test('batch Dice and per-sample Dice differ when a class is missing from one sample', () => {
  const target = tensor([1, 1, 0, 0, 0, 0, 0, 0], [2, 1, 4], { dtype: 'int64' })
  const logits = tensor([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0], [2, 2, 1, 4], { dtype: 'float64' })
  const perSample = softDiceLoss(logits, target).item()
  const batch = softDiceLoss(logits, target, { batch: true }).item()
  assert.ok(Math.abs(perSample - batch) > 0.02, `${perSample} vs ${batch}`)
})

test('distance transform matches brute force, with anisotropic spacing', () => {
  const shape = [5, 7, 6]
  const spacing = [2.5, 1, 0.7]
  const mask = new Uint8Array(5 * 7 * 6)
  for (let i = 0; i < mask.length; i++) mask[i] = (i * 7919) % 23 === 0 ? 1 : 0
  const fast = distanceTo(mask, shape, spacing)
  const coords = (i: number) => [Math.floor(i / 42), Math.floor(i / 6) % 7, i % 6]
  let maxError = 0
  for (let i = 0; i < mask.length; i++) {
    let best = Infinity
    for (let j = 0; j < mask.length; j++) {
      if (!mask[j]) continue
      const [a, b] = [coords(i), coords(j)]
      best = Math.min(best, Math.hypot(...a.map((v, k) => (v - b[k]!) * spacing[k]!)))
    }
    maxError = Math.max(maxError, Math.abs(best - fast[i]!))
  }
  assert.ok(maxError < 1e-9, `max error ${maxError}`)
})

test('signed distance: negative inside, positive outside, zero for empty masks', () => {
  const mask = new Uint8Array(9)
  mask.set([1, 1, 1], 3)
  const phi = signedDistance(mask, [9])
  assert.deepEqual(Array.from(phi), [3, 2, 1, 0, -1, 0, 1, 2, 3])
  assert.ok(signedDistance(new Uint8Array(9), [9]).every((v) => v === 0))
})

test('boundary loss prefers the correct segmentation to a shifted one', () => {
  const target = tensor(new Array(64).fill(0).map((_, i) => (i % 8 >= 2 && i % 8 < 5 && i >= 16 && i < 40 ? 1 : 0)), [1, 8, 8], { dtype: 'int64' })
  const correct = tidy(() => target.oneHot(2).permute([0, 3, 1, 2]).float().mul(10))
  const shiftedTarget = tensor(new Array(64).fill(0).map((_, i) => (i % 8 >= 5 && i % 8 < 8 && i >= 16 && i < 40 ? 1 : 0)), [1, 8, 8], { dtype: 'int64' })
  const shifted = tidy(() => shiftedTarget.oneHot(2).permute([0, 3, 1, 2]).float().mul(10))
  assert.ok(boundaryLoss(correct, target).item() < boundaryLoss(shifted, target).item())
})
