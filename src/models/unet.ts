/**
 * U-Net in the nnU-Net style (Isensee et al. 2021, Nature Methods; Ronneberger et al. 2015): stages with
 * features, kernel sizes and strides per stage and axis (anisotropic voxels), downsampling by strided
 * convolution, upsampling by transposed convolution, instance norm + leaky ReLU, and deep-supervision heads.
 * Variants: residual encoder (encoder stages of residual blocks) and attention gates on the skips.
 */
import { NodalError } from '../errors.js'
import { Module, cat, nn, type OnnxEmitter, type Tensor } from '../torch/index.js'
import { AttentionGate, type ConvSpec, ResidualStage, StackedConvs } from './blocks.js'

export interface UNetConfig {
  dims: 2 | 3
  inChannels: number
  numClasses: number
  /** Output channels of each stage, shallow to deep. */
  features: number[]
  /** Kernel size per stage and axis. */
  kernelSizes: number[][]
  /** Stride of each stage's first convolution per axis; stage 0 is usually all 1. */
  strides: number[][]
  /** Encoder convolutions (plain) or residual blocks (residual encoder) per stage; default 2. */
  encoderBlocks?: number[]
  /** Convolutions per decoder stage; default 2. */
  decoderConvs?: number
  /** Also return lower-resolution outputs from forwardDeep(); default true. */
  deepSupervision?: boolean
  encoder?: 'plain' | 'residual'
  attention?: boolean
  negativeSlope?: number
}

function validate(config: UNetConfig): void {
  const stages = config.features.length
  const problems: string[] = []
  if (stages < 2) problems.push('at least 2 stages are needed')
  if (config.kernelSizes.length !== stages) problems.push(`kernelSizes has ${config.kernelSizes.length} stages, features ${stages}`)
  if (config.strides.length !== stages) problems.push(`strides has ${config.strides.length} stages, features ${stages}`)
  for (const per of [...config.kernelSizes, ...config.strides]) {
    if (per.length !== config.dims) problems.push(`[${per}] should have ${config.dims} axes`)
  }
  if (problems.length) throw new NodalError('bad-config', `U-Net configuration: ${problems.join('; ')}`)
}

export class UNet extends Module {
  readonly encoder: Module[] = []
  readonly upsample: nn.ConvTranspose[] = []
  readonly gates: AttentionGate[] = []
  readonly decoder: Module[] = []
  /** heads[i] turns decoder stage i's output (i = 0: full resolution) into class logits. */
  readonly heads: nn.Conv[] = []

  constructor(readonly config: UNetConfig) {
    super()
    validate(config)
    this.buildEncoder()
    this.buildDecoder()
  }

  private spec(stage: number): ConvSpec {
    return { dims: this.config.dims, kernel: this.config.kernelSizes[stage]!, negativeSlope: this.config.negativeSlope }
  }

  private buildEncoder(): void {
    const { features, strides, inChannels } = this.config
    features.forEach((out, s) => {
      const input = s === 0 ? inChannels : features[s - 1]!
      const blocks = this.config.encoderBlocks?.[s] ?? 2
      const stage = this.config.encoder === 'residual'
        ? new ResidualStage(this.spec(s), input, out, blocks, strides[s])
        : new StackedConvs(this.spec(s), input, out, blocks, strides[s])
      this.encoder.push(this.registerModule(`encoder.${s}`, stage))
    })
  }

  /** Decoder stage s (0-based, shallow to deep) upsamples stage s+1's output to stage s's resolution. */
  private buildDecoder(): void {
    const { features, strides, dims, numClasses } = this.config
    for (let s = 0; s < features.length - 1; s++) {
      const deep = features[s + 1]!
      const out = features[s]!
      const stride = strides[s + 1]!
      this.upsample.push(this.registerModule(`upsample.${s}`, new nn.ConvTranspose(dims, deep, out, stride, { stride, bias: false })))
      if (this.config.attention) {
        this.gates.push(this.registerModule(`gate.${s}`, new AttentionGate(dims, out, out, Math.max(1, out / 2))))
      }
      this.decoder.push(this.registerModule(`decoder.${s}`, new StackedConvs(this.spec(s), 2 * out, out, this.config.decoderConvs ?? 2)))
      this.heads.push(this.registerModule(`head.${s}`, new nn.Conv(dims, out, numClasses, 1)))
    }
  }

  /** Full-resolution class logits [N, classes, ...spatial]. */
  forward(x: Tensor): Tensor {
    return this.run(x, false)[0]!
  }

  /**
   * Logits at every decoder resolution, full resolution first (as nnU-Net's deep supervision), or only the
   * full-resolution output when deepSupervision is false.
   */
  forwardDeep(x: Tensor): Tensor[] {
    return this.run(x, this.config.deepSupervision ?? true)
  }

  /** Frees each feature map once it is used up (see Sequential.forward); only the outputs survive. */
  private run(x: Tensor, allHeads: boolean): Tensor[] {
    const skips: Tensor[] = []
    let h = x
    for (const stage of this.encoder) skips.push((h = stage.forward(h)))
    const outputs: Tensor[] = []
    for (let s = this.decoder.length - 1; s >= 0; s--) {
      const up = this.upsample[s]!.forward(h)
      h.dispose()
      const skip = this.config.attention ? this.gates[s]!.forward(skips[s]!, up) : skips[s]!
      const joined = cat([up, skip], 1)
      for (const t of new Set([up, skip, skips[s]!])) t.dispose()
      h = this.decoder[s]!.forward(joined)
      joined.dispose()
      if (allHeads || s === 0) outputs.unshift(this.heads[s]!.forward(h))
    }
    h.dispose()
    return outputs
  }

  /** The full-resolution output only (deep-supervision heads are a training device). */
  toOnnx(g: OnnxEmitter, x: string): string {
    const skips: string[] = []
    let h = x
    for (const stage of this.encoder) skips.push((h = stage.toOnnx(g, h)))
    for (let s = this.decoder.length - 1; s >= 0; s--) {
      const up = this.upsample[s]!.toOnnx(g, h)
      const skip = this.config.attention ? this.gates[s]!.toOnnx(g, skips[s]!, up) : skips[s]!
      h = this.decoder[s]!.toOnnx(g, g.node('Concat', [up, skip], { axis: { i: 1 } }))
    }
    return this.heads[0]!.toOnnx(g, h)
  }
}

/**
 * nnU-Net-like defaults for a patch: halve each axis while it stays >= 4 voxels (up to 6 stages),
 * features 32·2^s capped at 320 (2D: 512), kernels 3.
 */
export function defaultUNetConfig(patch: number[], inChannels = 1, numClasses = 2): UNetConfig {
  const dims = patch.length as 2 | 3
  const strides: number[][] = [patch.map(() => 1)]
  let size = patch.slice()
  while (strides.length < 6) {
    const stride = size.map((s) => (s / 2 >= 4 && s % 2 === 0 ? 2 : 1))
    if (stride.every((s) => s === 1)) break
    strides.push(stride)
    size = size.map((s, i) => s / stride[i]!)
  }
  const cap = dims === 3 ? 320 : 512
  return {
    dims,
    inChannels,
    numClasses,
    features: strides.map((_, s) => Math.min(32 * 2 ** s, cap)),
    kernelSizes: strides.map(() => patch.map(() => 3)),
    strides,
    deepSupervision: true,
  }
}
