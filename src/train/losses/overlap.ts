/** Region-overlap losses: soft Dice, Tversky, focal Tversky. */
import type { Tensor } from '../../torch/index.js'
import { tidy } from '../../torch/index.js'
import { type IgnoreOptions, oneHot, prepareTarget, spatialAxes } from './common.js'

export interface OverlapOptions extends IgnoreOptions {
  /** Sum over the whole batch before the ratio ("batch Dice", nnU-Net) instead of per sample; default false. */
  batch?: boolean
  /** Smoothing s added to numerator and denominator; default 1e-5 (as nnU-Net). */
  smooth?: number
  /** Include class 0 (background) in the mean; default false (as nnU-Net). */
  includeBackground?: boolean
}

interface Counts {
  tp: Tensor
  fp: Tensor
  fn: Tensor
}

/** Soft true/false positives and false negatives per (sample,) class over labelled voxels. */
function softCounts(logits: Tensor, target: Tensor, options: OverlapOptions): Counts {
  return tidy(() => {
    const { mask, index } = prepareTarget(logits, target, options)
    const probability = logits.softmax(1).mul(mask)
    const truth = oneHot(index, logits.shape[1]!, logits).mul(mask)
    const axes = options.batch ? [0, ...spatialAxes(logits)] : spatialAxes(logits)
    const tp = probability.mul(truth).sum(axes)
    return { tp, fp: probability.sum(axes).sub(tp), fn: truth.sum(axes).sub(tp) }
  })
}

/** Drops the background column (last axis = classes) unless asked to keep it. */
function selectClasses(perClass: Tensor, options: OverlapOptions): Tensor {
  const classes = perClass.shape[perClass.ndim - 1]!
  return options.includeBackground || classes === 1 ? perClass : perClass.slice(perClass.ndim - 1, 1, classes)
}

/**
 * Soft Dice loss (Milletari et al. 2016, V-Net, 3DV; nnU-Net: Isensee et al. 2021):
 *   D_c = (2·Σ p_c g_c + s) / (Σ p_c + Σ g_c + s),   L = 1 − mean_c D_c
 * with p = softmax probabilities, g = one-hot truth, sums over labelled voxels of each sample (or the batch).
 * A class absent from truth and prediction scores D = s/s = 1 (no penalty).
 */
export function softDiceLoss(logits: Tensor, target: Tensor, options: OverlapOptions = {}): Tensor {
  return tidy(() => {
    const smooth = options.smooth ?? 1e-5
    const { tp, fp, fn } = softCounts(logits, target, options)
    const dice = tp.mul(2).add(smooth).div(tp.mul(2).add(fp).add(fn).add(smooth))
    return selectClasses(dice, options).mean().rsub(1)
  })
}

export interface TverskyOptions extends OverlapOptions {
  /** Weight of false positives; default 0.3. */
  alpha?: number
  /** Weight of false negatives; default 0.7. */
  beta?: number
}

function tverskyIndex(logits: Tensor, target: Tensor, options: TverskyOptions): Tensor {
  return tidy(() => {
    const smooth = options.smooth ?? 1e-5
    const { tp, fp, fn } = softCounts(logits, target, options)
    const denominator = tp.add(fp.mul(options.alpha ?? 0.3)).add(fn.mul(options.beta ?? 0.7)).add(smooth)
    return selectClasses(tp.add(smooth).div(denominator), options)
  })
}

/**
 * Tversky loss (Salehi, Erdogmus & Gholipour 2017, "Tversky loss function for image segmentation using 3D
 * fully convolutional deep networks", MLMI):
 *   T_c = (TP_c + s) / (TP_c + α·FP_c + β·FN_c + s),   L = 1 − mean_c T_c
 * with soft counts TP = Σ p g, FP = Σ p (1 − g), FN = Σ (1 − p) g. α = β = 0.5 is soft Dice.
 */
export function tverskyLoss(logits: Tensor, target: Tensor, options: TverskyOptions = {}): Tensor {
  return tidy(() => tverskyIndex(logits, target, options).mean().rsub(1))
}

export interface FocalTverskyOptions extends TverskyOptions {
  /** Exponent γ on (1 − T); default 0.75 (the paper's 1/γ with γ = 4/3). */
  gamma?: number
}

/**
 * Focal Tversky loss (Abraham & Khan 2019, "A novel focal Tversky loss function with improved attention
 * U-Net for lesion segmentation", ISBI):  L = mean_c (1 − T_c)^γ.
 */
export function focalTverskyLoss(logits: Tensor, target: Tensor, options: FocalTverskyOptions = {}): Tensor {
  return tidy(() => tverskyIndex(logits, target, options).rsub(1).clamp(0).pow(options.gamma ?? 0.75).mean())
}
