/** Stateless network operations (as torch.nn.functional); the Modules in nn.ts hold their parameters. */
import { nativeTorch } from './native.js'
import { Tensor } from './tensor.js'

const nt = () => nativeTorch()

let flopCounter: { flops: number } | null = null

/**
 * Runs fn and counts the multiply-add FLOPs (2 per multiply-accumulate) of the convolutions and linear
 * layers it runs: the figure used for GFLOP/s in benchmarks.
 */
export function countFlops<T>(fn: () => T): { result: T; flops: number } {
  const previous = flopCounter
  const counter = { flops: 0 }
  flopCounter = counter
  try {
    return { result: fn(), flops: counter.flops }
  } finally {
    flopCounter = previous
  }
}

function product(values: number[]): number {
  return values.reduce((a, b) => a * b, 1)
}

export interface ConvOptions {
  stride?: number[]
  padding?: number[]
  dilation?: number[]
  groups?: number
}

function spatial(values: number[] | undefined, dims: number, fallback: number): number[] {
  return values ?? new Array<number>(dims).fill(fallback)
}

/** N-d convolution; weight [out, in/groups, ...kernel]. */
export function conv(x: Tensor, weight: Tensor, bias: Tensor | null, options: ConvOptions = {}): Tensor {
  const dims = weight.ndim - 2
  const out = new Tensor(
    nt().convolution(x.handle, weight.handle, bias?.handle ?? null, spatial(options.stride, dims, 1),
      spatial(options.padding, dims, 0), spatial(options.dilation, dims, 1), false, new Array<number>(dims).fill(0),
      options.groups ?? 1),
  )
  if (flopCounter) {
    const w = weight.shape
    flopCounter.flops += 2 * product(w.slice(1)) * w[0]! * product(out.shape.slice(2)) * out.shape[0]!
  }
  return out
}

export interface ConvTransposeOptions extends ConvOptions {
  outputPadding?: number[]
}

/** N-d transposed convolution; weight [in, out/groups, ...kernel]. */
export function convTranspose(x: Tensor, weight: Tensor, bias: Tensor | null, options: ConvTransposeOptions = {}): Tensor {
  const dims = weight.ndim - 2
  const out = new Tensor(
    nt().convolution(x.handle, weight.handle, bias?.handle ?? null, spatial(options.stride, dims, 1),
      spatial(options.padding, dims, 0), spatial(options.dilation, dims, 1), true,
      spatial(options.outputPadding, dims, 0), options.groups ?? 1),
  )
  if (flopCounter) {
    const w = weight.shape
    flopCounter.flops += 2 * product(w) * product(x.shape.slice(2)) * x.shape[0]!
  }
  return out
}

/** Instance normalisation over the spatial axes of each (sample, channel). */
export function instanceNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  return new Tensor(nt().instanceNorm(x.handle, weight?.handle ?? null, bias?.handle ?? null, null, null, true, 0.1, eps))
}

export function batchNorm(
  x: Tensor, weight: Tensor | null, bias: Tensor | null, runningMean: Tensor | null, runningVar: Tensor | null,
  training: boolean, momentum = 0.1, eps = 1e-5,
): Tensor {
  return new Tensor(nt().batchNorm(x.handle, weight?.handle ?? null, bias?.handle ?? null, runningMean?.handle ?? null,
    runningVar?.handle ?? null, training, momentum, eps))
}

export function groupNorm(x: Tensor, groups: number, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  return new Tensor(nt().groupNorm(x.handle, groups, weight?.handle ?? null, bias?.handle ?? null, eps))
}

export function maxPool(x: Tensor, kernel: number[], stride = kernel, padding = kernel.map(() => 0)): Tensor {
  return new Tensor(nt().maxPool(x.handle, kernel, stride, padding))
}

export function avgPool(x: Tensor, kernel: number[], stride = kernel, padding = kernel.map(() => 0)): Tensor {
  return new Tensor(nt().avgPool(x.handle, kernel, stride, padding))
}

export function adaptiveAvgPool(x: Tensor, outputSize: number[]): Tensor {
  return new Tensor(nt().adaptiveAvgPool(x.handle, outputSize))
}

/** Resamples the spatial axes to `size`: trilinear (5-D) / bilinear (4-D) for 'linear', or nearest. */
export function interpolate(x: Tensor, size: number[], mode: 'linear' | 'nearest' = 'linear', alignCorners = false): Tensor {
  return new Tensor(nt().interpolate(x.handle, size, mode, alignCorners))
}

export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  return new Tensor(nt().dropout(x.handle, p, training))
}

/** x @ weight^T + bias, weight [out, in]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const out = new Tensor(nt().linear(x.handle, weight.handle, bias?.handle ?? null))
  if (flopCounter) flopCounter.flops += 2 * product(weight.shape) * (x.numel / weight.shape[1]!)
  return out
}
