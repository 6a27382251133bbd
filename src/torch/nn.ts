/**
 * Modules as in torch.nn: parameters and buffers by name, children, train/eval modes, stateDict and
 * loadStateDict. Every module can describe itself as ONNX nodes (toOnnx), which is how src/export works.
 */
import { NodalError } from '../errors.js'
import * as F from './functional.js'
import type { OnnxEmitter } from './onnx-emitter.js'
import { noGrad } from './runtime.js'
import { keep } from './scope.js'
import { type Device, type DType, Tensor, ones, randn, rand, zeros } from './tensor.js'

export abstract class Module {
  training = true
  readonly #parameters = new Map<string, Tensor>()
  readonly #buffers = new Map<string, Tensor>()
  readonly #children = new Map<string, Module>()

  abstract forward(x: Tensor, ...rest: Tensor[]): Tensor
  /** Emits this module's computation and returns the name of its output value. */
  abstract toOnnx(g: OnnxEmitter, x: string, ...rest: string[]): string

  protected registerParameter(name: string, value: Tensor): Tensor {
    value.requiresGrad = true
    this.#parameters.set(name, keep(value))
    return value
  }

  protected registerBuffer(name: string, value: Tensor): Tensor {
    this.#buffers.set(name, keep(value))
    return value
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    this.#children.set(name, module)
    return module
  }

  children(): Module[] {
    return [...this.#children.values()]
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const own = [...this.#parameters].map(([n, t]): [string, Tensor] => [prefix + n, t])
    const nested = [...this.#children].flatMap(([n, m]) => m.namedParameters(`${prefix}${n}.`))
    return own.concat(nested)
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t)
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const own = [...this.#buffers].map(([n, t]): [string, Tensor] => [prefix + n, t])
    const nested = [...this.#children].flatMap(([n, m]) => m.namedBuffers(`${prefix}${n}.`))
    return own.concat(nested)
  }

  /** Parameters and buffers by dotted name, as PyTorch's state_dict (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()])
  }

  /** Copies values into this module's tensors; with strict, missing or unexpected names are errors. */
  loadStateDict(state: Map<string, Tensor>, strict = true): void {
    const own = this.stateDict()
    if (strict) {
      const missing = [...own.keys()].filter((k) => !state.has(k))
      const unexpected = [...state.keys()].filter((k) => !own.has(k))
      if (missing.length || unexpected.length) {
        throw new NodalError('state-dict-mismatch',
          `state dict does not match the model (missing: ${missing.join(', ') || 'none'}; unexpected: ${unexpected.join(', ') || 'none'})`)
      }
    }
    noGrad(() => {
      for (const [name, target] of own) {
        const source = state.get(name)
        if (!source) continue
        if (source.shape.join() !== target.shape.join()) {
          throw new NodalError('state-dict-mismatch', `${name}: shape [${source.shape}] does not match [${target.shape}]`)
        }
        target.copy_(source)
      }
    })
  }

  train(mode = true): this {
    this.training = mode
    for (const child of this.#children.values()) child.train(mode)
    return this
  }

  eval(): this {
    return this.train(false)
  }

  /** Moves/converts parameters and floating-point buffers in place (keeping their identity for optimizers). */
  to(target: { device?: Device; dtype?: DType }): this {
    noGrad(() => {
      for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) {
        const isFloat = t.dtype === 'float32' || t.dtype === 'float64'
        const converted = t.to({ device: target.device, dtype: isFloat ? target.dtype : undefined })
        t.setData(converted)
        converted.dispose()
      }
    })
    return this
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.clearGrad()
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) t.dispose()
  }
}

// ---------- initialisation ----------

/** He (Kaiming) normal initialisation for layers followed by leaky ReLU with `slope`, as nnU-Net's InitWeights_He. */
function heNormal(shape: number[], fanIn: number, slope = 0.01): Tensor {
  const std = Math.sqrt(2 / (1 + slope * slope)) / Math.sqrt(fanIn)
  return noGrad(() => randn(shape).mul_(std))
}

/** PyTorch's default for Linear: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
function uniformFanIn(shape: number[], fanIn: number): Tensor {
  const bound = 1 / Math.sqrt(fanIn)
  return noGrad(() => rand(shape).mul_(2 * bound).add_(-bound))
}

function expandArg(value: number | number[], dims: number): number[] {
  return typeof value === 'number' ? new Array<number>(dims).fill(value) : value
}

// ---------- layers ----------

export interface ConvLayerOptions {
  stride?: number | number[]
  /** Defaults to kernel//2 per axis ("same" for odd kernels at stride 1). */
  padding?: number | number[]
  dilation?: number | number[]
  groups?: number
  bias?: boolean
}

/** Convolution over 2 or 3 spatial axes. */
export class Conv extends Module {
  readonly weight: Tensor
  readonly bias: Tensor | null
  readonly stride: number[]
  readonly padding: number[]
  readonly dilation: number[]
  readonly groups: number
  readonly kernel: number[]

  constructor(readonly dims: 2 | 3, inChannels: number, outChannels: number, kernel: number | number[], options: ConvLayerOptions = {}) {
    super()
    this.kernel = expandArg(kernel, dims)
    this.stride = expandArg(options.stride ?? 1, dims)
    this.padding = expandArg(options.padding ?? this.kernel.map((k) => Math.floor(k / 2)), dims)
    this.dilation = expandArg(options.dilation ?? 1, dims)
    this.groups = options.groups ?? 1
    const fanIn = (inChannels / this.groups) * this.kernel.reduce((a, b) => a * b, 1)
    this.weight = this.registerParameter('weight', heNormal([outChannels, inChannels / this.groups, ...this.kernel], fanIn))
    this.bias = options.bias === false ? null : this.registerParameter('bias', zeros([outChannels]))
  }

  forward(x: Tensor): Tensor {
    return F.conv(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups })
  }

  toOnnx(g: OnnxEmitter, x: string): string {
    const inputs = [x, g.initializer(this.weight, 'conv.weight')]
    if (this.bias) inputs.push(g.initializer(this.bias, 'conv.bias'))
    return g.node('Conv', inputs, {
      kernel_shape: { ints: this.kernel }, strides: { ints: this.stride }, dilations: { ints: this.dilation },
      pads: { ints: [...this.padding, ...this.padding] }, group: { i: this.groups },
    })
  }
}

export class Conv3d extends Conv {
  constructor(inChannels: number, outChannels: number, kernel: number | number[], options: ConvLayerOptions = {}) {
    super(3, inChannels, outChannels, kernel, options)
  }
}

export class Conv2d extends Conv {
  constructor(inChannels: number, outChannels: number, kernel: number | number[], options: ConvLayerOptions = {}) {
    super(2, inChannels, outChannels, kernel, options)
  }
}

/** Transposed convolution over 2 or 3 spatial axes (padding 0 by default, as the U-Net's upsampling uses). */
export class ConvTranspose extends Module {
  readonly weight: Tensor
  readonly bias: Tensor | null
  readonly kernel: number[]
  readonly stride: number[]
  readonly padding: number[]
  readonly outputPadding: number[]

