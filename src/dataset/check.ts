/**
 * Checks of a dataset's volumes: every channel, the label map and the instance map of a case lie on
 * one world grid, and the label map holds only declared labels.
 */
import { NodalError } from '../errors.js'
import { readVolume } from '../io/index.js'
import { Grid, sameGrid, Volume, VoxelArray } from '../volume/volume.js'
import { Dataset, DatasetCase } from './layout.js'
import { describeLabels, LabelSet } from './labels.js'

export interface CaseCheck {
  grid: Grid
  /** The distinct values of the label map, ascending ([] for a case without label). */
  labelValues: number[]
}

export interface VerifyOptions {
  /** Grid tolerance (see sameGrid): mm for spacing and origin, relative beyond 1; direction cosines. */
  tol?: number
}

/**
 * Reads a case's volumes and verifies that all channels, the label map (and the instance map) share
 * the grid of channel 0 and that the label values are among the declared labels. Throws
 * NodalError('bad-dataset') with one line on the first problem, saying how the grids differ
 * (shape, spacing, origin, direction) or which values are undeclared. Holds one volume at a time.
 */
export async function verifyCase(c: DatasetCase, labels: LabelSet, options: VerifyOptions = {}): Promise<CaseCheck> {
  const channels: Grid[] = []
  for (const path of c.images) channels.push((await readVolume(path)).grid)
  const label = c.label ? await readVolume(c.label) : null
  const instances = c.instances ? (await readVolume(c.instances.map)).grid : null
  return checkCaseVolumes(c, { channels, label, instances }, labels, options)
}

/**
 * verifyCase's checks on volumes already read (channels in the order of c.images, the label map of
 * c.label, the instance map of c.instances.map); for callers that read the case anyway.
 */
export function checkCaseVolumes(
  c: DatasetCase,
  volumes: { channels: Grid[]; label?: Volume | null; instances?: Grid | null },
  labels: LabelSet,
  options: VerifyOptions = {},
): CaseCheck {
  const tol = options.tol ?? 1e-4
  if (volumes.channels.length === 0) throw new NodalError('bad-dataset', `case "${c.name}": has no image`)
  const reference = volumes.channels[0]
  const grid: Grid = { shape: reference.shape, spacing: reference.spacing, origin: reference.origin, axes: reference.axes }
  const onGrid = (g: Grid, path: string) => {
    if (!sameGrid(g, grid, tol)) {
      throw new NodalError('bad-dataset', `${path}: case "${c.name}" is not on the grid of ${c.images[0]} (${gridDifference(g, grid, tol)})`)
    }
  }
  volumes.channels.slice(1).forEach((g, i) => onGrid(g, c.images[i + 1] ?? `channel ${i + 1}`))
  let labelValues: number[] = []
  if (volumes.label) {
    const where = c.label ?? `case "${c.name}" label`
    onGrid(volumes.label, where)
    labelValues = distinctValues(volumes.label.data)
    const undeclared = labelValues.filter((v) => !labels.names.has(v))
    if (undeclared.length > 0) {
      const shown = undeclared.slice(0, 10).join(', ') + (undeclared.length > 10 ? `, ... ${undeclared.length - 10} more` : '')
      throw new NodalError('bad-dataset', `${where}: case "${c.name}" has undeclared label value${undeclared.length === 1 ? '' : 's'} ${shown} (declared: ${describeLabels(labels)})`)
    }
  }
  if (volumes.instances) onGrid(volumes.instances, c.instances?.map ?? `case "${c.name}" instance map`)
  return { grid, labelValues }
}

/** verifyCase for every case, in order; stops at the first problem. */
export async function verifyDataset(ds: Dataset, options: VerifyOptions & { onCase?: (c: DatasetCase, check: CaseCheck) => void } = {}): Promise<Map<string, CaseCheck>> {
  const out = new Map<string, CaseCheck>()
  for (const c of ds.cases) {
    const check = await verifyCase(c, ds.labels, options)
    out.set(c.name, check)
    options.onCase?.(c, check)
  }
  return out
}

/** How grid `a` differs from `b`, e.g. "origin 1,0,0 vs 0,0,0 mm"; several parts joined by "; ". */
export function gridDifference(a: Grid, b: Grid, tol = 1e-4): string {
  const close = (x: number, y: number) => Math.abs(x - y) <= tol * Math.max(1, Math.abs(x), Math.abs(y))
  const fmt = (v: readonly number[]) => v.map((x) => +x.toFixed(4)).join(',')
  const parts: string[] = []
  if (a.shape.some((s, i) => s !== b.shape[i])) parts.push(`shape ${a.shape.join('x')} vs ${b.shape.join('x')}`)
  if (!a.spacing.every((s, i) => close(s, b.spacing[i]))) parts.push(`spacing ${fmt(a.spacing)} vs ${fmt(b.spacing)} mm`)
  if (!a.origin.every((o, i) => close(o, b.origin[i]))) parts.push(`origin ${fmt(a.origin)} vs ${fmt(b.origin)} mm`)
  if (!a.axes.every((ax, d) => ax.every((v, r) => Math.abs(v - b.axes[d][r]) <= tol))) {
    parts.push(`direction ${a.axes.map(fmt).join(' ')} vs ${b.axes.map(fmt).join(' ')}`)
  }
  return parts.length > 0 ? parts.join('; ') : 'same grid'
}

/** The distinct values of a voxel array, ascending. */
export function distinctValues(data: VoxelArray): number[] {
  const seen = new Set<number>()
  let last = NaN
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
    if (v === last) continue
    seen.add(v)
    last = v
  }
  return [...seen].sort((a, b) => a - b)
}
