import { NodalError } from '../errors.js'
import { nativeTorch, type NativeHandle } from './native.js'
import { track, untrack } from './scope.js'

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool'
/** 'cpu', 'cuda', 'cuda:1', ... as libtorch parses them. */
export type Device = string
export type TypedData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array
export type Operand = Tensor | number

const nt = () => nativeTorch()

/** Calls `name` for a tensor operand or `nameScalar` for a number (handles are numbers too, so the addon cannot tell). */
function binary(name: string, a: Tensor, b: Operand, ...rest: unknown[]): NativeHandle {
  if (typeof b !== 'number') return nt()[name]!(a.handle, b.handle, ...rest)
  const scalarName = name.endsWith('_') ? `${name.slice(0, -1)}Scalar_` : `${name}Scalar`
  return nt()[scalarName]!(a.handle, b, ...rest)
}

/**
 * A libtorch tensor. Every operation returns a new Tensor (in-place ones end in `_`). Free memory with
 * `dispose()` or by creating tensors inside `tidy()`; forgotten tensors are freed when collected.
 */
export class Tensor {
  #handle: NativeHandle | null

  constructor(handle: NativeHandle) {
    this.#handle = handle
    track(this, handle)
  }

  get handle(): NativeHandle {
    if (this.#handle === null) throw new NodalError('tensor-disposed', 'tensor used after dispose()')
    return this.#handle
  }

  get isDisposed(): boolean {
    return this.#handle === null
  }

  dispose(): void {
    if (this.#handle === null) return
    untrack(this)
    nt().release(this.#handle)
    this.#handle = null
  }

  get shape(): number[] {
    return nt().shape(this.handle)
  }
  get ndim(): number {
    return this.shape.length
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1)
  }
  get dtype(): DType {
    return nt().dtype(this.handle)
  }
  get device(): Device {
    return nt().device(this.handle)
  }

  // ----- autograd -----
  get requiresGrad(): boolean {
    return nt().requiresGrad(this.handle)
  }
  set requiresGrad(value: boolean) {
    nt().setRequiresGrad(this.handle, value)
  }
  /** The accumulated gradient, as a new Tensor sharing its memory, or null before any backward(). */
  get grad(): Tensor | null {
    const g = nt().grad(this.handle)
    return g ? new Tensor(g) : null
  }
  clearGrad(): void {
    nt().clearGrad(this.handle)
  }
  backward(gradient?: Tensor, retainGraph = false): void {
    nt().backward(this.handle, gradient?.handle ?? null, retainGraph)
  }
  /**
   * backward() on a libuv worker thread (AsyncWorker); the event loop keeps running meanwhile. Until the
   * promise settles, do not read the gradients or change the tensors of this graph (an optimizer step,
   * in-place updates): the worker is writing them. Unrelated tensors may be used freely.
   */
  backwardAsync(gradient?: Tensor): Promise<void> {
    return nt().backwardAsync(this.handle, gradient?.handle ?? null)
  }
  detach(): Tensor {
    return wrap(nt().detach(this.handle))
  }

  // ----- data -----
  /** A copy of the data in a typed array (bool and uint8 as Uint8Array, int64 as BigInt64Array). */
  toArray(): TypedData {
    return nt().toArray(this.handle)
  }
  /** The data without copying where the tensor is a contiguous CPU tensor (shares memory: do not mutate). */
  dataView(): TypedData {
    return nt().dataView(this.handle)
  }
  /** toArray() as plain numbers (int64 converted with Number()). */
  toNumbers(): number[] {
    return Array.from(this.toArray() as ArrayLike<number | bigint>, Number)
  }
  item(): number {
    return nt().item(this.handle)
  }
  clone(): Tensor {
    return wrap(nt().clone(this.handle))
  }
  contiguous(): Tensor {
    return wrap(nt().contiguous(this.handle))
  }
  to(target: { device?: Device; dtype?: DType }): Tensor {
    return wrap(nt().to(this.handle, target.device ?? null, target.dtype ?? null))
  }
  float(): Tensor {
    return this.to({ dtype: 'float32' })
  }
  double(): Tensor {
    return this.to({ dtype: 'float64' })
  }
  long(): Tensor {
    return this.to({ dtype: 'int64' })
  }
  /** Replaces this tensor's data (shape, dtype, device may change) while keeping its identity, like `p.data = v`. */
  setData(value: Tensor): void {
    nt().setData(this.handle, value.handle)
  }

  // ----- element-wise math -----
  add(other: Operand, alpha = 1): Tensor {
    return wrap(binary('add', this, other, alpha))
  }
  sub(other: Operand, alpha = 1): Tensor {
    return wrap(binary('sub', this, other, alpha))
  }
  /** other - this */
  rsub(other: number): Tensor {
    const negated = this.neg()
    const result = negated.add(other)
    negated.dispose()
    return result
  }
  mul(other: Operand): Tensor {
    return wrap(binary('mul', this, other))
  }
  div(other: Operand): Tensor {
    return wrap(binary('div', this, other))
  }
  pow(exponent: Operand): Tensor {
    return wrap(binary('pow', this, exponent))
  }
  maximum(other: Operand): Tensor {
    return wrap(binary('maximum', this, other))
  }
  minimum(other: Operand): Tensor {
    return wrap(binary('minimum', this, other))
  }
  clamp(min: number | null, max: number | null = null): Tensor {
    return wrap(nt().clamp(this.handle, min, max))
  }
  neg(): Tensor {
    return wrap(nt().neg(this.handle))
  }
  exp(): Tensor {
    return wrap(nt().exp(this.handle))
  }
  log(): Tensor {
    return wrap(nt().log(this.handle))
  }
  log1p(): Tensor {
    return wrap(nt().log1p(this.handle))
  }
  sqrt(): Tensor {
    return wrap(nt().sqrt(this.handle))
  }
  rsqrt(): Tensor {
    return wrap(nt().rsqrt(this.handle))
  }
  abs(): Tensor {
    return wrap(nt().abs(this.handle))
  }
  square(): Tensor {
    return wrap(nt().square(this.handle))
  }
  sigmoid(): Tensor {
    return wrap(nt().sigmoid(this.handle))
  }
  tanh(): Tensor {
    return wrap(nt().tanh(this.handle))
  }
  relu(): Tensor {
    return wrap(nt().relu(this.handle))
  }
  erf(): Tensor {
    return wrap(nt().erf(this.handle))
  }
  floor(): Tensor {
    return wrap(nt().floor(this.handle))
  }
  round(): Tensor {
    return wrap(nt().round(this.handle))
  }
  sign(): Tensor {
    return wrap(nt().sign(this.handle))
  }
  reciprocal(): Tensor {
    return wrap(nt().reciprocal(this.handle))
  }
  logicalNot(): Tensor {
    return wrap(nt().logicalNot(this.handle))
  }
  leakyRelu(negativeSlope = 0.01): Tensor {
    return wrap(nt().leakyRelu(this.handle, negativeSlope))
  }
  gelu(tanhApproximation = false): Tensor {
    return wrap(nt().gelu(this.handle, tanhApproximation))
  }
  softmax(dim: number): Tensor {
    return wrap(nt().softmax(this.handle, dim))
  }
  logSoftmax(dim: number): Tensor {
    return wrap(nt().logSoftmax(this.handle, dim))
  }
  matmul(other: Tensor): Tensor {
    return wrap(nt().matmul(this.handle, other.handle))
  }

  // ----- comparison (bool results) -----
  eq(other: Operand): Tensor {
    return wrap(binary('eq', this, other))
  }
  ne(other: Operand): Tensor {
    return wrap(binary('ne', this, other))
  }
  lt(other: Operand): Tensor {
    return wrap(binary('lt', this, other))
  }
  le(other: Operand): Tensor {
    return wrap(binary('le', this, other))
  }
  gt(other: Operand): Tensor {
    return wrap(binary('gt', this, other))
  }
  ge(other: Operand): Tensor {
    return wrap(binary('ge', this, other))
  }
  logicalAnd(other: Operand): Tensor {
    return wrap(binary('logicalAnd', this, other))
  }
  logicalOr(other: Operand): Tensor {
    return wrap(binary('logicalOr', this, other))
  }

  // ----- reductions (dims omitted = all) -----
  sum(dims?: number | number[], keepdim = false): Tensor {
    return wrap(nt().sum(this.handle, dims ?? null, keepdim))
  }
  mean(dims?: number | number[], keepdim = false): Tensor {
    return wrap(nt().mean(this.handle, dims ?? null, keepdim))
  }
  amax(dims?: number | number[], keepdim = false): Tensor {
    return wrap(nt().amax(this.handle, dims ?? null, keepdim))
  }
  amin(dims?: number | number[], keepdim = false): Tensor {
    return wrap(nt().amin(this.handle, dims ?? null, keepdim))
  }
  argmax(dim: number, keepdim = false): Tensor {
    return wrap(nt().argmax(this.handle, dim, keepdim))
  }
  /** Frobenius norm of all elements. */
  norm(): Tensor {
    return wrap(nt().norm(this.handle))
  }

  // ----- shape and indexing -----
  reshape(shape: number[]): Tensor {
    return wrap(nt().reshape(this.handle, shape))
  }
  permute(dims: number[]): Tensor {
    return wrap(nt().permute(this.handle, dims))
  }
  transpose(dim0: number, dim1: number): Tensor {
    return wrap(nt().transpose(this.handle, dim0, dim1))
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return wrap(nt().flatten(this.handle, startDim, endDim))
  }
  squeeze(dim: number): Tensor {
    return wrap(nt().squeeze(this.handle, dim))
  }
  unsqueeze(dim: number): Tensor {
    return wrap(nt().unsqueeze(this.handle, dim))
  }
  expand(shape: number[]): Tensor {
    return wrap(nt().expand(this.handle, shape))
  }
  /** Elements start <= i < end (step) along dim; a view. */
  slice(dim: number, start: number, end: number, step = 1): Tensor {
    return wrap(nt().slice(this.handle, dim, start, end, step))
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return wrap(nt().indexSelect(this.handle, dim, index.handle))
  }
  gather(dim: number, index: Tensor): Tensor {
    return wrap(nt().gather(this.handle, dim, index.handle))
  }
  /** int64 labels -> int64 one-hot with a new last axis of size numClasses. */
  oneHot(numClasses: number): Tensor {
    return wrap(nt().oneHot(this.handle, numClasses))
  }
  /** Constant padding; pad lists (before, after) pairs starting from the last axis, as torch.nn.functional.pad. */
  pad(pad: number[], value = 0): Tensor {
    return wrap(nt().pad(this.handle, pad, value))
  }

  // ----- in place (for optimizers, inside noGrad) -----
  mul_(other: Operand): this {
    binary('mul_', this, other)
    return this
  }
  add_(other: Operand, alpha = 1): this {
    binary('add_', this, other, alpha)
    return this
  }
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    nt().addcmul_(this.handle, a.handle, b.handle, value)
    return this
  }
  addcdiv_(a: Tensor, b: Tensor, value = 1): this {
    nt().addcdiv_(this.handle, a.handle, b.handle, value)
    return this
  }
  lerp_(end: Tensor, weight: number): this {
    nt().lerp_(this.handle, end.handle, weight)
    return this
  }
  copy_(src: Tensor): this {
    nt().copy_(this.handle, src.handle)
    return this
  }
  fill_(value: number): this {
    nt().fill_(this.handle, value)
    return this
  }
  uniform_(low: number, high: number): this {
    nt().uniform_(this.handle, low, high)
    return this
  }
  normal_(mean: number, std: number): this {
    nt().normal_(this.handle, mean, std)
    return this
  }

  toString(): string {
    return `Tensor(shape=[${this.shape}], dtype=${this.dtype}, device=${this.device})`
  }
}

function wrap(handle: NativeHandle): Tensor {
  return new Tensor(handle)
}

export interface CreateOptions {
  dtype?: DType
  device?: Device
  requiresGrad?: boolean
}

function created(handle: NativeHandle, options: CreateOptions): Tensor {
  const t = wrap(handle)
  if (options.requiresGrad) t.requiresGrad = true
  return t
}

function placed(t: Tensor, options: CreateOptions): Tensor {
  if (options.device === undefined || options.device === 'cpu') return t
  const moved = t.to({ device: options.device })
  t.dispose()
  return moved
}

/** A tensor from a typed array (copied) or plain numbers (float32 unless dtype says otherwise). */
export function tensor(data: TypedData | number[], shape: number[], options: CreateOptions = {}): Tensor {
  const typed = Array.isArray(data) ? toTypedArray(data, options.dtype ?? 'float32') : data
  const t = placed(wrap(nt().fromData(typed, shape, options.dtype ?? null)), options)
  if (options.requiresGrad) t.requiresGrad = true
  return t
}

function toTypedArray(values: number[], dtype: DType): TypedData {
  switch (dtype) {
    case 'float64':
      return Float64Array.from(values)
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(Math.trunc(v)))
    case 'int32':
      return Int32Array.from(values)
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values)
    default:
      return Float32Array.from(values)
  }
}

