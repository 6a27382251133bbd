/**
 * Optimizers (as torch.optim, same update rules and defaults) and learning-rate schedules.
 * Updates run in place inside noGrad, one small libtorch call per parameter and term.
 */
import { noGrad } from './runtime.js'
import { keep } from './scope.js'
import { type Tensor, zeros } from './tensor.js'

export abstract class Optimizer {
  lr: number
  protected steps = 0

  constructor(readonly params: Tensor[], lr: number) {
    this.lr = lr
  }

  /** Clears every parameter's gradient (set to none, as PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.params) p.clearGrad()
  }

  step(): void {
    this.steps++
    noGrad(() => {
      this.params.forEach((p, i) => {
        const grad = p.grad
        if (!grad) return
        this.update(p, grad, i)
        grad.dispose()
      })
    })
  }

  protected abstract update(param: Tensor, grad: Tensor, index: number): void

  /** Frees the optimizer's state tensors. */
  abstract dispose(): void

  /** The state as named tensors (as torch's optimizer.state_dict()), for checkpoints; shared, not copied. */
  abstract stateTensors(): Map<string, Tensor>

  /** Restores stateTensors() of an optimizer over the same parameters (copies the values in). */
  abstract loadStateTensors(state: Map<string, Tensor>): void

  /** Steps taken (Adam's bias correction depends on it). */
  get stepCount(): number {
    return this.steps
  }

  set stepCount(n: number) {
    this.steps = n
  }
}

/** Copies `source` into a kept tensor (or into `into` when it exists). */
function restored(into: Tensor | null, source: Tensor | undefined): Tensor | null {
  if (!source) return into
  if (!into) return keep(source.clone())
  noGrad(() => into.copy_(source))
  return into
}

function stateLike(p: Tensor): Tensor {
  return keep(zeros(p.shape, { dtype: p.dtype, device: p.device }))
}

export interface SgdOptions {
  lr: number
  momentum?: number
  nesterov?: boolean
  weightDecay?: number
}

/** SGD with momentum, Nesterov and L2 weight decay (torch.optim.SGD with dampening 0). */
export class SGD extends Optimizer {
  readonly #momentumBuffers: (Tensor | null)[]
  constructor(params: Tensor[], readonly options: SgdOptions) {
    super(params, options.lr)
    this.#momentumBuffers = params.map(() => null)
  }

  protected update(p: Tensor, grad: Tensor, i: number): void {
    const { momentum = 0, nesterov = false, weightDecay = 0 } = this.options
    const temporaries: Tensor[] = []
    let d = grad
    if (weightDecay !== 0) temporaries.push((d = grad.add(p, weightDecay)))
    if (momentum !== 0) {
      let buf = this.#momentumBuffers[i]
      if (!buf) buf = this.#momentumBuffers[i] = keep(d.clone())
      else buf.mul_(momentum).add_(d)
      if (nesterov) temporaries.push((d = d.add(buf, momentum)))
      else d = buf
    }
    p.add_(d, -this.lr)
    for (const t of temporaries) t.dispose()
  }

  dispose(): void {
    for (const b of this.#momentumBuffers) b?.dispose()
  }

  stateTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>()
    this.#momentumBuffers.forEach((b, i) => { if (b) out.set(`momentum.${i}`, b) })
    return out
  }

  loadStateTensors(state: Map<string, Tensor>): void {
    this.#momentumBuffers.forEach((b, i) => { this.#momentumBuffers[i] = restored(b, state.get(`momentum.${i}`)) })
  }
}

export interface AdamOptions {
  lr: number
  betas?: [number, number]
  eps?: number
  weightDecay?: number
}

/** Adam (Kingma & Ba 2015) with L2 weight decay added to the gradient, as torch.optim.Adam. */
export class Adam extends Optimizer {
  readonly #expAvg: Tensor[]
  readonly #expAvgSq: Tensor[]
  protected readonly decoupled: boolean = false

  constructor(params: Tensor[], readonly options: AdamOptions) {
    super(params, options.lr)
    this.#expAvg = params.map(stateLike)
    this.#expAvgSq = params.map(stateLike)
  }

  protected update(p: Tensor, grad: Tensor, i: number): void {
    const [beta1, beta2] = this.options.betas ?? [0.9, 0.999]
    const eps = this.options.eps ?? 1e-8
    const weightDecay = this.options.weightDecay ?? (this.decoupled ? 0.01 : 0)
    let g = grad
    if (weightDecay !== 0 && this.decoupled) p.mul_(1 - this.lr * weightDecay)
    if (weightDecay !== 0 && !this.decoupled) g = grad.add(p, weightDecay)
    const m = this.#expAvg[i]!
    const v = this.#expAvgSq[i]!
    m.lerp_(g, 1 - beta1)
    v.mul_(beta2).addcmul_(g, g, 1 - beta2)
    const biasCorrection1 = 1 - beta1 ** this.steps
    const biasCorrection2 = 1 - beta2 ** this.steps
    const stepSize = this.lr / biasCorrection1
    const vHat = v.sqrt()
    vHat.mul_(1 / Math.sqrt(biasCorrection2)).add_(eps)
    p.addcdiv_(m, vHat, -stepSize)
    vHat.dispose()
    if (g !== grad) g.dispose()
  }

  dispose(): void {
    for (const t of [...this.#expAvg, ...this.#expAvgSq]) t.dispose()
  }

  stateTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>()
    this.#expAvg.forEach((t, i) => out.set(`exp_avg.${i}`, t))
    this.#expAvgSq.forEach((t, i) => out.set(`exp_avg_sq.${i}`, t))
    return out
  }

  loadStateTensors(state: Map<string, Tensor>): void {
    this.#expAvg.forEach((t, i) => restored(t, state.get(`exp_avg.${i}`)))
    this.#expAvgSq.forEach((t, i) => restored(t, state.get(`exp_avg_sq.${i}`)))
  }
}

/** AdamW (Loshchilov & Hutter 2019): weight decay applied to the weights, not the gradient (default 0.01). */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true
}

/** Scales all gradients so that their joint L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return noGrad(() => {
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null)
    let squared = 0
    for (const g of grads) {
      const n = g.norm()
      squared += n.item() ** 2
      n.dispose()
    }
    const total = Math.sqrt(squared)
    const scale = maxNorm / (total + 1e-6)
    if (scale < 1) for (const g of grads) g.mul_(scale)
    for (const g of grads) g.dispose()
    return total
  })
}

/** A learning rate as a function of the step (0-based). */
export type Schedule = (step: number) => number

/** nnU-Net's polynomial decay: lr0 · (1 − step/total)^exponent. */
export function polySchedule(lr0: number, totalSteps: number, exponent = 0.9): Schedule {
  return (step) => lr0 * Math.pow(Math.max(0, 1 - step / totalSteps), exponent)
}

/** Cosine annealing (Loshchilov & Hutter 2017) from lr0 to minLr over totalSteps. */
export function cosineSchedule(lr0: number, totalSteps: number, minLr = 0): Schedule {
  return (step) => minLr + 0.5 * (lr0 - minLr) * (1 + Math.cos((Math.PI * Math.min(step, totalSteps)) / totalSteps))
}

/** Linear warm-up from 0 over warmupSteps, then `after` (shifted so that it starts at its own step 0). */
export function linearWarmup(warmupSteps: number, after: Schedule): Schedule {
  return (step) => (step < warmupSteps ? (after(0) * (step + 1)) / warmupSteps : after(step - warmupSteps))
}
