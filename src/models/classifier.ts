/**
 * A small 3D CNN that classifies node patches (e.g. benign/malignant) from one or more channels (CT, PET),
 * with class-activation maps (Zhou et al. 2016, "Learning Deep Features for Discriminative Localization"):
 * CAM_c = ReLU(Σ_k w_ck · F_k), upsampled to the patch and scaled to [0, 1], where F_k are the last feature
 * maps and w_c the linear classifier's weights for class c (possible because the head is global pooling + linear).
 */
import { Module, F, nn, noGrad, type OnnxEmitter, type Tensor } from '../torch/index.js'
import { StackedConvs } from './blocks.js'

export interface NodeClassifierConfig {
  inChannels: number
  numClasses: number
  /** Features per stage; each stage after the first starts with 2x max pooling. Default [16, 32, 64]. */
  features?: number[]
  dropout?: number
}

export class NodeClassifier extends Module {
  readonly stages: Module[] = []
  readonly pool = new nn.GlobalAvgPool()
  readonly dropout: nn.Dropout
  readonly fc: nn.Linear

  constructor(readonly config: NodeClassifierConfig) {
    super()
    const features = config.features ?? [16, 32, 64]
    const spec = { dims: 3 as const, kernel: [3, 3, 3] }
    features.forEach((out, s) => {
      const convs = new StackedConvs(spec, s === 0 ? config.inChannels : features[s - 1]!, out, 2)
      this.stages.push(this.registerModule(`stage.${s}`, s === 0 ? convs : new nn.Sequential(new nn.MaxPool(3, 2), convs)))
    })
    this.dropout = this.registerModule('dropout', new nn.Dropout(config.dropout ?? 0.2))
    this.fc = this.registerModule('fc', new nn.Linear(features[features.length - 1]!, config.numClasses))
  }

  /** Last feature maps [N, C, d, h, w]. */
  features(x: Tensor): Tensor {
    return this.stages.reduce((h, stage) => stage.forward(h), x)
  }

  /** Class logits [N, classes]. */
  forward(x: Tensor): Tensor {
    return this.fc.forward(this.dropout.forward(this.pool.forward(this.features(x))))
  }

  /** Class-activation map for class `cls`, [N, 1, ...patch], each sample scaled to [0, 1]. */
  classActivationMap(x: Tensor, cls: number): Tensor {
    return noGrad(() => {
      const maps = this.features(x)
      const [channels] = [this.fc.weight.shape[1]!]
      const weights = this.fc.weight.slice(0, cls, cls + 1).reshape([1, channels, 1, 1, 1])
      const cam = F.conv(maps, weights, null).relu()
      const upsampled = F.interpolate(cam, x.shape.slice(2), 'linear', false)
      const low = upsampled.amin([2, 3, 4], true)
      const high = upsampled.amax([2, 3, 4], true)
      return upsampled.sub(low).div(high.sub(low).add(1e-8))
    })
  }

  toOnnx(g: OnnxEmitter, x: string): string {
    const maps = this.stages.reduce((h, stage) => stage.toOnnx(g, h), x)
    return this.fc.toOnnx(g, this.pool.toOnnx(g, maps))
  }
}
