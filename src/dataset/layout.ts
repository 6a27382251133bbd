/**
 * The nnU-Net v2 raw dataset layout, in one place:
 *
 *   <root>/dataset.json                     channel_names, labels, numTraining, file_ending (+ name, description, ...)
 *   <root>/imagesTr/<case>_<cccc><ending>   one file per channel, cccc = 0000, 0001, ... (channel_names' keys)
 *   <root>/labelsTr/<case><ending>          the label map
 *   <root>/instancesTr/<case><ending>       nodal's instance map and its <case>.json record (optional)
 *
 * or, instead of imagesTr/labelsTr, dataset.json's "dataset": {case: {"images": [...], "label": ...}}
 * with paths relative to the root (nnU-Net v2 allows this). nodal's own additions live under the
 * "nodal" key of dataset.json, e.g. "nodal": {"patients": {case: patient}}.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { basename, isAbsolute, join, resolve } from 'node:path'
import { NodalError } from '../errors.js'
import { LabelSet, labelSetFrom } from './labels.js'

/** Volume file extensions nodal reads, longest match first where one extends another. */
export const VOLUME_EXTENSIONS = ['.nii.gz', '.nii', '.nrrd', '.nhdr', '.mha', '.mhd']

export const DATASET_JSON = 'dataset.json'
export const IMAGES_DIR = 'imagesTr'
export const LABELS_DIR = 'labelsTr'
export const INSTANCES_DIR = 'instancesTr'
export const DEFAULT_FILE_ENDING = '.nii.gz'

/** A case name from a file name: the name without its volume extension. */
export function caseName(file: string): string {
  const name = basename(file)
  const ext = VOLUME_EXTENSIONS.find((e) => name.toLowerCase().endsWith(e))
  return ext ? name.slice(0, -ext.length) : name
}

/** `<case>_0000.nii.gz`: the file name of one channel of a case. */
export function imageFileName(name: string, channel: number, fileEnding = DEFAULT_FILE_ENDING): string {
  return `${name}_${String(channel).padStart(4, '0')}${fileEnding}`
}

/** `<case>.nii.gz`: the file name of a case's label (or instance) map. */
export function labelFileName(name: string, fileEnding = DEFAULT_FILE_ENDING): string {
  return `${name}${fileEnding}`
}

export interface DatasetJson {
  channel_names: Record<string, string>
  labels: Record<string, number | number[]>
  numTraining: number
  file_ending: string
  name?: string
  description?: string
  [k: string]: unknown
}

export interface DatasetCase {
  name: string
  /** One path per channel, in channel order. */
  images: string[]
  label: string | null
  /** nodal's instance map and its record, when the dataset has instancesTr. */
  instances?: { map: string; json: string } | null
  /** The patient the case belongs to, when the dataset groups cases by patient. */
  patient?: string
}

export interface Dataset {
  root: string
  json: DatasetJson
  channels: { index: number; name: string }[]
  labels: LabelSet
  cases: DatasetCase[]
}

function bad(message: string): NodalError {
  // case names, keys and paths come from dataset.json: a line break in one must not break the one-line message
  return new NodalError('bad-dataset', message.replace(/\r?\n|\r/g, '\\n'))
}

/**
 * Reads dataset.json and lists the cases of imagesTr/labelsTr (and instancesTr when present), in
 * name order. Throws NodalError('bad-dataset') with one line naming the path: not a folder, no
 * dataset.json, unparsable JSON, missing channel_names/labels/file_ending, a case missing a channel
 * file, a label file with no image, images without a label (allowed with {requireLabels: false}),
 * numTraining that does not match the cases found.
 */
export function readDataset(folder: string, options: { requireLabels?: boolean } = {}): Dataset {
  const requireLabels = options.requireLabels ?? true
  const root = resolve(folder)
  if (!existsSync(root)) throw bad(`${root}: no such dataset folder`)
  if (!statSync(root).isDirectory()) throw bad(`${root}: not a folder (give the dataset folder that holds ${DATASET_JSON})`)
  const jsonPath = join(root, DATASET_JSON)
  const json = parseDatasetJson(jsonPath)
  const labels = labelSetFrom(json, jsonPath)
  const channels = channelsOf(json, jsonPath)
  const cases = json.dataset !== undefined
    ? casesFromJson(root, json, jsonPath, channels.length)
    : casesFromFolders(root, json.file_ending, channels.length)
  if (cases.length === 0) throw bad(`${join(root, IMAGES_DIR)}: no case files ending in ${json.file_ending}`)
  if (requireLabels) {
    const unlabelled = cases.filter((c) => c.label === null)
    if (unlabelled.length > 0) {
      throw bad(`${unlabelled[0].images[0]}: case "${unlabelled[0].name}" has no label file${unlabelled.length > 1 ? ` (nor ${unlabelled.length - 1} other cases)` : ''} (expected ${join(root, LABELS_DIR, labelFileName(unlabelled[0].name, json.file_ending))})`)
    }
  }
  if (json.numTraining === undefined) json.numTraining = cases.length
  else if (json.numTraining !== cases.length) throw bad(`${jsonPath}: numTraining is ${JSON.stringify(json.numTraining)} but the dataset holds ${cases.length} cases`)
  attachPatients(cases, json, jsonPath)
  return { root, json, channels, labels, cases }
}

