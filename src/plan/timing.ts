/**
 * Times real training steps of a candidate network on this machine (the planner's measurement): two
 * warm-up steps (oneDNN builds its primitives, pages are touched) then the median of `steps` timed steps.
 */
import { buildModel, type UNet, type UNetConfig } from '../models/index.js'
import { SGD, manualSeed, randint, randn, setNumThreads } from '../torch/index.js'
import { lossByName } from '../train/loss.js'
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
