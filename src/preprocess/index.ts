/**
 * The one preprocessing path, read from plans.json, shared by planning (the cache training reads),
 * validation and prediction; and its inverse, which puts a prediction back on the input's grid.
 *
 * Layout: a Volume stores x fastest (index i + nx·(j + ny·k)), which is exactly a row-major tensor
 * [k, j, i] = [z, y, x]. So a channel's data is used as the tensor without reordering; shapes and
 * spacings are reversed at this boundary and nowhere else.
 */
import { NodalError } from '../errors.js'
import { gridWithSpacing, resampleTo } from '../volume/resample.js'
import { type Grid, sameGrid, type Vec3, Volume } from '../volume/volume.js'
import { normalizeChannel, type Normalization } from './normalize.js'

export * from './normalize.js'

export type Triple = [number, number, number]

/** What preprocessing needs from plans.json. */
export interface PreprocessPlan {
  target_spacing: Triple
  channels: { name: string; normalization: Normalization }[]
}

/** Enough to undo preprocessing: the input's grid and the grid the network saw. */
export interface PreprocessRecord {
  sourceGrid: Grid
  targetGrid: Grid
}

export interface PreprocessedCase {
  /** [C, Z, Y, X] float32, normalised. */
  image: Float32Array
  /** [Z, Y, X] class ids (255 = ignore), or null without labels. */
  label: Uint8Array | null
  shape: Triple
  spacing: Triple
  record: PreprocessRecord
}

export function toZyx(v: Vec3): Triple {
  return [v[2], v[1], v[0]]
}

export function fromZyx(v: Triple): Vec3 {
  return [v[2], v[1], v[0]]
}

/** The grid the network works on: the source's extent and axes at the plan's spacing. */
export function targetGridFor(source: Grid, targetSpacing: Triple): Grid {
  const spacing = fromZyx(targetSpacing)
  const same = spacing.every((s, a) => Math.abs(s - source.spacing[a]!) <= 1e-3 * s)
  return same ? { shape: [...source.shape], spacing: [...source.spacing], origin: [...source.origin], axes: source.axes } : gridWithSpacing(source, spacing)
}

function onGrid(volume: Volume, grid: Grid, interpolation: 'linear' | 'nearest'): Volume {
  return sameGrid(volume, grid) ? volume : resampleTo(volume, grid, { interpolation })
}

/**
 * Resamples every channel (linear) and the label (nearest) onto the plan's spacing by world coordinates
 * (channels after the first are first brought onto the first channel's grid, e.g. PET onto CT) and
 * normalises each channel as planned.
 */
export function preprocessCase(channels: Volume[], plan: PreprocessPlan, label?: Volume | null): PreprocessedCase {
  if (channels.length !== plan.channels.length) {
    throw new NodalError('bad-input', `expected ${plan.channels.length} channel(s) (${plan.channels.map((c) => c.name).join(', ')}), got ${channels.length}`)
  }
  const sourceGrid = channels[0]!.grid
  const targetGrid = targetGridFor(sourceGrid, plan.target_spacing)
  const n = targetGrid.shape[0] * targetGrid.shape[1] * targetGrid.shape[2]
  const image = new Float32Array(channels.length * n)
  channels.forEach((channel, c) => {
    const resampled = onGrid(onGrid(channel, sourceGrid, 'linear'), targetGrid, 'linear')
    normalizeChannel(resampled.data, plan.channels[c]!.normalization, image.subarray(c * n, (c + 1) * n))
  })
  return {
    image,
    label: label ? labelBytes(onGrid(label, targetGrid, 'nearest')) : null,
    shape: toZyx(targetGrid.shape),
    spacing: toZyx(targetGrid.spacing),
    record: { sourceGrid, targetGrid },
  }
}

function labelBytes(label: Volume): Uint8Array {
  const out = new Uint8Array(label.data.length)
  for (let i = 0; i < out.length; i++) {
    const v = label.data[i]!
    if (!(v >= 0 && v <= 255 && Number.isInteger(v))) throw new NodalError('bad-input', `label value ${v} is not an integer from 0 to 255`)
    out[i] = v
  }
  return out
}

/**
 * Class probabilities [K, Z, Y, X] on the network's grid -> a label map on the input grid: each class is
 * resampled linearly by world coordinates and the voxel takes the most probable class (as nnU-Net resamples
 * probabilities, not labels). Also returns the winning probability per voxel.
 */
export function revertToLabels(record: PreprocessRecord, probabilities: Float32Array, classes: number): { labels: Volume; confidence: Volume } {
  const target = record.targetGrid
  const n = target.shape[0] * target.shape[1] * target.shape[2]
  const labels = Volume.zeros(record.sourceGrid, 'uint8')
  let best: Float32Array | null = null
  for (let k = 0; k < classes; k++) {
    const onTarget = new Volume(probabilities.subarray(k * n, (k + 1) * n), [...target.shape], [...target.spacing], [...target.origin], target.axes)
    const onSource = sameGrid(target, record.sourceGrid)
      ? onTarget.data as Float32Array
      : resampleTo(onTarget, record.sourceGrid, { interpolation: 'linear', fill: k === 0 ? 1 : 0 }).data as Float32Array
    if (!best) {
      best = Float32Array.from(onSource)
      continue
    }
    for (let i = 0; i < onSource.length; i++) {
      if (onSource[i]! > best[i]!) {
        best[i] = onSource[i]!
        labels.data[i] = k
      }
    }
  }
  return { labels, confidence: Volume.zeros(record.sourceGrid, 'float32').withData(best ?? new Float32Array(labels.data.length)) }
}

/** One class's probability back on the input grid (linear), e.g. for --save-probabilities. */
export function revertChannel(record: PreprocessRecord, data: Float32Array, fill = 0, where?: ArrayLike<number>): Volume {
  const t = record.targetGrid
  const onTarget = new Volume(data, [...t.shape], [...t.spacing], [...t.origin], t.axes)
  return sameGrid(t, record.sourceGrid) ? onTarget : resampleTo(onTarget, record.sourceGrid, { interpolation: 'linear', fill, where })
}