export function zeros(shape: number[], options: CreateOptions = {}): Tensor {
  return created(nt().zeros(shape, options.dtype ?? 'float32', options.device ?? null), options)
}
export function ones(shape: number[], options: CreateOptions = {}): Tensor {
  return created(nt().ones(shape, options.dtype ?? 'float32', options.device ?? null), options)
}
export function full(shape: number[], value: number, options: CreateOptions = {}): Tensor {
  return created(nt().full(shape, value, options.dtype ?? 'float32', options.device ?? null), options)
}
/** Standard normal samples (seeded by manualSeed). */
export function randn(shape: number[], options: CreateOptions = {}): Tensor {
  return created(nt().randn(shape, options.dtype ?? 'float32', options.device ?? null), options)
}
/** Uniform samples in [0, 1). */
export function rand(shape: number[], options: CreateOptions = {}): Tensor {
  return created(nt().rand(shape, options.dtype ?? 'float32', options.device ?? null), options)
}
/** int64 samples in [low, high). */
export function randint(low: number, high: number, shape: number[], options: { device?: Device } = {}): Tensor {
  return wrap(nt().randint(low, high, shape, options.device ?? null))
}
export function arange(start: number, end: number, step = 1, options: CreateOptions = {}): Tensor {
  return created(nt().arange(start, end, step, options.dtype ?? 'float32', options.device ?? null), options)
}
export function cat(tensors: Tensor[], dim: number): Tensor {
  return wrap(nt().cat(tensors.map((t) => t.handle), dim))
}
export function stack(tensors: Tensor[], dim: number): Tensor {
  return wrap(nt().stack(tensors.map((t) => t.handle), dim))
}
/** Element-wise choice: cond ? a : b. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const handleOrValue = (x: Operand) => (typeof x === 'number' ? x : x.handle)
  return wrap(nt().where(cond.handle, handleOrValue(a), handleOrValue(b), typeof a === 'number', typeof b === 'number'))
}
