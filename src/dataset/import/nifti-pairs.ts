/**
 * `nodal dataset import --images DIR --labels DIR`: image/label file pairs (NIfTI, NRRD, MetaImage), as
 * public collections ship them, into an nnU-Net v2 raw dataset. Files are paired by name: the same name,
 * or the same name once a channel suffix (_0000, _0001, ...) or a usual suffix (_ct, _image, _img /
 * _label, _labels, _seg, _mask, _gt) is taken off. Each pair must share one world grid and the label
 * must hold integers; what does not pair or does not fit is reported, never guessed.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { releaseTemp, trackTemp } from '../../io/temp.js'
import { basename, dirname, join, resolve } from 'node:path'
import { NodalError } from '../../errors.js'
import { readVolume, writeVolume } from '../../io/index.js'
import { sameGrid, type Volume } from '../../volume/volume.js'
import { caseName, imageFileName, labelFileName, VOLUME_EXTENSIONS, writeDatasetJson } from '../layout.js'
import { gridDifference } from '../check.js'

export interface PairImportOptions {
  images: string
  labels: string
  out: string
  name?: string
  /** Channel names, in channel order; default ['CT']. */
  channels?: string[]
  /** Label names by value; default background 0 and label_<v> for every other value found (node for 1 alone). */
  labelNames?: Record<string, number>
  onProgress?: (stage: string, done: number, total: number) => void
}

export interface PairImportReport {
  images: string
  labels: string
  out: string
  cases: { case: string; images: string[]; label: string; shape: number[]; spacing_mm: number[]; label_values: number[] }[]
  skipped: { file: string; reason: string }[]
}

const IMAGE_SUFFIXES = ['_ct', '_image', '_img']
const LABEL_SUFFIXES = ['_label', '_labels', '_seg', '_mask', '_gt']

export async function importNiftiPairs(o: PairImportOptions): Promise<PairImportReport> {
  const imagesDir = folder(o.images), labelsDir = folder(o.labels)
  const out = resolve(o.out)
  if (existsSync(out) && readdirSync(out).length > 0) throw new NodalError('bad-output', `${out}: exists and is not empty; give a new folder`)
  if (!existsSync(dirname(out))) throw new NodalError('bad-output', `${dirname(out)}: no such folder`)
  const channelCount = (o.channels ?? ['CT']).length
  const images = groupImages(volumeFiles(imagesDir))
  const labels = new Map(volumeFiles(labelsDir).map((f) => [stem(caseName(f), LABEL_SUFFIXES), f]))
  const report: PairImportReport = { images: imagesDir, labels: labelsDir, out, cases: [], skipped: [] }
  const tmp = trackTemp(`${out}.tmp-${process.pid}`)
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(join(tmp, 'imagesTr'), { recursive: true })
  mkdirSync(join(tmp, 'labelsTr'), { recursive: true })
  try {
    const values = new Set<number>()
    const keys = [...images.keys()].sort()
    for (const [i, key] of keys.entries()) {
      const channels = images.get(key)!
      const label = labels.get(key)
      labels.delete(key)
      if (!label) { report.skipped.push({ file: channels[0]!, reason: 'no label file of the same name' }); continue }
      if (channels.length !== channelCount) { report.skipped.push({ file: channels[0]!, reason: `${channels.length} channel file(s), expected ${channelCount}` }); continue }
      const problem = await importPair(key, channels, label, tmp, report, values)
      if (problem) report.skipped.push({ file: label, reason: problem })
      o.onProgress?.('import', i + 1, keys.length)
    }
    for (const label of labels.values()) report.skipped.push({ file: label, reason: 'no image file of the same name' })
    if (report.cases.length === 0) throw new NodalError('bad-input', `no image/label pair could be imported from ${imagesDir} and ${labelsDir}${report.skipped[0] ? ` (${report.skipped[0].file}: ${report.skipped[0].reason})` : ''}`)
    const names = o.labelNames ?? defaultLabelNames([...values])
    const undeclared = [...values].filter((v) => !Object.values(names).includes(v))
    if (undeclared.length) throw new NodalError('usage', `dataset import: label value(s) ${undeclared.join(', ')} found but not named by --label-names`)
    writeDatasetJson(tmp, {
      channelNames: Object.fromEntries((o.channels ?? ['CT']).map((c, k) => [String(k), c])), labels: names, numTraining: report.cases.length,
      name: o.name ?? basename(out), description: `Imported by nodal dataset import from ${imagesDir} and ${labelsDir}`,
    })
    writeFileSync(join(tmp, 'import_report.json'), JSON.stringify(report, null, 2) + '\n')
    rmSync(out, { recursive: true, force: true })
    renameSync(tmp, out)
    return report
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    throw e
  } finally {
    releaseTemp(tmp)
  }
}