  constructor(readonly dims: 2 | 3, inChannels: number, outChannels: number, kernel: number | number[],
    options: { stride?: number | number[]; padding?: number | number[]; outputPadding?: number | number[]; bias?: boolean } = {}) {
    super()
    this.kernel = expandArg(kernel, dims)
    this.stride = expandArg(options.stride ?? 1, dims)
    this.padding = expandArg(options.padding ?? 0, dims)
    this.outputPadding = expandArg(options.outputPadding ?? 0, dims)
    const fanIn = outChannels * this.kernel.reduce((a, b) => a * b, 1)
    this.weight = this.registerParameter('weight', heNormal([inChannels, outChannels, ...this.kernel], fanIn))
    this.bias = options.bias === false ? null : this.registerParameter('bias', zeros([outChannels]))
  }

  forward(x: Tensor): Tensor {
    return F.convTranspose(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, outputPadding: this.outputPadding })
  }

  toOnnx(g: OnnxEmitter, x: string): string {
    const inputs = [x, g.initializer(this.weight, 'convtranspose.weight')]
    if (this.bias) inputs.push(g.initializer(this.bias, 'convtranspose.bias'))
    return g.node('ConvTranspose', inputs, {
      kernel_shape: { ints: this.kernel }, strides: { ints: this.stride },
      pads: { ints: [...this.padding, ...this.padding] }, output_padding: { ints: this.outputPadding },
    })
  }
}

export class ConvTranspose3d extends ConvTranspose {
  constructor(inChannels: number, outChannels: number, kernel: number | number[], options: { stride?: number | number[]; bias?: boolean } = {}) {
    super(3, inChannels, outChannels, kernel, options)
  }
}

export class ConvTranspose2d extends ConvTranspose {
  constructor(inChannels: number, outChannels: number, kernel: number | number[], options: { stride?: number | number[]; bias?: boolean } = {}) {
    super(2, inChannels, outChannels, kernel, options)
  }
}

/** Instance normalisation (statistics of each sample and channel, no running averages), affine by default. */
export class InstanceNorm extends Module {
  readonly weight: Tensor | null
  readonly bias: Tensor | null

