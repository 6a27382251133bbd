/**
 * `nodal dataset check`: reads every case of an nnU-Net dataset, one case's volumes at a time, and
 * lists what is wrong with it instead of stopping at the first problem: grids that differ (geometry,
 * not only shape), unreadable files, undeclared label values, empty or all-foreground labels, tiny
 * connected components, duplicated images, and cases whose spacing or orientation stands out from
 * the rest. It also summarises the nodes (26-connected components per label value, their short axis)
 * per class, and per site where the instance records name one.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isAbsolute, relative } from 'node:path'
import { readVolume } from '../io/index.js'
import { componentBoxes, connectedComponents } from '../volume/components.js'
import { boundingBox, cropOrPad } from '../volume/crop.js'
import { measureNode } from '../volume/measure.js'
import { orientationCode } from '../volume/orient.js'
import { Grid, sameGrid, Vec3, Volume } from '../volume/volume.js'
import { distinctValues, gridDifference } from './check.js'
import { describeLabels, LabelSet } from './labels.js'
import { Dataset, DatasetCase, readDataset } from './layout.js'

export interface DatasetProblem {
  /** The case the problem is about; null for a problem of the dataset as a whole. */
  case: string | null
  check: string
  message: string
  severity: 'error' | 'warning'
}

export interface DatasetSummary {
  cases: number
  channels: string[]
  /** name -> value, as dataset.json declares them (with background). */
  labels: Record<string, number>
  /** Per foreground label name: cases holding it, nodes (26-connected components), their short axes. */
  by_class: Record<string, { cases_with: number; nodes: number; short_axis_mm: { min: number; median: number; max: number } | null }>
  /** site -> class -> node count, only where instancesTr records give a site. */
  by_site: Record<string, Record<string, number>>
  /** Over the cases' image grids (voxel axes 0, 1, 2); zeros when no image could be read. */
  spacing_mm: { min: Vec3; median: Vec3; max: Vec3 }
}

export interface DatasetCheckResult {
  problems: DatasetProblem[]
  summary: DatasetSummary
}

export interface DatasetCheckOptions {
  onProgress?: (done: number, total: number) => void
  /** Components with fewer voxels than this are reported (default 3). */
  minComponentVoxels?: number
}

/** Grid tolerance, as verifyCase's default. */
const GRID_TOL = 1e-4
/** A spacing more than this many times the dataset median (or less than its inverse) stands out. */
const SPACING_OUTLIER_RATIO = 3

/** What the dataset-wide checks and the summary keep of a case once its volumes are dropped. */
interface CaseFacts {
  name: string
  /** The grid of the first readable image channel. */
  grid: Grid | null
  /** Hash of channel 0's voxels and shape, when it could be read. */
  imageHash: string | null
}

/** Running totals of the summary. */
interface Tallies {
  /** label value -> short axes (mm) of its nodes, and how many cases hold it. */
  nodes: Map<number, { casesWith: number; shortAxes: number[] }>
  bySite: Record<string, Record<string, number>>
}

type Report = (check: string, message: string, severity?: DatasetProblem['severity']) => void

/**
 * Checks every case of the dataset in `dir`. Throws NodalError('bad-dataset') only when the folder
 * is not a dataset (see readDataset); every other defect is a problem in the list.
 */
export async function checkDatasetFolder(dir: string, o: DatasetCheckOptions = {}): Promise<DatasetCheckResult> {
  const ds = readDataset(dir)
  const minVoxels = o.minComponentVoxels ?? 3
  const problems: DatasetProblem[] = []
  const tallies: Tallies = { nodes: new Map(ds.labels.foreground.map((v) => [v, { casesWith: 0, shortAxes: [] }])), bySite: {} }
  const facts: CaseFacts[] = []
  for (const [i, c] of ds.cases.entries()) {
    const report: Report = (check, message, severity = 'error') => problems.push({ case: c.name, check, message, severity })
    facts.push(await checkCase(ds, c, { report, tallies, minVoxels }))
    o.onProgress?.(i + 1, ds.cases.length)
  }
  problems.push(...duplicateProblems(facts), ...spacingOutliers(facts), ...orientationOutliers(facts))
  return { problems: inCaseOrder(problems, ds), summary: summarise(ds, facts, tallies) }
}

