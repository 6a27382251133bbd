/** Building blocks of the networks: conv-norm-act stacks, residual blocks, attention gates. */
import { Module, nn, type OnnxEmitter, type Tensor, tidy } from '../torch/index.js'

export interface ConvSpec {
  dims: 2 | 3
  kernel: number[]
  negativeSlope?: number
}

/** Convolution -> InstanceNorm (affine) -> LeakyReLU, the nnU-Net unit. */
export class ConvNormAct extends nn.Sequential {
  constructor(spec: ConvSpec, inChannels: number, outChannels: number, stride: number[] = spec.kernel.map(() => 1)) {
    super(
      new nn.Conv(spec.dims, inChannels, outChannels, spec.kernel, { stride }),
      new nn.InstanceNorm(outChannels),
      new nn.LeakyReLU(spec.negativeSlope ?? 0.01),
    )
  }
}

/** `count` ConvNormAct units; only the first changes channels and strides. */
export class StackedConvs extends nn.Sequential {
  constructor(spec: ConvSpec, inChannels: number, outChannels: number, count: number, stride?: number[]) {
    super(...Array.from({ length: count }, (_, i) =>
      new ConvNormAct(spec, i === 0 ? inChannels : outChannels, outChannels, i === 0 ? stride : undefined)))
  }
}

/**
 * Residual block (He et al. 2016, "basic block" with instance norm): y = act(norm(conv(act(norm(conv(x))))) + skip(x)),
 * where skip is the identity, or a strided 1x1 convolution + norm when the shape changes.
 */
export class ResidualBlock extends Module {
  readonly conv1: ConvNormAct
  readonly conv2: nn.Sequential
  readonly skip: Module
  readonly act: nn.LeakyReLU

  constructor(spec: ConvSpec, inChannels: number, outChannels: number, stride: number[] = spec.kernel.map(() => 1)) {
    super()
    this.conv1 = this.registerModule('conv1', new ConvNormAct(spec, inChannels, outChannels, stride))
    this.conv2 = this.registerModule('conv2', new nn.Sequential(
      new nn.Conv(spec.dims, outChannels, outChannels, spec.kernel), new nn.InstanceNorm(outChannels)))
    const reshapes = inChannels !== outChannels || stride.some((s) => s !== 1)
    this.skip = this.registerModule('skip', reshapes
      ? new nn.Sequential(new nn.Conv(spec.dims, inChannels, outChannels, 1, { stride, padding: 0 }), new nn.InstanceNorm(outChannels))
      : new nn.Identity())
    this.act = this.registerModule('act', new nn.LeakyReLU(spec.negativeSlope ?? 0.01))
  }

  forward(x: Tensor): Tensor {
    const hidden = this.conv1.forward(x)
    const residual = this.conv2.forward(hidden)
    const shortcut = this.skip.forward(x)
    const sum = residual.add(shortcut)
    for (const t of [hidden, residual, shortcut]) if (t !== x) t.dispose()
    const out = this.act.forward(sum)
    sum.dispose()
    return out
  }

  toOnnx(g: OnnxEmitter, x: string): string {
    const residual = this.conv2.toOnnx(g, this.conv1.toOnnx(g, x))
    return this.act.toOnnx(g, g.node('Add', [residual, this.skip.toOnnx(g, x)]))
  }
}

/** `count` residual blocks; only the first changes channels and strides. */
export class ResidualStage extends nn.Sequential {
  constructor(spec: ConvSpec, inChannels: number, outChannels: number, count: number, stride?: number[]) {
    super(...Array.from({ length: count }, (_, i) =>
      new ResidualBlock(spec, i === 0 ? inChannels : outChannels, outChannels, i === 0 ? stride : undefined)))
  }
}

/**
 * Additive attention gate on a skip connection (Oktay et al. 2018, "Attention U-Net", MIDL):
 * α = σ(ψ(ReLU(W_x·x + W_g·g))), output x·α, where x is the skip feature map and g the gating signal
 * (here the upsampled decoder feature, already at x's resolution), W_x, W_g, ψ 1x1 convolutions.
 */
export class AttentionGate extends Module {
  readonly wx: nn.Sequential
  readonly wg: nn.Sequential
  readonly psi: nn.Conv

  constructor(dims: 2 | 3, skipChannels: number, gateChannels: number, interChannels: number) {
    super()
    this.wx = this.registerModule('wx', new nn.Sequential(new nn.Conv(dims, skipChannels, interChannels, 1), new nn.InstanceNorm(interChannels)))
    this.wg = this.registerModule('wg', new nn.Sequential(new nn.Conv(dims, gateChannels, interChannels, 1), new nn.InstanceNorm(interChannels)))
    this.psi = this.registerModule('psi', new nn.Conv(dims, interChannels, 1, 1))
  }

  /** Attention coefficients α in (0, 1), one per voxel: [N, 1, ...]. */
  coefficients(x: Tensor, g: Tensor): Tensor {
    return tidy(() => this.psi.forward(this.wx.forward(x).add(this.wg.forward(g)).relu()).sigmoid())
  }

  forward(x: Tensor, g: Tensor): Tensor {
    const alpha = this.coefficients(x, g)
    const out = x.mul(alpha)
    alpha.dispose()
    return out
  }

  toOnnx(emit: OnnxEmitter, x: string, g: string): string {
    const joint = emit.node('Relu', [emit.node('Add', [this.wx.toOnnx(emit, x), this.wg.toOnnx(emit, g)])])
    return emit.node('Mul', [x, emit.node('Sigmoid', [this.psi.toOnnx(emit, joint)])])
  }
}
