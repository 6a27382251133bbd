import { type Tensor, tensor, tidy } from '../../torch/index.js'
import { type IgnoreOptions, defaultIgnoreIndex, prepareTarget } from './common.js'
import { signedDistance } from './distance.js'

/**
 * Signed distance maps φ_c of the ground truth for every class c, [N, C, ...spatial] float32, computed on
 * the CPU from int64 labels [N, ...spatial]. Ignored voxels count as background for the distances.
 */
export function groundTruthDistanceMaps(target: Tensor, classes: number, options: IgnoreOptions & { spacing?: number[] } = {}): Tensor {
  const ignoreIndex = options.ignoreIndex ?? defaultIgnoreIndex
  const [n, ...spatial] = target.shape
  const voxels = spatial.reduce((a, b) => a * b, 1)
  const labels = target.to({ device: 'cpu' })
  const values = labels.toArray() as BigInt64Array
  labels.dispose()
  const maps = new Float32Array(n! * classes * voxels)
  const mask = new Uint8Array(voxels)
  for (let sample = 0; sample < n!; sample++) {
    for (let c = 0; c < classes; c++) {
      for (let i = 0; i < voxels; i++) {
        const label = Number(values[sample * voxels + i])
        mask[i] = label === c && label !== ignoreIndex ? 1 : 0
      }
      maps.set(signedDistance(mask, spatial, options.spacing), (sample * classes + c) * voxels)
    }
  }
  return tensor(maps, [n!, classes, ...spatial])
}

export interface BoundaryOptions extends IgnoreOptions {
  /** Precomputed groundTruthDistanceMaps(target) (compute once per sample and reuse); computed when absent. */
  distanceMaps?: Tensor
  /** Voxel spacing per spatial axis for the distances (e.g. millimetres); default 1. */
  spacing?: number[]
}

/**
 * Boundary loss (Kervadec et al. 2019, "Boundary loss for highly unbalanced segmentation", MIDL; MedIA 2021):
 *   L_B = (1/|M|) Σ_{i∈M} Σ_{c≥1} φ_c(i) · s_c(i)
 * with s = softmax probabilities, φ_c the signed distance map of class c's ground truth (negative inside),
 * M the labelled voxels. Its minimum is negative; the authors pair it with a regional loss (e.g. Dice),
 * raising its weight over training. A class absent from a sample has φ = 0 and contributes nothing.
 */
export function boundaryLoss(logits: Tensor, target: Tensor, options: BoundaryOptions = {}): Tensor {
  return tidy(() => {
    const classes = logits.shape[1]!
    const phi = (options.distanceMaps ?? groundTruthDistanceMaps(target, classes, options))
      .to({ dtype: logits.dtype, device: logits.device })
    const { mask } = prepareTarget(logits, target, options)
    const foreground = logits.softmax(1).mul(phi).slice(1, 1, classes).sum(1, true)
    return foreground.mul(mask).sum().div(mask.sum().clamp(1))
  })
}