/** Reads one case (one volume at a time, the label map kept until its instance map is read). */
async function checkCase(ds: Dataset, c: DatasetCase, ctx: { report: Report; tallies: Tallies; minVoxels: number }): Promise<CaseFacts> {
  const { report } = ctx
  const where = (path: string) => displayPath(ds.root, path)
  const read = async (path: string): Promise<Volume | null> => {
    try {
      return await readVolume(path)
    } catch (e) {
      report('unreadable', `${where(path)}: cannot be read (${errorText(e, path)})`)
      return null
    }
  }
  let reference: { grid: Grid; path: string } | null = null
  const onGrid = (g: Grid, path: string) => {
    if (reference && !sameGrid(g, reference.grid, GRID_TOL)) {
      report('grid', `${where(path)}: not on the grid of ${where(reference.path)} (${gridDifference(g, reference.grid, GRID_TOL)})`)
    }
  }
  let imageHash: string | null = null
  for (const [channel, path] of c.images.entries()) {
    const image = await read(path)
    if (!image) continue
    if (channel === 0) imageHash = hashVoxels(image)
    if (reference) onGrid(image, path)
    else reference = { grid: gridOf(image), path }
  }
  const label = c.label ? await read(c.label) : null
  if (label) {
    onGrid(label, c.label!)
    checkLabel(label, ds.labels, ctx)
  }
  if (c.instances) {
    const map = await read(c.instances.map)
    if (map) onGrid(map, c.instances.map)
    tallySites(c.instances.json, map, label, ds.labels, { ...ctx, where })
  }
  return { name: c.name, grid: reference?.grid ?? null, imageHash }
}

/** Label values, empty and all-foreground labels, tiny components; adds the nodes to the tallies. */
function checkLabel(label: Volume, labels: LabelSet, ctx: { report: Report; tallies: Tallies; minVoxels: number }): void {
  const { report } = ctx
  const values = distinctValues(label.data)
  const undeclared = values.filter((v) => !labels.names.has(v))
  if (undeclared.length > 0) {
    report('label-values', `value${undeclared.length === 1 ? '' : 's'} ${listShort(undeclared)} not declared in dataset.json (declared: ${describeLabels(labels)})`)
  }
  const present = labels.foreground.filter((v) => values.includes(v))
  if (present.length === 0) report('empty-label', 'no foreground voxel (no node labelled)', 'warning')
  if (!values.includes(0)) report('all-foreground', `no background voxel: all ${label.data.length} voxels are labelled`)
  const small: string[] = []
  let smallCount = 0
  for (const value of present) {
    const nodes = nodesOf(label, value)
    const tally = ctx.tallies.nodes.get(value)!
    tally.casesWith++
    tally.shortAxes.push(...nodes.map((n) => n.shortAxisMm))
    const tiny = nodes.filter((n) => n.voxels < ctx.minVoxels)
    if (tiny.length === 0) continue
    smallCount += tiny.length
    const sizes = tiny.map((n) => n.voxels)
    small.push(`${tiny.length} ${labels.names.get(value)} (${sizes.join(', ')} voxel${sizes.length === 1 && sizes[0] === 1 ? '' : 's'})`)
  }
  if (smallCount > 0) {
    report('small-components', `${smallCount} connected component${smallCount === 1 ? '' : 's'} under ${ctx.minVoxels} voxels: ${small.join(', ')}`, 'warning')
  }
}

/**
 * The 26-connected components of one label value, each with its voxel count and short axis. Works on
 * the value's bounding box, and measures each component on a crop around it (measureNode scans all
 * it is given).
 */
function nodesOf(label: Volume, value: number): { voxels: number; shortAxisMm: number }[] {
  const box = boundingBox(label, (v) => v === value)
  if (!box) return []
  const shape = box[1].map((hi, d) => hi - box[0][d] + 1) as Vec3
  const cropped = cropOrPad(label, box[0], shape)
  const mask = new Uint8Array(cropped.data.length)
  for (let n = 0; n < mask.length; n++) mask[n] = cropped.data[n] === value ? 1 : 0
  const comps = connectedComponents(mask, shape, 26)
  const ids = new Volume(comps.labels, shape, [...label.spacing], [0, 0, 0], label.axes)
  return componentBoxes(comps.labels, comps.count, shape).slice(1).map((box, i) => {
    const { lo, hi } = box!
    const start = lo.map((v) => v - 1) as Vec3
    const around = hi.map((v, d) => v - lo[d] + 3) as Vec3
    const m = measureNode(cropOrPad(ids, start, around), i + 1)!
    return { voxels: comps.sizes[i + 1], shortAxisMm: m.short_axis_mm }
  })
}

/**
 * Adds the instances of an instancesTr record to the per-site counts. A node's class is the label its
 * voxels mostly carry in the label map (so by_site uses by_class's names), else the record's "class".
 */
