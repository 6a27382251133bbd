/**
 * A small 3D CNN that classifies node patches (e.g. not-a-node / benign / malignant) from one or more
 * channels (CT, candidate mask, PET), optionally joined with the node's measured features (short axis,
 * volume, HU, SUVmax, ...) before the last linear layer, with class-activation maps (Zhou et al. 2016,
 * "Learning Deep Features for Discriminative Localization"): CAM_c = ReLU(Σ_k w_ck · F_k), upsampled to the
 * patch and scaled to [0, 1], where F_k are the last feature maps and w_c the linear layer's weights for
 * class c over the image part of its input (possible because the image head is global pooling + linear; the
 * measured features add a per-node constant that does not vary over the patch and so does not enter the map).
 */
import { Module, F, cat, nn, noGrad, type OnnxEmitter, type Tensor } from '../torch/index.js'
import { StackedConvs } from './blocks.js'

export interface NodeClassifierConfig {
  inChannels: number
  numClasses: number
  /** Features per stage; each stage after the first starts with 2x max pooling. Default [16, 32, 64]. */
  features?: number[]
  dropout?: number
  /** Measured node features joined before the last layer (0: image only). */
  numMeasured?: number
  /** Width of the small layer the measured features pass through. Default 16. */
  measuredWidth?: number
}

export class NodeClassifier extends Module {
  readonly stages: Module[] = []
  readonly pool = new nn.GlobalAvgPool()
  readonly dropout: nn.Dropout
  readonly measured: nn.Linear | null
  readonly fc: nn.Linear
  readonly imageFeatures: number

  constructor(readonly config: NodeClassifierConfig) {
    super()
    const features = config.features ?? [16, 32, 64]
    const spec = { dims: 3 as const, kernel: [3, 3, 3] }
    features.forEach((out, s) => {
      const convs = new StackedConvs(spec, s === 0 ? config.inChannels : features[s - 1]!, out, 2)
      this.stages.push(this.registerModule(`stage.${s}`, s === 0 ? convs : new nn.Sequential(new nn.MaxPool(3, 2), convs)))
    })
    this.imageFeatures = features[features.length - 1]!
    this.dropout = this.registerModule('dropout', new nn.Dropout(config.dropout ?? 0.2))
    const measured = config.numMeasured ?? 0
    const width = measured > 0 ? config.measuredWidth ?? 16 : 0
    this.measured = measured > 0 ? this.registerModule('measured', new nn.Linear(measured, width)) : null
    this.fc = this.registerModule('fc', new nn.Linear(this.imageFeatures + width, config.numClasses))
  }

  /** Last feature maps [N, C, d, h, w]. */
  features(x: Tensor): Tensor {
    return this.stages.reduce((h, stage) => stage.forward(h), x)
  }

  /** Class logits [N, classes]; `measured` [N, numMeasured] when the network was built with measured features. */
  forward(x: Tensor, measured?: Tensor): Tensor {
    return this.fc.forward(this.dropout.forward(this.joined(this.pool.forward(this.features(x)), measured)))
  }

  private joined(pooled: Tensor, measured?: Tensor): Tensor {
    if (!this.measured) return pooled
    if (!measured) throw new Error('this classifier needs the measured node features as its second input')
    return cat([pooled, this.measured.forward(measured).relu()], 1)
  }

  /** The image part of the last layer as a 1x1x1 convolution kernel [classes, C, 1, 1, 1]. */
  private camKernel(): Tensor {
    const classes = this.fc.weight.shape[0]!
    return this.fc.weight.slice(1, 0, this.imageFeatures).reshape([classes, this.imageFeatures, 1, 1, 1])
  }

  /** Class-activation map for class `cls`, [N, 1, ...patch], each sample scaled to [0, 1]. */
  classActivationMap(x: Tensor, cls: number): Tensor {
    return noGrad(() => {
      const raw = F.conv(this.features(x), this.camKernel(), null).slice(1, cls, cls + 1)
      return scaledCam(raw.relu(), x.shape.slice(2))
    })
  }

  toOnnx(g: OnnxEmitter, x: string, measured?: string): string {
    return this.toOnnxWithCam(g, x, measured).logits
  }

  /**
   * Logits and the raw class maps Σ_k w_ck F_k [N, classes, d, h, w] at the last feature resolution; the
   * caller applies ReLU, upsampling and scaling (scaledCam does the same in libtorch).
   */
  toOnnxWithCam(g: OnnxEmitter, x: string, measured?: string): { logits: string; cam: string } {
    const maps = this.stages.reduce((h, stage) => stage.toOnnx(g, h), x)
    let joined = this.pool.toOnnx(g, maps)
    if (this.measured) {
      if (!measured) throw new Error('this classifier needs the measured node features as its second input')
      joined = g.node('Concat', [joined, g.node('Relu', [this.measured.toOnnx(g, measured)])], { axis: { i: 1 } })
    }
    const cam = g.node('Conv', [maps, g.initializer(this.camKernel(), 'cam.weight')], { kernel_shape: { ints: [1, 1, 1] } })
    return { logits: this.fc.toOnnx(g, joined), cam }
  }
}

/** ReLU'd class maps upsampled (trilinear) to the patch and scaled to [0, 1] per sample. */
function scaledCam(cam: Tensor, size: number[]): Tensor {
  const upsampled = F.interpolate(cam, size, 'linear', false)
  const low = upsampled.amin([2, 3, 4], true)
  const high = upsampled.amax([2, 3, 4], true)
  return upsampled.sub(low).div(high.sub(low).add(1e-8))
}