async function importPair(name: string, channels: string[], labelPath: string, dir: string, report: PairImportReport, values: Set<number>): Promise<string | null> {
  let label: Volume
  const vols: Volume[] = []
  try {
    label = await readVolume(labelPath)
    for (const c of channels) vols.push(await readVolume(c))
  } catch (e) {
    return `unreadable: ${(e as Error).message}`
  }
  for (const [k, v] of vols.entries()) {
    if (!sameGrid(v.grid, label.grid, 1e-4)) return `not on the grid of ${basename(channels[k]!)} (${gridDifference(label.grid, v.grid, 1e-4)})`
  }
  const found = new Set<number>()
  for (let v = 0; v < label.data.length; v++) {
    const x = label.data[v]!
    if (!Number.isInteger(x) || x < 0 || x > 255) return `holds ${x}, not a label value (integers 0-255): is it an image?`
    found.add(x)
  }
  for (const [k, v] of vols.entries()) await writeVolume(v, join(dir, 'imagesTr', imageFileName(name, k)))
  await writeVolume(label.withData(Uint8Array.from(label.data as ArrayLike<number>), { modality: 'SEG' }), join(dir, 'labelsTr', labelFileName(name)))
  found.forEach((x) => values.add(x))
  report.cases.push({ case: name, images: channels, label: labelPath, shape: [...label.shape], spacing_mm: [...label.spacing], label_values: [...found].sort((a, b) => a - b) })
  return null
}

function folder(path: string): string {
  const dir = resolve(path)
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new NodalError('not-found', `${dir}: no such folder`)
  return dir
}

function volumeFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => !f.startsWith('.') && VOLUME_EXTENSIONS.some((e) => f.toLowerCase().endsWith(e))).sort().map((f) => join(dir, f))
}

/** Image files by case: channel files <case>_0000, <case>_0001, ... together, in channel order. */
function groupImages(files: string[]): Map<string, string[]> {
  const byCase = new Map<string, [number, string][]>()
  for (const f of files) {
    const name = caseName(f)
    const m = /^(.*)_(\d{4})$/.exec(name)
    const key = stem(m ? m[1]! : name, IMAGE_SUFFIXES)
    if (!byCase.has(key)) byCase.set(key, [])
    byCase.get(key)!.push([m ? Number(m[2]) : 0, f])
  }
  return new Map([...byCase].map(([k, list]) => [k, list.sort((a, b) => a[0] - b[0]).map(([, f]) => f)]))
}

function stem(name: string, suffixes: string[]): string {
  const lower = name.toLowerCase()
  const s = suffixes.find((x) => lower.endsWith(x))
  return s ? name.slice(0, -s.length) : name
}

function defaultLabelNames(values: number[]): Record<string, number> {
  const fg = values.filter((v) => v !== 0).sort((a, b) => a - b)
  if (fg.length === 1 && fg[0] === 1) return { background: 0, node: 1 }
  return { background: 0, ...Object.fromEntries(fg.map((v) => [`label_${v}`, v])) }
}