function tallySites(jsonPath: string, map: Volume | null, label: Volume | null, labels: LabelSet, ctx: { report: Report; tallies: Tallies; where: (path: string) => string }): void {
  let record: { site?: unknown; instances?: Record<string, { site?: unknown; class?: unknown }> }
  try {
    record = JSON.parse(readFileSync(jsonPath, 'utf8'))
  } catch (e) {
    ctx.report('instance-record', `${ctx.where(jsonPath)}: is not readable JSON (${errorText(e, jsonPath)})`)
    return
  }
  const instances = record?.instances
  if (!instances || typeof instances !== 'object' || Array.isArray(instances)) {
    ctx.report('instance-record', `${ctx.where(jsonPath)}: has no "instances" object of id -> {class, site, ...}`)
    return
  }
  const labelOf = map && label && map.data.length === label.data.length ? majorityLabels(map, label, labels) : new Map<number, number>()
  for (const [id, inst] of Object.entries(instances)) {
    const site = inst?.site ?? record.site
    if (typeof site !== 'string') continue
    const value = labelOf.get(Number(id))
    const cls = value !== undefined ? labels.names.get(value)! : typeof inst?.class === 'string' ? inst.class : 'unknown'
    const counts = (ctx.tallies.bySite[site] ??= {})
    counts[cls] = (counts[cls] ?? 0) + 1
  }
}

/** instance id -> the foreground label value most of its voxels carry (ids on background only are left out). */
function majorityLabels(map: Volume, label: Volume, labels: LabelSet): Map<number, number> {
  const foreground = new Set(labels.foreground)
  const votes = new Map<number, Map<number, number>>()
  for (let n = 0; n < map.data.length; n++) {
    const id = map.data[n], value = label.data[n]
    if (id === 0 || !foreground.has(value)) continue
    if (!votes.has(id)) votes.set(id, new Map())
    const v = votes.get(id)!
    v.set(value, (v.get(value) ?? 0) + 1)
  }
  const out = new Map<number, number>()
  for (const [id, v] of votes) out.set(id, [...v].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0])
  return out
}

/** One problem per pair of cases whose channel 0 holds the same voxels, on the later case. */
function duplicateProblems(facts: CaseFacts[]): DatasetProblem[] {
  const seen = new Map<string, string[]>()
  const problems: DatasetProblem[] = []
  for (const f of facts) {
    if (!f.imageHash) continue
    const earlier = seen.get(f.imageHash) ?? []
    for (const other of earlier) {
      problems.push({ case: f.name, check: 'duplicate', message: `same image as case "${other}" (channel 0 voxels identical)`, severity: 'error' })
    }
    seen.set(f.imageHash, [...earlier, f.name])
  }
  return problems
}

/** Cases whose spacing along some voxel axis is over 3x (or under 1/3 of) the dataset median. */
function spacingOutliers(facts: CaseFacts[]): DatasetProblem[] {
  const withGrid = facts.filter((f) => f.grid)
  if (withGrid.length === 0) return []
  const median = spacingStats(withGrid.map((f) => f.grid!.spacing)).median
  const problems: DatasetProblem[] = []
  for (const f of withGrid) {
    const spacing = f.grid!.spacing
    const far = [0, 1, 2].filter((d) => spacing[d] > SPACING_OUTLIER_RATIO * median[d] || spacing[d] * SPACING_OUTLIER_RATIO < median[d])
    if (far.length === 0) continue
    const parts = far.map((d) => `axis ${d} is ${round(spacing[d] / median[d])}x the median ${round(median[d])} mm`)
    problems.push({ case: f.name, check: 'spacing-outlier', message: `spacing ${formatVec(spacing)} mm: ${parts.join(', ')}`, severity: 'warning' })
  }
  return problems
}

/** Cases whose orientation code differs from the one most cases (more than half) share. */
function orientationOutliers(facts: CaseFacts[]): DatasetProblem[] {
  const codes = facts.filter((f) => f.grid).map((f) => ({ f, code: orientationCode(f.grid!.axes) }))
  const counts = new Map<string, number>()
  for (const { code } of codes) counts.set(code, (counts.get(code) ?? 0) + 1)
  const [majority, count] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? ['', 0]
  if (count * 2 <= codes.length) return []
  return codes.filter(({ code }) => code !== majority).map(({ f, code }) => ({
    case: f.name,
    check: 'orientation-outlier',
    message: `orientation ${code} (direction ${f.grid!.axes.map(formatVec).join(' ')}) while ${count} of ${codes.length} cases are ${majority}`,
    severity: 'warning' as const,
  }))
}

