import type { VoxelArray } from './volume.js'

export interface IntensityStats {
  min: number
  max: number
  mean: number
  std: number
  percentiles: Record<string, number>
}

/**
 * Min, max, mean, std and percentiles (0.5, 5, 25, 50, 75, 95, 99.5 by default) over all voxels.
 * Percentiles use linear interpolation between order statistics (numpy's default), computed on a
 * sorted float64 copy; for very large volumes a strided subsample of at most `maxSamples` is sorted.
 */
export function intensityStats(data: VoxelArray, pcts = [0.5, 5, 25, 50, 75, 95, 99.5], maxSamples = 4_000_000): IntensityStats {
  let min = Infinity, max = -Infinity, sum = 0, sum2 = 0
  for (let n = 0; n < data.length; n++) {
    const v = data[n]
    if (v < min) min = v
    if (v > max) max = v
    sum += v
    sum2 += v * v
  }
  const count = data.length
  const mean = sum / count
  const std = Math.sqrt(Math.max(0, sum2 / count - mean * mean))
  const stride = Math.max(1, Math.ceil(count / maxSamples))
  const sample = new Float64Array(Math.ceil(count / stride))
  for (let n = 0, m = 0; n < count; n += stride, m++) sample[m] = data[n]
  sample.sort()
  const percentiles: Record<string, number> = {}
  for (const p of pcts) percentiles[`p${p}`] = quantileSorted(sample, p / 100)
  return { min, max, mean, std, percentiles }
}

/** Linear-interpolated quantile q in [0,1] of an ascending array (numpy 'linear'). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos), hi = Math.ceil(pos)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
}
