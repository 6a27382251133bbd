/**
 * Intensity normalisation per channel, as plans.json says (nnU-Net's schemes plus PET):
 * - `ct`: clip to the dataset's foreground 0.5–99.5 percentiles, then z-score with the foreground's mean
 *   and std (one set of numbers for the whole dataset: HU mean the same in every scan);
 * - `zscore`: z-score with each image's own mean and std (MR: arbitrary units per scan);
 * - `pet`: SUV clipped to [0, clip] and divided by `scale`, so 0 stays 0 and SUV keeps its meaning.
 */
export type Normalization =
  | { scheme: 'ct'; clip: [number, number]; mean: number; std: number }
  | { scheme: 'zscore' }
  | { scheme: 'pet'; clip: number; scale: number }

/** Normalises `data` (one channel) into `out` (float32, same length). */
export function normalizeChannel(data: ArrayLike<number>, scheme: Normalization, out: Float32Array): void {
  const n = data.length
  if (scheme.scheme === 'ct') {
    const [lo, hi] = scheme.clip
    const inv = 1 / Math.max(scheme.std, 1e-8)
    for (let i = 0; i < n; i++) {
      const v = data[i]!
      out[i] = ((v < lo ? lo : v > hi ? hi : v) - scheme.mean) * inv
    }
  } else if (scheme.scheme === 'pet') {
    const inv = 1 / Math.max(scheme.scale, 1e-8)
    for (let i = 0; i < n; i++) {
      const v = data[i]!
      out[i] = (v < 0 ? 0 : v > scheme.clip ? scheme.clip : v) * inv
    }
  } else {
    let sum = 0, sum2 = 0
    for (let i = 0; i < n; i++) {
      const v = data[i]!
      sum += v
      sum2 += v * v
    }
    const mean = sum / n
    const inv = 1 / Math.max(Math.sqrt(Math.max(0, sum2 / n - mean * mean)), 1e-8)
    for (let i = 0; i < n; i++) out[i] = (data[i]! - mean) * inv
  }
}

/** The value that air / empty space takes after normalisation (for padding and skipping empty tiles). */
export function normalizedFloor(scheme: Normalization): number {
  if (scheme.scheme === 'ct') return (scheme.clip[0] - scheme.mean) / Math.max(scheme.std, 1e-8)
  if (scheme.scheme === 'pet') return 0
  return -Infinity
}

/** Which scheme a channel name from dataset.json calls for (nnU-Net: "CT" -> ct, anything else z-score). */
export function schemeKindForChannel(name: string): Normalization['scheme'] {
  if (/^ct$|computed tomography|\bhu\b/i.test(name.trim())) return 'ct'
  if (/\bpet\b|\bpt\b|suv|fdg/i.test(name)) return 'pet'
  return 'zscore'
}
