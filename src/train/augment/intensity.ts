/**
 * Intensity augmentation of image channels (never labels), following nnU-Net's choices: Gaussian noise,
 * Gaussian blur, multiplicative brightness, contrast, simulated low resolution and gamma (with and without
 * inversion). Each transform is drawn once per patch with its probability and then applied to every channel
 * with parameters drawn per channel (noise: one variance for all channels). Every function here works in place
 * on one channel: a Float32Array of Z*Y*X values, z-slowest, x-fastest.
 */
import { convolveAxis, factorAroundOne, gaussianKernel, uniform, type Rng } from './common.js'
import type { Vec3 } from './spatial.js'

export interface IntensityOptions {
  /** Gamma on the range-normalised image, statistics retained. `invertedProbability` (default 0) is nnU-Net's
   * second gamma on the negated image, drawn before the plain one. */
  gamma: { probability: number; range: [number, number]; invertedProbability?: number }
  /** Multiply by a factor drawn uniformly in range. */
  brightness: { probability: number; range: [number, number] }
  /** Scale deviations from the mean, then clip to the channel's original range. */
  contrast: { probability: number; range: [number, number] }
  /** Additive Gaussian noise with variance drawn uniformly in [0, maxVariance]. */
  noise: { probability: number; maxVariance: number }
  /** Gaussian blur, sigma (voxels) drawn per channel and per axis. */
  blur: { probability: number; sigmaVoxels: [number, number] }
  /** Nearest-neighbour downsampling by a zoom drawn in zoomRange, then linear upsampling back, along `axes`
   * (default all three; nnU-Net leaves the through-plane axis alone for anisotropic data). */
  lowResolution: { probability: number; zoomRange: [number, number]; axes?: number[] }
}

export function addGaussianNoise(v: Float32Array, sigma: number, rng: Rng): void {
  for (let i = 0; i < v.length; i += 2) {
    const r = sigma * Math.sqrt(-2 * Math.log(1 - rng()))
    const angle = 2 * Math.PI * rng()
    v[i] += r * Math.cos(angle)
    if (i + 1 < v.length) v[i + 1] += r * Math.sin(angle)
  }
}

export function gaussianBlur(v: Float32Array, shape: Vec3, sigmaVoxels: Vec3): void {
  for (let axis = 0; axis < 3; axis++) {
    if (sigmaVoxels[axis] > 0 && shape[axis] > 1) convolveAxis(v, shape, axis, gaussianKernel(sigmaVoxels[axis]))
  }
}

export function multiplyIntensity(v: Float32Array, factor: number): void {
  for (let i = 0; i < v.length; i++) v[i] *= factor
}

interface Stats { mean: number; std: number; min: number; max: number }

function stats(v: Float32Array): Stats {
  let sum = 0
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < v.length; i++) {
    sum += v[i]
    if (v[i] < min) min = v[i]
    if (v[i] > max) max = v[i]
  }
  const mean = sum / v.length
  let squares = 0
  for (let i = 0; i < v.length; i++) squares += (v[i] - mean) ** 2
  return { mean, std: Math.sqrt(squares / v.length), min, max }
}

/** (v − mean)·factor + mean, clipped to the channel's original [min, max]. */
export function adjustContrast(v: Float32Array, factor: number): void {
  const { mean, min, max } = stats(v)
  for (let i = 0; i < v.length; i++) v[i] = Math.min(max, Math.max(min, (v[i] - mean) * factor + mean))
}

/**
 * Gamma on the range-normalised channel, then mean and standard deviation restored (nnU-Net's retain_stats).
 * With `invert` the channel is negated before and after.
 */
export function adjustGamma(v: Float32Array, gamma: number, invert: boolean): void {
  if (invert) multiplyIntensity(v, -1)
  const { mean, std, min, max } = stats(v)
  const range = max - min
  for (let i = 0; i < v.length; i++) v[i] = ((v[i] - min) / (range + 1e-7)) ** gamma * range + min
  const after = stats(v)
  const gain = std / (after.std + 1e-8)
  for (let i = 0; i < v.length; i++) v[i] = (v[i] - after.mean) * gain + mean
  if (invert) multiplyIntensity(v, -1)
}

/** Source index and weight of each output position when resizing an axis from `from` to `to` samples. */
function resizeTable(from: number, to: number): { lo: Int32Array; hi: Int32Array; weight: Float64Array } {
  const lo = new Int32Array(to)
  const hi = new Int32Array(to)
  const weight = new Float64Array(to)
  for (let i = 0; i < to; i++) {
    const c = Math.min(from - 1, Math.max(0, (i + 0.5) * from / to - 0.5))
    lo[i] = Math.min(Math.floor(c), Math.max(0, from - 2))
    hi[i] = Math.min(lo[i] + 1, from - 1)
    weight[i] = c - lo[i]
  }
  return { lo, hi, weight }
}

