/**
 * Training losses by the names `nodal train --loss` accepts. Each is applied to every deep-supervision
 * output against the labels at that output's resolution (nnU-Net's weighting, src/train/losses/compound.ts).
 * The ignore label (255) counts in none of them.
 */
import { NodalError } from '../errors.js'
import type { Tensor } from '../torch/index.js'
import { tidy } from '../torch/index.js'
import {
  boundaryLoss, crossEntropy, diceCeLoss, focalLoss, focalTverskyLoss, softDiceLoss, tverskyLoss,
} from './losses/index.js'

export const LOSS_NAMES = ['dice-ce', 'ce', 'weighted-ce', 'focal', 'dice', 'tversky', 'focal-tversky', 'dice-focal', 'boundary'] as const
export type LossName = (typeof LOSS_NAMES)[number]

export type LossFn = (logits: Tensor, target: Tensor, progress: number) => Tensor

export const LOSS_HELP: Record<LossName, string> = {
  'dice-ce': 'soft Dice + cross-entropy (nnU-Net default)',
  ce: 'cross-entropy',
  'weighted-ce': 'cross-entropy with foreground classes weighted 10x',
  focal: 'focal loss, gamma 2 (Lin et al. 2017)',
  dice: 'soft Dice',
  tversky: 'Tversky, alpha 0.3 beta 0.7: false negatives cost more (Salehi et al. 2017)',
  'focal-tversky': 'focal Tversky, gamma 0.75 (Abraham & Khan 2019)',
  'dice-focal': 'soft Dice + focal',
  boundary: 'Dice + CE, plus the boundary loss with a weight rising from 0.01 to 0.5 over training (Kervadec et al. 2019)',
}

/** The loss for a name; `classes` sizes the class weights, `spacing` ([z, y, x] mm) scales boundary distances. */
export function lossByName(name: string, classes: number, spacing: number[]): LossFn {
  // Overlap terms are "batch Dice" (sums over the whole batch, as nnU-Net's 3D configurations): nodes are
  // small and many patches hold none, and a per-sample Dice with its tiny smoothing term scores an empty
  // patch 0 for the faintest foreground probability, which drives the network to predict no node at all.
  const batch = true
  switch (name as LossName) {
    case 'dice-ce': return (z, t) => diceCeLoss(z, t, { batch })
    case 'ce': return (z, t) => crossEntropy(z, t)
    case 'weighted-ce': return (z, t) => crossEntropy(z, t, { weight: [1, ...Array(classes - 1).fill(10)] })
    case 'focal': return (z, t) => focalLoss(z, t, { gamma: 2 })
    case 'dice': return (z, t) => softDiceLoss(z, t, { batch })
    case 'tversky': return (z, t) => tverskyLoss(z, t, { alpha: 0.3, beta: 0.7, batch })
    case 'focal-tversky': return (z, t) => focalTverskyLoss(z, t, { alpha: 0.3, beta: 0.7, gamma: 0.75, batch })
    case 'dice-focal': return (z, t) => tidy(() => softDiceLoss(z, t, { batch }).add(focalLoss(z, t, { gamma: 2 })))
    case 'boundary':
      return (z, t, progress) => tidy(() => diceCeLoss(z, t, { batch }).add(boundaryLoss(z, t, { spacing }).mul(0.01 + 0.49 * progress)))
    default:
      throw new NodalError('usage', `unknown loss '${name}' (known: ${LOSS_NAMES.join(', ')})`)
  }
}