function summarise(ds: Dataset, facts: CaseFacts[], tallies: Tallies): DatasetSummary {
  const byClass: DatasetSummary['by_class'] = {}
  for (const [value, t] of tallies.nodes) {
    const sorted = [...t.shortAxes].sort((a, b) => a - b)
    byClass[ds.labels.names.get(value)!] = {
      cases_with: t.casesWith,
      nodes: sorted.length,
      short_axis_mm: sorted.length === 0 ? null : { min: round(sorted[0]), median: round(median(sorted)), max: round(sorted[sorted.length - 1]) },
    }
  }
  return {
    cases: ds.cases.length,
    channels: ds.channels.map((c) => c.name),
    labels: Object.fromEntries([...ds.labels.names].map(([v, name]) => [name, v])),
    by_class: byClass,
    by_site: tallies.bySite,
    spacing_mm: spacingStats(facts.filter((f) => f.grid).map((f) => f.grid!.spacing)),
  }
}

/** Min, median and max spacing per voxel axis; zeros for no grids. */
function spacingStats(spacings: Vec3[]): DatasetSummary['spacing_mm'] {
  const per = (pick: (sorted: number[]) => number) =>
    [0, 1, 2].map((d) => (spacings.length === 0 ? 0 : round(pick(spacings.map((s) => s[d]).sort((a, b) => a - b)), 4))) as Vec3
  return { min: per((s) => s[0]), median: per(median), max: per((s) => s[s.length - 1]) }
}

/** Problems grouped by case, in the dataset's case order (dataset-wide ones first), stable within a case. */
function inCaseOrder(problems: DatasetProblem[], ds: Dataset): DatasetProblem[] {
  const order = new Map(ds.cases.map((c, i) => [c.name, i]))
  const rank = (p: DatasetProblem) => (p.case === null ? -1 : order.get(p.case) ?? ds.cases.length)
  return problems.map((p, i) => ({ p, i })).sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i).map(({ p }) => p)
}

/** An aligned plain-text table: case, check, severity, message; "no problems" when there are none. */
export function formatProblems(problems: DatasetProblem[]): string {
  if (problems.length === 0) return 'no problems'
  const rows = [['case', 'check', 'severity', 'message'], ...problems.map((p) => [p.case ?? '(dataset)', p.check, p.severity, p.message])]
  const widths = [0, 1, 2].map((col) => Math.max(...rows.map((r) => r[col].length)))
  return rows.map((r) => r.map((cell, col) => (col < 3 ? cell.padEnd(widths[col]) : cell)).join('  ')).join('\n')
}

/** A short plain-text summary: cases, channels, labels, spacing, nodes per class and per site. */
export function formatSummary(s: DatasetSummary): string {
  const lines = [
    `${s.cases} case${s.cases === 1 ? '' : 's'}, channels: ${s.channels.join(', ')}`,
    `labels: ${Object.entries(s.labels).map(([name, v]) => `${v} ${name}`).join(', ')}`,
    `spacing (mm): min ${formatVec(s.spacing_mm.min)}, median ${formatVec(s.spacing_mm.median)}, max ${formatVec(s.spacing_mm.max)}`,
  ]
  for (const [name, c] of Object.entries(s.by_class)) {
    const sizes = c.short_axis_mm ? `, short axis min ${c.short_axis_mm.min}, median ${c.short_axis_mm.median}, max ${c.short_axis_mm.max} mm` : ''
    lines.push(`${name}: ${c.nodes} node${c.nodes === 1 ? '' : 's'} in ${c.cases_with} case${c.cases_with === 1 ? '' : 's'}${sizes}`)
  }
  for (const [site, counts] of Object.entries(s.by_site)) {
    lines.push(`site ${site}: ${Object.entries(counts).map(([cls, n]) => `${n} ${cls}`).join(', ')}`)
  }
  return lines.join('\n')
}

function hashVoxels(vol: Volume): string {
  const bytes = Buffer.from(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength)
  return createHash('sha1').update(`${vol.dtype} ${vol.shape.join('x')}\n`).update(bytes).digest('hex')
}

/** A copy of a volume's geometry that does not hold on to its voxels. */
function gridOf(v: Volume): Grid {
  return { shape: [...v.shape], spacing: [...v.spacing], origin: [...v.origin], axes: [[...v.axes[0]], [...v.axes[1]], [...v.axes[2]]] }
}

/** A path relative to the dataset root when it lies inside it. */
function displayPath(root: string, path: string): string {
  const rel = relative(root, path)
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel
}

/** An error's first line, without the leading "<path>: " that nodal's errors carry. */
function errorText(e: unknown, path: string): string {
  const line = (e instanceof Error ? e.message : String(e)).split('\n')[0]
  return line.startsWith(`${path}: `) ? line.slice(path.length + 2) : line
}

function listShort(values: number[]): string {
  return values.slice(0, 10).join(', ') + (values.length > 10 ? `, ... ${values.length - 10} more` : '')
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function round(x: number, digits = 2): number {
  return Math.round(x * 10 ** digits) / 10 ** digits
}

function formatVec(v: readonly number[]): string {
  return v.map((x) => round(x, 4)).join(',')
}