function parseDatasetJson(path: string): DatasetJson {
  if (!existsSync(path)) throw bad(`${path}: no such file (an nnU-Net dataset folder holds ${DATASET_JSON})`)
  let json: any
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw bad(`${path}: is not readable JSON (${(e as Error).message.split('\n')[0]})`)
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw bad(`${path}: expected a JSON object`)
  if (json.channel_names === undefined && json.modality !== undefined) {
    throw bad(`${path}: missing "channel_names" (it has nnU-Net v1's "modality"; nnU-Net v2 names channels in "channel_names")`)
  }
  for (const key of ['channel_names', 'labels', 'file_ending']) {
    if (json[key] === undefined) throw bad(`${path}: missing "${key}"`)
  }
  if (typeof json.file_ending !== 'string' || !json.file_ending.startsWith('.')) {
    throw bad(`${path}: "file_ending" must be a string like ".nii.gz", found ${JSON.stringify(json.file_ending)}`)
  }
  return json as DatasetJson
}

function channelsOf(json: DatasetJson, path: string): { index: number; name: string }[] {
  const names = json.channel_names
  if (!names || typeof names !== 'object' || Array.isArray(names)) throw bad(`${path}: "channel_names" must be an object like {"0": "CT"}`)
  const channels = Object.entries(names).map(([key, name]) => {
    if (!/^\d+$/.test(key) || typeof name !== 'string') throw bad(`${path}: channel_names entry "${key}": ${JSON.stringify(name)} is not "<index>": "<name>"`)
    return { index: Number(key), name }
  }).sort((a, b) => a.index - b.index)
  if (channels.length === 0) throw bad(`${path}: "channel_names" is empty`)
  channels.forEach((c, i) => {
    if (c.index !== i) throw bad(`${path}: channel_names must number channels 0..${channels.length - 1}, found ${channels.map((x) => x.index).join(',')}`)
  })
  return channels
}

function listFiles(dir: string): string[] {
  return existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir).filter((f) => !f.startsWith('.')).sort() : []
}

function casesFromFolders(root: string, ending: string, channelCount: number): DatasetCase[] {
  const imagesDir = join(root, IMAGES_DIR)
  if (!existsSync(imagesDir) || !statSync(imagesDir).isDirectory()) throw bad(`${imagesDir}: no such folder (nor a "dataset" list in ${DATASET_JSON})`)
  const pattern = new RegExp(`^(.+)_(\\d{4})${escapeRegExp(ending)}$`)
  const channelsOfCase = new Map<string, Map<number, string>>()
  for (const file of listFiles(imagesDir)) {
    if (!file.endsWith(ending)) continue
    const m = pattern.exec(file)
    if (!m) throw bad(`${join(imagesDir, file)}: not named <case>_<4-digit channel>${ending}`)
    const channel = Number(m[2])
    if (channel >= channelCount) throw bad(`${join(imagesDir, file)}: channel ${channel}, but ${DATASET_JSON} declares ${channelCount} channel${channelCount === 1 ? '' : 's'}`)
    if (!channelsOfCase.has(m[1])) channelsOfCase.set(m[1], new Map())
    channelsOfCase.get(m[1])!.set(channel, join(imagesDir, file))
  }
  const cases: DatasetCase[] = []
  for (const [name, files] of [...channelsOfCase].sort((a, b) => compare(a[0], b[0]))) {
    const images: string[] = []
    for (let ch = 0; ch < channelCount; ch++) {
      const file = files.get(ch)
      if (!file) throw bad(`${join(imagesDir, imageFileName(name, ch, ending))}: missing (case "${name}" has no channel ${ch})`)
      images.push(file)
    }
    cases.push({ name, images, label: null })
  }
  const byName = new Map(cases.map((c) => [c.name, c]))
  const labelsDir = join(root, LABELS_DIR)
  for (const file of listFiles(labelsDir)) {
    if (!file.endsWith(ending)) continue
    const name = file.slice(0, -ending.length)
    const c = byName.get(name)
    if (!c) throw bad(`${join(labelsDir, file)}: a label with no image (no ${join(imagesDir, imageFileName(name, 0, ending))})`)
    c.label = join(labelsDir, file)
  }
  const instancesDir = join(root, INSTANCES_DIR)
  if (existsSync(instancesDir)) {
    for (const c of cases) c.instances = instancesOf(instancesDir, c.name, ending)
  }
  return cases
}

function instancesOf(dir: string, name: string, ending: string): { map: string; json: string } | null {
  const map = join(dir, labelFileName(name, ending))
  const json = join(dir, `${name}.json`)
  const hasMap = existsSync(map), hasJson = existsSync(json)
  if (hasMap !== hasJson) throw bad(`${hasMap ? map : json}: has no ${hasMap ? json : map} beside it (an instance map needs its record)`)
  return hasMap ? { map, json } : null
}

