/**
 * Conventions shared by every loss: `logits` [N, C, ...spatial] (float32 or float64), `target` int64 class
 * indices [N, ...spatial]. Voxels whose target equals `ignoreIndex` (default 255) count nowhere: not in
 * numerators, denominators or means, so partially annotated scans can be trained on.
 */
import { type Tensor, tensor, tidy } from '../../torch/index.js'

export const defaultIgnoreIndex = 255

export interface IgnoreOptions {
  /** Target value that marks unlabelled voxels; default 255. */
  ignoreIndex?: number
}

export interface Prepared {
  /** 1 where labelled, 0 where ignored: [N, 1, ...spatial], logits' dtype. */
  mask: Tensor
  /** Target with ignored voxels set to class 0 so that indexing stays valid: [N, 1, ...spatial] int64. */
  index: Tensor
}

export function prepareTarget(logits: Tensor, target: Tensor, options: IgnoreOptions = {}): Prepared {
  return tidy(() => {
    const ignored = target.eq(options.ignoreIndex ?? defaultIgnoreIndex).unsqueeze(1)
    const index = target.unsqueeze(1).mul(ignored.logicalNot().long())
    return { mask: ignored.logicalNot().to({ dtype: logits.dtype }), index }
  })
}

/** One-hot encoding of index [N, 1, ...] as [N, C, ...] in `like`'s dtype. */
export function oneHot(index: Tensor, classes: number, like: Tensor): Tensor {
  return tidy(() => {
    const hot = index.squeeze(1).oneHot(classes)
    const n = hot.ndim
    return hot.permute([0, n - 1, ...Array.from({ length: n - 2 }, (_, i) => i + 1)]).to({ dtype: like.dtype })
  })
}

/** Spatial axes of an [N, C, ...spatial] tensor. */
export function spatialAxes(t: Tensor): number[] {
  return Array.from({ length: t.ndim - 2 }, (_, i) => i + 2)
}

/** Per-class weights [C] as a tensor [1, C, 1, ...] broadcastable over [N, C, ...spatial]. */
export function classWeights(weights: number[], like: Tensor): Tensor {
  const shape = [1, weights.length, ...spatialAxes(like).map(() => 1)]
  return tensor(weights, shape, { dtype: like.dtype, device: like.device })
}