  constructor(readonly channels: number, readonly options: { affine?: boolean; eps?: number } = {}) {
    super()
    const affine = options.affine ?? true
    this.weight = affine ? this.registerParameter('weight', ones([channels])) : null
    this.bias = affine ? this.registerParameter('bias', zeros([channels])) : null
  }

  forward(x: Tensor): Tensor {
    return F.instanceNorm(x, this.weight, this.bias, this.options.eps ?? 1e-5)
  }

  toOnnx(g: OnnxEmitter, x: string): string {
    const scale = this.weight ? g.initializer(this.weight, 'in.weight') : g.floats(new Array(this.channels).fill(1), [this.channels])
    const bias = this.bias ? g.initializer(this.bias, 'in.bias') : g.floats(new Array(this.channels).fill(0), [this.channels])
    return g.node('InstanceNormalization', [x, scale, bias], { epsilon: { f: this.options.eps ?? 1e-5 } })
  }
}

/** Batch normalisation with running statistics for eval mode. */
export class BatchNorm extends Module {
  readonly weight: Tensor
  readonly bias: Tensor
  readonly runningMean: Tensor
  readonly runningVar: Tensor

  constructor(readonly channels: number, readonly options: { momentum?: number; eps?: number } = {}) {
    super()
    this.weight = this.registerParameter('weight', ones([channels]))
    this.bias = this.registerParameter('bias', zeros([channels]))
    this.runningMean = this.registerBuffer('running_mean', zeros([channels]))
    this.runningVar = this.registerBuffer('running_var', ones([channels]))
  }

  forward(x: Tensor): Tensor {
    return F.batchNorm(x, this.weight, this.bias, this.runningMean, this.runningVar, this.training,
      this.options.momentum ?? 0.1, this.options.eps ?? 1e-5)
  }

  toOnnx(g: OnnxEmitter, x: string): string {
    const inputs = [this.weight, this.bias, this.runningMean, this.runningVar].map((t) => g.initializer(t, 'bn'))
    return g.node('BatchNormalization', [x, ...inputs], { epsilon: { f: this.options.eps ?? 1e-5 } })
  }
}

/** Group normalisation (Wu & He 2018). */
export class GroupNorm extends Module {
  readonly weight: Tensor
  readonly bias: Tensor

  constructor(readonly groups: number, readonly channels: number, readonly eps = 1e-5, readonly spatialDims: 2 | 3 = 3) {
    super()
    if (channels % groups !== 0) throw new NodalError('bad-config', `GroupNorm: ${channels} channels not divisible into ${groups} groups`)
    this.weight = this.registerParameter('weight', ones([channels]))
    this.bias = this.registerParameter('bias', zeros([channels]))
  }

  forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.groups, this.weight, this.bias, this.eps)
  }

  /** ONNX's GroupNormalization changed meaning between opsets 18 and 21: emit reshape + InstanceNormalization. */
  toOnnx(g: OnnxEmitter, x: string): string {
    const shape = g.node('Shape', [x])
    const grouped = g.node('Reshape', [x, g.int64s([0, this.groups, -1])])
    const ones = g.floats(new Array(this.groups).fill(1), [this.groups])
    const zerosG = g.floats(new Array(this.groups).fill(0), [this.groups])
    const normed = g.node('InstanceNormalization', [grouped, ones, zerosG], { epsilon: { f: this.eps } })
    const restored = g.node('Reshape', [normed, shape])
    const axes = g.int64s(this.spatialDims === 3 ? [1, 2, 3] : [1, 2])
    const w = g.node('Unsqueeze', [g.initializer(this.weight, 'gn.weight'), axes])
    const b = g.node('Unsqueeze', [g.initializer(this.bias, 'gn.bias'), axes])
    return g.node('Add', [g.node('Mul', [restored, w]), b])
  }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super()
  }
  forward(x: Tensor): Tensor {
    return x.leakyRelu(this.negativeSlope)
  }
  toOnnx(g: OnnxEmitter, x: string): string {
    return g.node('LeakyRelu', [x], { alpha: { f: this.negativeSlope } })
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu()
  }
  toOnnx(g: OnnxEmitter, x: string): string {
    return g.node('Relu', [x])
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid()
  }
  toOnnx(g: OnnxEmitter, x: string): string {
    return g.node('Sigmoid', [x])
  }
}

