/**
 * Several datasets as one: a dataset.json whose explicit "dataset" list points at the source datasets'
 * files (relative paths, nothing copied), so a mix of phantoms and real scans with inserted nodes can be
 * planned and trained as one dataset. Sources must agree on channels, labels and file ending.
 *
 * Cross-validation must not put one patient's scans on both sides of a fold: cases keep their source's
 * patient; every case of a dataset made by `nodal phantom --insert-into` is one patient (the host scan),
 * since its cases share the host's anatomy; any other case is its own patient.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { NodalError } from '../errors.js'
import { type Dataset, type DatasetCase, isSyntheticDataset, readDataset, writeDatasetJson } from './layout.js'

export interface MergeResult {
  path: string
  cases: number
  patients: number
  perSource: { source: string; cases: number; patients: number }[]
}

export function mergeDatasets(sources: string[], out: string, name?: string): MergeResult {
  if (sources.length < 2) throw new NodalError('usage', 'dataset merge: give at least two dataset folders')
  const outDir = resolve(out)
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new NodalError('bad-input', `${outDir}: exists and is not empty; give a new folder`)
  const datasets = sources.map((s) => readDataset(s))
  checkCompatible(datasets)
  const list: Record<string, unknown> = {}
  const patients: Record<string, string> = {}
  const perSource: MergeResult['perSource'] = []
  for (const ds of datasets) {
    const hostPatient = insertionHost(ds)
    const seen = new Set<string>()
    for (const c of ds.cases) {
      if (c.name in list) throw new NodalError('bad-dataset', `${ds.root}: case "${c.name}" is also in an earlier dataset; rename one of them`)
      list[c.name] = caseEntry(c, outDir)
      const patient = c.patient ?? hostPatient ?? `${ds.json.name ?? ds.root}/${c.name}`
      patients[c.name] = patient
      seen.add(patient)
    }
    perSource.push({ source: ds.root, cases: ds.cases.length, patients: seen.size })
  }
  const first = datasets[0].json
  const tmp = `${outDir}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  try {
    writeDatasetJson(tmp, {
      channelNames: first.channel_names, labels: first.labels, numTraining: Object.keys(list).length, fileEnding: first.file_ending,
      name: name ?? 'nodal_merged',
      description: `Merged by nodal dataset merge from ${datasets.map((d) => relative(outDir, d.root)).join(', ')}`,
      extra: { dataset: list, nodal: { merged_from: datasets.map((d) => relative(outDir, d.root)), synthetic: datasets.every((d) => isSyntheticDataset(d.json)), contains_insertions: datasets.some((d) => insertionHost(d) !== null), patients } },
    })
    rmSync(outDir, { recursive: true, force: true })
    renameSync(tmp, outDir)
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    throw e
  }
  return { path: join(outDir, 'dataset.json'), cases: Object.keys(list).length, patients: new Set(Object.values(patients)).size, perSource }
}

function checkCompatible(datasets: Dataset[]): void {
  const [a, ...rest] = datasets
  const channels = JSON.stringify(a.json.channel_names), labels = JSON.stringify(sortedLabels(a))
  for (const b of rest) {
    if (JSON.stringify(b.json.channel_names) !== channels) {
      throw new NodalError('bad-dataset', `${b.root}: channels ${JSON.stringify(b.json.channel_names)} differ from ${a.root}'s ${channels}`)
    }
    if (JSON.stringify(sortedLabels(b)) !== labels) throw new NodalError('bad-dataset', `${b.root}: labels ${JSON.stringify(b.json.labels)} differ from ${a.root}'s ${JSON.stringify(a.json.labels)}`)
    if (b.json.file_ending !== a.json.file_ending) throw new NodalError('bad-dataset', `${b.root}: file ending ${b.json.file_ending} differs from ${a.root}'s ${a.json.file_ending}`)
  }
}

function sortedLabels(ds: Dataset): [string, unknown][] {
  return Object.entries(ds.json.labels).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
}

/** The host scan's name when the dataset holds nodes inserted into one real scan (all its cases share it). */
function insertionHost(ds: Dataset): string | null {
  const nodal = ds.json.nodal as { generator?: unknown; host?: unknown } | undefined
  return nodal && typeof nodal.host === 'string' && String(nodal.generator ?? '').includes('--insert-into') ? `host:${nodal.host}` : null
}

function caseEntry(c: DatasetCase, outDir: string): Record<string, unknown> {
  const rel = (p: string) => relative(outDir, p)
  const entry: Record<string, unknown> = { images: c.images.map(rel), label: c.label === null ? null : rel(c.label) }
  if (c.instances) entry.instances = { map: rel(c.instances.map), json: rel(c.instances.json) }
  return entry
}