/** Nearest-neighbour downsampling of `v` (shape) to `small`. */
function downsampleNearest(v: Float32Array, shape: Vec3, small: Vec3): Float32Array {
  const near = shape.map((n, a) => {
    const table = new Int32Array(small[a])
    for (let i = 0; i < small[a]; i++) table[i] = Math.min(n - 1, Math.round((i + 0.5) * n / small[a] - 0.5))
    return table
  })
  const out = new Float32Array(small[0] * small[1] * small[2])
  let o = 0
  for (let z = 0; z < small[0]; z++) {
    for (let y = 0; y < small[1]; y++) {
      const row = (near[0][z] * shape[1] + near[1][y]) * shape[2]
      for (let x = 0; x < small[2]; x++) out[o++] = v[row + near[2][x]]
    }
  }
  return out
}

/** Downsamples by `zoom` per axis (nearest) and resamples back to `shape` (trilinear), in place. */
export function simulateLowResolution(v: Float32Array, shape: Vec3, zoom: Vec3): void {
  const small = shape.map((n, a) => Math.max(1, Math.round(n * zoom[a]))) as Vec3
  if (small.every((n, a) => n === shape[a])) return
  const low = downsampleNearest(v, shape, small)
  const [tz, ty, tx] = shape.map((n, a) => resizeTable(small[a], n))
  const [SY, SX] = [small[1], small[2]]
  let o = 0
  for (let z = 0; z < shape[0]; z++) {
    const [z0, z1, wz] = [tz.lo[z] * SY, tz.hi[z] * SY, tz.weight[z]]
    for (let y = 0; y < shape[1]; y++) {
      const [y0, y1, wy] = [ty.lo[y], ty.hi[y], ty.weight[y]]
      const r00 = (z0 + y0) * SX
      const r01 = (z0 + y1) * SX
      const r10 = (z1 + y0) * SX
      const r11 = (z1 + y1) * SX
      for (let x = 0; x < shape[2]; x++) {
        const [x0, x1, wx] = [tx.lo[x], tx.hi[x], tx.weight[x]]
        const near = (1 - wy) * ((1 - wx) * low[r00 + x0] + wx * low[r00 + x1])
          + wy * ((1 - wx) * low[r01 + x0] + wx * low[r01 + x1])
        const far = (1 - wy) * ((1 - wx) * low[r10 + x0] + wx * low[r10 + x1])
          + wy * ((1 - wx) * low[r11 + x0] + wx * low[r11 + x1])
        v[o++] = (1 - wz) * near + wz * far
      }
    }
  }
}

/**
 * Applies the intensity transforms in nnU-Net's order (noise, blur, brightness, contrast, low resolution,
 * inverted gamma, gamma) to every channel of a [channels, ...shape] image, in place. One uniform draw decides
 * each transform, so the sequence of draws depends only on the options and the outcomes.
 */
export function augmentIntensity(image: Float32Array, channels: number, shape: Vec3, options: IntensityOptions,
  rng: Rng): void {
  const volume = shape[0] * shape[1] * shape[2]
  const channel = (c: number) => image.subarray(c * volume, (c + 1) * volume)
  const { noise, blur, brightness, contrast, lowResolution, gamma } = options
  if (rng() < noise.probability) {
    const sigma = Math.sqrt(uniform(rng, [0, noise.maxVariance]))
    for (let c = 0; c < channels; c++) addGaussianNoise(channel(c), sigma, rng)
  }
  if (rng() < blur.probability) {
    for (let c = 0; c < channels; c++) {
      const sigma = () => uniform(rng, blur.sigmaVoxels)
      gaussianBlur(channel(c), shape, [sigma(), sigma(), sigma()])
    }
  }
  if (rng() < brightness.probability) {
    for (let c = 0; c < channels; c++) multiplyIntensity(channel(c), uniform(rng, brightness.range))
  }
  if (rng() < contrast.probability) {
    for (let c = 0; c < channels; c++) adjustContrast(channel(c), factorAroundOne(rng, contrast.range))
  }
  if (rng() < lowResolution.probability) {
    const axes = lowResolution.axes ?? [0, 1, 2]
    for (let c = 0; c < channels; c++) {
      const zoom = uniform(rng, lowResolution.zoomRange)
      simulateLowResolution(channel(c), shape, [0, 1, 2].map(a => axes.includes(a) ? zoom : 1) as Vec3)
    }
  }
  if (rng() < (gamma.invertedProbability ?? 0)) {
    for (let c = 0; c < channels; c++) adjustGamma(channel(c), factorAroundOne(rng, gamma.range), true)
  }
  if (rng() < gamma.probability) {
    for (let c = 0; c < channels; c++) adjustGamma(channel(c), factorAroundOne(rng, gamma.range), false)
  }
}
