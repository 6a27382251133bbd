/** Chooses each channel's normalisation from its name in dataset.json and the fingerprint. */
import { type Normalization, schemeKindForChannel } from '../preprocess/normalize.js'
import type { Fingerprint } from './plans.js'

export function planNormalization(channelName: string, fp: Fingerprint, channel: number): Normalization {
  const stats = fp.foreground_intensity[channel]!
  const kind = schemeKindForChannel(channelName)
  if (kind === 'ct') return { scheme: 'ct', clip: [stats.p00_5, stats.p99_5], mean: stats.mean, std: Math.max(stats.std, 1e-3) }
  if (kind === 'pet') {
    // SUV: keep 0 at 0; clip the rare hot spots above the foreground's 99.5th percentile (bladder, brain)
    const clip = Math.max(stats.p99_5, 1)
    return { scheme: 'pet', clip, scale: Math.max(stats.std, clip / 10) }
  }
  return { scheme: 'zscore' }
}
