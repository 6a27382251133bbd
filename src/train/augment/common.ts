/**
 * Helpers shared by the spatial and intensity augmentations: a seeded random number generator, random draws
 * and separable Gaussian smoothing of a 3D grid stored z-slowest, x-fastest.
 */

/** A source of uniform numbers in [0, 1). Every random choice of the augmentation comes from one of these. */
export type Rng = () => number

/** The seeded generator every random choice of the augmentation comes from (src/random.ts). */
export { makeRng } from '../../random.js'

/** One standard normal draw (Box-Muller; uses two uniform draws). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng() // (0, 1], so the logarithm is finite
  const v = rng()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/** Uniform draw in [lo, hi). */
export function uniform(rng: Rng, [lo, hi]: readonly [number, number]): number {
  return lo + (hi - lo) * rng()
}

/**
 * A multiplicative factor from `range` that is below and above 1 equally often (as batchgenerators draws
 * zoom, contrast and gamma): half the draws are uniform in [lo, 1), half in [1, hi). A range that does not
 * contain 1 is drawn uniformly.
 */
export function factorAroundOne(rng: Rng, [lo, hi]: readonly [number, number]): number {
  if (lo >= 1 || hi <= 1) return uniform(rng, [lo, hi])
  return rng() < 0.5 ? uniform(rng, [lo, 1]) : uniform(rng, [1, hi])
}

/** Normalised 1D Gaussian kernel with radius ceil(3 sigma) (at least 1). */
export function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.max(1, Math.ceil(3 * sigma))
  const kernel = new Float64Array(2 * radius + 1)
  let sum = 0
  for (let i = -radius; i <= radius; i++) {
    const w = Math.exp(-0.5 * (i / sigma) ** 2)
    kernel[i + radius] = w
    sum += w
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum
  return kernel
}

/**
 * Convolves a z-slowest [Z, Y, X] grid in place along one axis (0 = z, 1 = y, 2 = x) with an odd-length
 * kernel; values beyond the edges repeat the edge value.
 */
export function convolveAxis(data: Float32Array, shape: readonly [number, number, number],
  axis: number, kernel: Float64Array): void {
  const n = shape[axis]
  const inner = axis === 2 ? 1 : axis === 1 ? shape[2] : shape[1] * shape[2]
  const outer = data.length / (n * inner)
  const radius = (kernel.length - 1) / 2
  const line = new Float64Array(n + 2 * radius)
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i
      for (let k = 0; k < n; k++) line[k + radius] = data[base + k * inner]
      for (let k = 0; k < radius; k++) {
        line[k] = line[radius]
        line[n + radius + k] = line[n + radius - 1]
      }
      for (let k = 0; k < n; k++) {
        let sum = 0
        for (let j = 0; j < kernel.length; j++) sum += kernel[j] * line[k + j]
        data[base + k * inner] = sum
      }
    }
  }
}
