/** Networks by name, as plans name them. */
import { NodalError } from '../errors.js'
import type { Module } from '../torch/index.js'
import { NodeClassifier, type NodeClassifierConfig } from './classifier.js'
import { UNet, type UNetConfig } from './unet.js'

export interface ModelConfigs {
  unet: UNetConfig
  resenc_unet: UNetConfig
  attention_unet: UNetConfig
  node_classifier: NodeClassifierConfig
}

export type ModelName = keyof ModelConfigs

const builders: { [K in ModelName]: (config: ModelConfigs[K]) => Module } = {
  unet: (c) => new UNet({ ...c, encoder: 'plain', attention: false }),
  resenc_unet: (c) => new UNet({ ...c, encoder: 'residual', attention: false }),
  attention_unet: (c) => new UNet({ ...c, encoder: c.encoder ?? 'plain', attention: true }),
  node_classifier: (c) => new NodeClassifier(c),
}

export const modelNames = Object.keys(builders) as ModelName[]

export function buildModel<K extends ModelName>(name: K, config: ModelConfigs[K]): Module {
  const build = builders[name] as ((config: ModelConfigs[K]) => Module) | undefined
  if (!build) throw new NodalError('unknown-model', `unknown network '${name}' (known: ${modelNames.join(', ')})`)
  return build(config)
}