/**
 * nnU-Net v2's explicit list: "dataset": {case: {"images": [paths], "label": path}}, paths relative to the
 * root (nodal adds an optional "instances": {"map", "json"}).
 */
function casesFromJson(root: string, json: DatasetJson, jsonPath: string, channelCount: number): DatasetCase[] {
  const list = json.dataset as Record<string, any>
  if (!list || typeof list !== 'object' || Array.isArray(list)) throw bad(`${jsonPath}: "dataset" must be an object of case -> {"images": [...], "label": ...}`)
  const at = (p: string) => (isAbsolute(p) ? p : join(root, p))
  return Object.keys(list).sort(compare).map((name) => {
    const entry = list[name]
    const images = entry?.images
    if (!Array.isArray(images) || images.some((p) => typeof p !== 'string')) throw bad(`${jsonPath}: case "${name}" has no "images" list`)
    if (images.length !== channelCount) throw bad(`${jsonPath}: case "${name}" lists ${images.length} images for ${channelCount} channels`)
    for (const p of images) if (!existsSync(at(p))) throw bad(`${at(p)}: missing (an image of case "${name}")`)
    let label: string | null = null
    if (entry.label !== undefined && entry.label !== null) {
      if (typeof entry.label !== 'string') throw bad(`${jsonPath}: case "${name}" has a "label" that is not a path`)
      if (!existsSync(at(entry.label))) throw bad(`${at(entry.label)}: missing (the label of case "${name}")`)
      label = at(entry.label)
    }
    const instances = instancesFromJson(entry.instances, at, name, jsonPath)
    return { name, images: images.map(at), label, ...(instances ? { instances } : {}) }
  })
}

/** nodal's optional "instances": {"map": path, "json": path} of an explicit case entry. */
function instancesFromJson(entry: any, at: (p: string) => string, name: string, jsonPath: string): DatasetCase['instances'] {
  if (entry === undefined || entry === null) return null
  if (typeof entry !== 'object' || typeof entry.map !== 'string' || typeof entry.json !== 'string') {
    throw bad(`${jsonPath}: case "${name}" has "instances" that is not {"map": path, "json": path}`)
  }
  for (const p of [entry.map, entry.json]) if (!existsSync(at(p))) throw bad(`${at(p)}: missing (the instances of case "${name}")`)
  return { map: at(entry.map), json: at(entry.json) }
}

/** Patients from dataset.json's "nodal": {"patients": {case: patient}}; other cases keep none. */
function attachPatients(cases: DatasetCase[], json: DatasetJson, jsonPath: string): void {
  const nodal = json.nodal as { patients?: unknown } | undefined
  const patients = nodal && typeof nodal === 'object' ? nodal.patients : undefined
  if (patients === undefined) return
  if (!patients || typeof patients !== 'object' || Array.isArray(patients)) throw bad(`${jsonPath}: "nodal.patients" must be an object of case -> patient`)
  const byName = new Map(cases.map((c) => [c.name, c]))
  for (const [name, patient] of Object.entries(patients)) {
    if (typeof patient !== 'string' || patient === '') throw bad(`${jsonPath}: nodal.patients gives case "${name}" the patient ${JSON.stringify(patient)}; expected a name`)
    const c = byName.get(name)
    if (!c) throw bad(`${jsonPath}: nodal.patients names case "${name}", which the dataset does not have`)
    c.patient = patient
  }
}

/**
 * Whether a dataset holds only nodal's synthetic data: made by nodal phantom (also --insert-into, whose
 * nodes are synthetic), or merged from such datasets only. An imported clinical dataset is not.
 */
export function isSyntheticDataset(json: DatasetJson): boolean {
  const nodal = json.nodal as { generator?: unknown; synthetic?: unknown } | undefined
  return !!nodal && (String(nodal.generator ?? '').startsWith('nodal phantom') || nodal.synthetic === true)
}

export interface DatasetJsonFields {
  channelNames: Record<string, string>
  labels: Record<string, number | number[]>
  numTraining: number
  fileEnding?: string
  name?: string
  description?: string
  /** More top-level keys (e.g. "nodal"), written after the standard ones. */
  extra?: Record<string, unknown>
}

/** A dataset.json in nnU-Net's key order: channel_names, labels, numTraining, file_ending, name, description, extras. */
export function datasetJson(f: DatasetJsonFields): DatasetJson {
  const json: DatasetJson = {
    channel_names: f.channelNames,
    labels: f.labels,
    numTraining: f.numTraining,
    file_ending: f.fileEnding ?? DEFAULT_FILE_ENDING,
    name: f.name,
    description: f.description,
    ...f.extra,
  }
  labelSetFrom(json) // refuses labels nodal could not read back
  channelsOf(json, DATASET_JSON)
  return json
}

/** Writes `<dir>/dataset.json` (see datasetJson) and returns what it wrote. */
export function writeDatasetJson(dir: string, fields: DatasetJsonFields): DatasetJson {
  const json = datasetJson(fields)
  writeFileSync(join(dir, DATASET_JSON), JSON.stringify(json, null, 2) + '\n')
  return json
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
