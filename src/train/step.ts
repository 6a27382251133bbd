/**
 * One training step: forward with deep supervision, the loss at every output resolution, backward (on a
 * libuv thread, so the event loop keeps serving the progress bar and the augmentation workers), optimizer step.
 */
import type { UNet } from '../models/index.js'
import { F, type Optimizer, type Tensor, noGrad, tidy } from '../torch/index.js'
import { deepSupervisionLoss } from './losses/index.js'
import type { LossFn } from './loss.js'

/** The labels [B, Z, Y, X] (int64) at each deep-supervision output's size (nearest, as nnU-Net). */
export function deepSupervisionTargets(outputSizes: number[][], target: Tensor): Tensor[] {
  return noGrad(() => outputSizes.map((size) => (size.join() === target.shape.slice(1).join()
    ? target.clone()
    : F.interpolate(target.unsqueeze(1).float(), size, 'nearest').squeeze(1).long())))
}

/** Runs one step and returns the loss value. `progress` in [0, 1] is the fraction of training done. */
export async function trainStep(model: UNet, optimizer: Optimizer, x: Tensor, target: Tensor, loss: LossFn, progress: number): Promise<number> {
  model.train()
  optimizer.zeroGrad()
  const value = tidy(() => {
    const outputs = model.forwardDeep(x)
    const targets = deepSupervisionTargets(outputs.map((o) => o.shape.slice(2)), target)
    return deepSupervisionLoss(outputs, targets, (z, t) => loss(z, t, progress))
  })
  const number = value.item()
  await value.backwardAsync()
  value.dispose()
  optimizer.step()
  return number
}
