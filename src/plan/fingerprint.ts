/**
 * The dataset fingerprint (nnU-Net's term): spacings, shapes, foreground intensities per channel and the
 * sizes of the labelled structures, from which the plan is derived.
 */
import { connectedComponents } from '../volume/components.js'
import { quantileSorted } from '../volume/stats.js'
import type { Volume } from '../volume/volume.js'
import { toZyx } from '../preprocess/index.js'
import type { Fingerprint, Triple } from './plans.js'

/** What one case contributes; computed while the case is in memory, then pooled. */
export interface CaseFingerprint {
  spacing: Triple
  shape: Triple
  /** Per channel, a strided sample of the intensities inside the foreground (label > 0, not ignore). */
  foregroundSamples: Float32Array[]
  /** Sphere-equivalent diameters (mm) of the foreground's 26-connected components. */
  componentDiameters: number[]
}

const SAMPLES_PER_CASE = 20_000

export function fingerprintCase(channels: Volume[], label: Volume, ignore: number | null): CaseFingerprint {
  const inside = new Uint8Array(label.data.length)
  let count = 0
  for (let i = 0; i < inside.length; i++) {
    const v = label.data[i]!
    if (v > 0 && v !== ignore) {
      inside[i] = 1
      count++
    }
  }
  const stride = Math.max(1, Math.floor(count / SAMPLES_PER_CASE))
  const foregroundSamples = channels.map((channel) => {
    const out: number[] = []
    for (let i = 0, seen = 0; i < inside.length; i++) {
      if (inside[i] && seen++ % stride === 0) out.push(channel.data[i]!)
    }
    return Float32Array.from(out)
  })
  return { spacing: toZyx(label.spacing), shape: toZyx(label.shape), foregroundSamples, componentDiameters: diameters(inside, label) }
}

function diameters(inside: Uint8Array, label: Volume): number[] {
  const { sizes } = connectedComponents(inside, label.shape, 26)
  return sizes.slice(1).map((voxels) => Math.cbrt((6 * voxels * label.voxelVolumeMm3) / Math.PI))
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return quantileSorted(sorted, 0.5)
}

export function poolFingerprints(cases: CaseFingerprint[], channelCount: number): Fingerprint {
  const spacings = cases.map((c) => c.spacing)
  const shapes = cases.map((c) => c.shape)
  const foreground_intensity = Array.from({ length: channelCount }, (_, channel) => {
    const all = Float64Array.from(cases.flatMap((c) => Array.from(c.foregroundSamples[channel] ?? [])))
    all.sort()
    let sum = 0, sum2 = 0
    for (const v of all) {
      sum += v
      sum2 += v * v
    }
    const mean = all.length ? sum / all.length : 0
    return {
      channel,
      mean,
      std: all.length ? Math.sqrt(Math.max(0, sum2 / all.length - mean * mean)) : 1,
      p00_5: all.length ? quantileSorted(all, 0.005) : 0,
      p99_5: all.length ? quantileSorted(all, 0.995) : 0,
      min: all.length ? all[0]! : 0,
      max: all.length ? all[all.length - 1]! : 0,
    }
  })
  const nodes = cases.flatMap((c) => c.componentDiameters).sort((a, b) => a - b)
  return {
    cases: cases.length,
    spacings,
    shapes,
    median_spacing: [0, 1, 2].map((a) => medianOf(spacings.map((s) => s[a]!))) as Triple,
    median_shape: [0, 1, 2].map((a) => medianOf(shapes.map((s) => s[a]!))) as Triple,
    foreground_intensity,
    // the 5th percentile rather than the minimum: a few voxels cut off by a crop are not a node class
    smallest_node_mm: nodes.length ? round(quantileSorted(nodes, 0.05)) : null,
    median_node_mm: nodes.length ? round(quantileSorted(nodes, 0.5)) : null,
  }
}

function round(v: number): number {
  return Math.round(v * 100) / 100
}
