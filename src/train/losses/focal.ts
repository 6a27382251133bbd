import type { Tensor } from '../../torch/index.js'
import { tidy } from '../../torch/index.js'
import { type IgnoreOptions, classWeights, oneHot, prepareTarget } from './common.js'

export interface FocalOptions extends IgnoreOptions {
  /** Focusing parameter γ >= 0; default 2. γ = 0 gives cross-entropy. */
  gamma?: number
  /** Per-class balancing weights α_c; default none (all 1). */
  alpha?: number[]
}

/**
 * Focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection", ICCV), multi-class form:
 *   FL = (1/|M|) Σ_{i∈M} − α_{y_i} (1 − p_i)^γ log p_i,   p_i = softmax(z_i)_{y_i}
 * averaged over the labelled voxels M. All voxels ignored: 0.
 */
export function focalLoss(logits: Tensor, target: Tensor, options: FocalOptions = {}): Tensor {
  return tidy(() => {
    const gamma = options.gamma ?? 2
    const { mask, index } = prepareTarget(logits, target, options)
    const logP = logits.logSoftmax(1).gather(1, index)
    let perVoxel = logP.exp().rsub(1).clamp(0).pow(gamma).mul(logP).neg()
    if (options.alpha) {
      perVoxel = perVoxel.mul(oneHot(index, logits.shape[1]!, logits).mul(classWeights(options.alpha, logits)).sum(1, true))
    }
    return perVoxel.mul(mask).sum().div(mask.sum().clamp(1))
  })
}
