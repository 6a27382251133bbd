/**
 * Times real training steps of a candidate network on this machine (the planner's measurement): two
 * warm-up steps (oneDNN builds its primitives, pages are touched) then the median of `steps` timed steps.
 */
import { buildModel, type UNet, type UNetConfig } from '../models/index.js'
import { SGD, manualSeed, randint, randn, setNumThreads } from '../torch/index.js'
import { augmentPatch, defaultAugmentOptions, gaussian, makeRng } from '../train/augment/index.js'
import { lossByName } from '../train/loss.js'
import { regionFor } from '../train/sampler.js'
import { trainStep } from '../train/step.js'
import type { Triple } from './plans.js'

export async function timeTrainingStep(networkName: string, config: UNetConfig, patch: Triple, batch: number, threads: number, steps = 3): Promise<number> {
  setNumThreads(threads)
  manualSeed(0)
  const model = buildModel(networkName as 'unet', config) as UNet
  const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 })
  const x = randn([batch, config.inChannels, ...patch])
  const target = randint(0, config.numClasses, [batch, ...patch])
  const loss = lossByName('dice-ce', config.numClasses, patch)
  const times: number[] = []
  try {
    for (let i = 0; i < steps + 2; i++) {
      const start = performance.now()
      await trainStep(model, optimizer, x, target, loss, 0)
      if (i >= 2) times.push(performance.now() - start)
    }
  } finally {
    x.dispose()
    target.dispose()
    optimizer.dispose()
    model.dispose()
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}

/**
 * Milliseconds the augmentation of one batch takes on one core (default augmentation, a seeded mix of
 * draws, the region the sampler reads), so the plan can charge it: on a machine with few cores the
 * augmentation worker takes its core from libtorch.
 */
export function timeAugmentation(patch: Triple, spacing: Triple, channels: number, batch: number, samples = 6): number {
  const region = regionFor(patch, Math.max(...spacing) / Math.min(...spacing) > 3)
  const voxels = region[0] * region[1] * region[2]
  const rng = makeRng(7)
  const image = new Float32Array(channels * voxels).map(() => gaussian(rng))
  const label = new Uint8Array(voxels)
  const options = defaultAugmentOptions(spacing)
  const start = performance.now()
  for (let i = 0; i < samples; i++) augmentPatch({ image, label, channels, shape: region, spacing }, patch, options, makeRng(i))
  return ((performance.now() - start) / samples) * batch
}
