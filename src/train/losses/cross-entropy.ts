import type { Tensor } from '../../torch/index.js'
import { tidy } from '../../torch/index.js'
import { type IgnoreOptions, classWeights, oneHot, prepareTarget } from './common.js'

export interface CrossEntropyOptions extends IgnoreOptions {
  /** Per-class weights w_c (weighted cross-entropy); default all 1. */
  weight?: number[]
}

/**
 * Cross-entropy, optionally class-weighted:
 *   CE = − Σ_i m_i w_{y_i} log softmax(z_i)_{y_i} / Σ_i m_i w_{y_i}
 * over voxels i with label y_i, labelled-mask m_i (0 for ignoreIndex) and class weights w (1 by default).
 * This is torch.nn.functional.cross_entropy(weight=w, ignore_index=…, reduction='mean').
 * All voxels ignored: 0. Reference: e.g. Goodfellow, Bengio & Courville, Deep Learning (2016), §6.2.2.
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  return tidy(() => {
    const { mask, index } = prepareTarget(logits, target, options)
    const logProbability = logits.logSoftmax(1).gather(1, index)
    let voxelWeight = mask
    if (options.weight) {
      const perClass = oneHot(index, logits.shape[1]!, logits).mul(classWeights(options.weight, logits)).sum(1, true)
      voxelWeight = mask.mul(perClass)
    }
    return logProbability.mul(voxelWeight).sum().neg().div(voxelWeight.sum().clamp(1e-12))
  })
}