/** GELU, exact form x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (Hendrycks & Gimpel 2016). */
export class GELU extends Module {
  forward(x: Tensor): Tensor {
    return x.gelu()
  }
  toOnnx(g: OnnxEmitter, x: string): string {
    const scaled = g.node('Div', [x, g.floats([Math.SQRT2], [])])
    const onePlusErf = g.node('Add', [g.node('Erf', [scaled]), g.floats([1], [])])
    return g.node('Mul', [g.node('Mul', [x, onePlusErf]), g.floats([0.5], [])])
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x
  }
  toOnnx(_g: OnnxEmitter, x: string): string {
    return x
  }
}

/** Dropout; channel-wise is not offered: element-wise as torch.nn.Dropout. Identity in eval mode and in ONNX. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super()
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training)
  }
  toOnnx(_g: OnnxEmitter, x: string): string {
    return x
  }
}

/** Max or average pooling: the two share their arguments and their ONNX form. */
abstract class Pool extends Module {
  readonly kernel: number[]
  readonly stride: number[]
  protected abstract readonly onnxOp: 'MaxPool' | 'AveragePool'
  constructor(readonly dims: 2 | 3, kernel: number | number[], stride?: number | number[]) {
    super()
    this.kernel = expandArg(kernel, dims)
    this.stride = expandArg(stride ?? kernel, dims)
  }
  toOnnx(g: OnnxEmitter, x: string): string {
    return g.node(this.onnxOp, [x], { kernel_shape: { ints: this.kernel }, strides: { ints: this.stride } })
  }
}

export class MaxPool extends Pool {
  protected readonly onnxOp = 'MaxPool'
  forward(x: Tensor): Tensor {
    return F.maxPool(x, this.kernel, this.stride)
  }
}

export class AvgPool extends Pool {
  protected readonly onnxOp = 'AveragePool'
  forward(x: Tensor): Tensor {
    return F.avgPool(x, this.kernel, this.stride)
  }
}

/** Averages all spatial positions: [N, C, ...] -> [N, C]. */
export class GlobalAvgPool extends Module {
  forward(x: Tensor): Tensor {
    return x.mean(x.shape.slice(2).map((_, i) => i + 2))
  }
  toOnnx(g: OnnxEmitter, x: string): string {
    return g.node('Flatten', [g.node('GlobalAveragePool', [x])], { axis: { i: 1 } })
  }
}

export class Linear extends Module {
  readonly weight: Tensor
  readonly bias: Tensor | null
  constructor(readonly inFeatures: number, readonly outFeatures: number, bias = true) {
    super()
    this.weight = this.registerParameter('weight', uniformFanIn([outFeatures, inFeatures], inFeatures))
    this.bias = bias ? this.registerParameter('bias', uniformFanIn([outFeatures], inFeatures)) : null
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias)
  }
  /** Gemm takes 2-D input: [N, in] -> [N, out]. */
  toOnnx(g: OnnxEmitter, x: string): string {
    const inputs = [x, g.initializer(this.weight, 'linear.weight')]
    if (this.bias) inputs.push(g.initializer(this.bias, 'linear.bias'))
    return g.node('Gemm', inputs, { transB: { i: 1 } })
  }
}

/** Resampling by an integer or fractional factor per spatial axis: trilinear/bilinear ('linear') or nearest. */
export class Upsample extends Module {
  constructor(readonly scale: number[], readonly mode: 'linear' | 'nearest' = 'linear') {
    super()
  }
  forward(x: Tensor): Tensor {
    const size = x.shape.slice(2).map((s, i) => Math.floor(s * this.scale[i]!))
    return F.interpolate(x, size, this.mode, false)
  }
  toOnnx(g: OnnxEmitter, x: string): string {
    const scales = g.floats([1, 1, ...this.scale], [this.scale.length + 2])
    return g.node('Resize', [x, '', scales], {
      mode: { s: this.mode }, coordinate_transformation_mode: { s: this.mode === 'linear' ? 'pytorch_half_pixel' : 'asymmetric' },
      nearest_mode: { s: 'floor' },
    })
  }
}

/** Applies modules one after another. */
export class Sequential extends Module {
  readonly layers: Module[]
  constructor(...layers: Module[]) {
    super()
    this.layers = layers
    layers.forEach((layer, i) => this.registerModule(String(i), layer))
  }
  /**
   * Intermediate outputs are disposed as soon as the next layer has consumed them, as Python frees them when
   * their last reference goes: inference then needs one activation at a time instead of all of them.
   * (Autograd keeps its own references to what backward needs.)
   */
  forward(x: Tensor): Tensor {
    let out = x
    for (const layer of this.layers) {
      const next = layer.forward(out)
      if (out !== x && next !== out) out.dispose()
      out = next
    }
    return out
  }
  toOnnx(g: OnnxEmitter, x: string): string {
    return this.layers.reduce((name, layer) => layer.toOnnx(g, name), x)
  }
}
