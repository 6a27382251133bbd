import { F, type Tensor, tidy } from '../../torch/index.js'
import { type CrossEntropyOptions, crossEntropy } from './cross-entropy.js'
import { type OverlapOptions, softDiceLoss } from './overlap.js'

export interface DiceCeOptions extends OverlapOptions, CrossEntropyOptions {
  /** Weight of the cross-entropy term; default 1. */
  ceWeight?: number
  /** Weight of the Dice term; default 1. */
  diceWeight?: number
}

/**
 * Dice + cross-entropy as nnU-Net trains with it (Isensee et al. 2021, Nature Methods):
 *   L = w_ce · CE + w_dice · (1 − mean_c D_c)
 * (nnU-Net adds −D rather than 1 − D; the constant does not change gradients). Ignore label honoured by both.
 */
export function diceCeLoss(logits: Tensor, target: Tensor, options: DiceCeOptions = {}): Tensor {
  return tidy(() => crossEntropy(logits, target, options).mul(options.ceWeight ?? 1)
    .add(softDiceLoss(logits, target, options).mul(options.diceWeight ?? 1)))
}

/**
 * Deep supervision (nnU-Net): the loss of each output against the target resampled (nearest) to its size,
 * weighted 1/2^k for output k (full resolution first) and normalised to sum to 1. `target` may also be the
 * list of targets already resampled to each output's size (as a data loader would prepare them once).
 */
export function deepSupervisionLoss(outputs: Tensor[], target: Tensor | Tensor[], loss: (logits: Tensor, target: Tensor) => Tensor): Tensor {
  return tidy(() => {
    const weights = outputs.map((_, k) => 1 / 2 ** k)
    const total = weights.reduce((a, b) => a + b, 0)
    return outputs.map((logits, k) => {
      if (Array.isArray(target)) return loss(logits, target[k]!).mul(weights[k]! / total)
      const size = logits.shape.slice(2)
      const resampled = size.join() === target.shape.slice(1).join()
        ? target
        : F.interpolate(target.unsqueeze(1).float(), size, 'nearest').squeeze(1).long()
      return loss(logits, resampled).mul(weights[k]! / total)
    }).reduce((a, b) => a.add(b))
  })
}
