/**
 * Stage 2's training samples from a labelled dataset and a trained stage 1: on every case stage 1 did not
 * train on, its candidates (true nodes it found, and its false positives: vessels, bowel, muscle, the hard
 * negatives), plus every true node outlined in the labels. Each sample is a patch with all channels the
 * case has (CT, mask, PET) and the measured features, so one collection serves both the CT and the PET/CT
 * classifier. Samples are kept in one binary file next to a JSON index, so a classifier can be retrained
 * without running stage 1 again.
 */
import { existsSync, readFileSync } from 'node:fs'
import { type Dataset, type DatasetCase } from '../dataset/index.js'
import { NodalError } from '../errors.js'
import { writeFileAtomic } from '../io/atomic.js'
import { readVolume } from '../io/index.js'
import { connectedComponents } from '../volume/components.js'
import { extendBox } from '../volume/crop.js'
import { type Vec3, Volume } from '../volume/volume.js'
import { type CandidateRegion, type CandidateScan, extractPatch, MEASURED_FEATURES, type MeasuredFeature, measureCandidate, type PatchChannel, type PatchSpec } from './candidate.js'

/** Stage 2's label of a sample: index into CLASSIFIER_CLASSES. */
export type SampleLabel = 0 | 1 | 2

export interface SampleRecord {
  case: string
  label: SampleLabel
  /** 'detected': a stage-1 candidate; 'truth': a node of the labels. */
  source: 'detected' | 'truth'
  values: Record<MeasuredFeature, number>
}

export interface SampleSet {
  /** Channels of every patch, and the side of the (larger than the classifier's) training patch. */
  channels: PatchChannel[]
  size: number
  spacing_mm: number
  records: SampleRecord[]
  /** Patches, record after record, each channels × size³. */
  patches: Float32Array
}

/** The stage-1 result collectSamples needs (a NodalModel's predict gives it). */
export interface Detection {
  instances: Volume
  bboxes: [Vec3, Vec3][]
  foreground: Float32Array
}

export interface CollectOptions {
  dataset: Dataset
  cases: DatasetCase[]
  detect: (ct: Volume) => Promise<Detection>
  spec: Omit<PatchSpec, 'channels'>
  /** Side of the stored patch; training crops spec.size from it at random. */
  size: number
  onCase?: (name: string, done: number, total: number, samples: number) => void
}

export async function collectSamples(o: CollectOptions): Promise<SampleSet> {
  const hasPet = o.dataset.channels.some((c) => /^(pet|pt)$/i.test(c.name))
  const channels: PatchChannel[] = hasPet ? ['CT', 'mask', 'PET'] : ['CT', 'mask']
  const records: SampleRecord[] = []
  const patches: Float32Array[] = []
  o.onCase?.('', 0, o.cases.length, 0)
  for (const [index, c] of o.cases.entries()) {
    const ct = await readVolume(c.images[0]!)
    const pet = hasPet ? await readVolume(c.images[o.dataset.channels.findIndex((ch) => /^(pet|pt)$/i.test(ch.name))]!) : null
    const truth = await truthOf(c, o.dataset)
    const detection = await o.detect(ct)
    const scan: CandidateScan = { ct, pet, foreground: detection.foreground }
    const spec: PatchSpec = { ...o.spec, channels }
    const add = (region: CandidateRegion, label: SampleLabel, source: SampleRecord['source']) => {
      const m = measureCandidate(scan, region)
      records.push({ case: c.name, label, source, values: m.values })
      patches.push(extractPatch(scan, region, m.centre_mm, spec, o.size))
    }
    detection.bboxes.forEach((bbox, i) => add({ instances: detection.instances, id: i + 1, bbox }, labelOfCandidate(detection.instances, i + 1, bbox, truth), 'detected'))
    for (const [id, { bbox, label }] of truth.nodes) add({ instances: truth.instances, id, bbox }, label, 'truth')
    o.onCase?.(c.name, index + 1, o.cases.length, records.length)
  }
  const voxels = channels.length * o.size ** 3
  const all = new Float32Array(patches.length * voxels)
  patches.forEach((p, i) => all.set(p, i * voxels))
  return { channels, size: o.size, spacing_mm: o.spec.spacing_mm, records, patches: all }
}

interface Truth {
  instances: Volume
  /** id -> box and class (1 benign, 2 malignant). */
  nodes: Map<number, { bbox: [Vec3, Vec3]; label: SampleLabel }>
}

/** The case's nodes: nodal's instance map when the dataset has one, else 26-connected components of the labels. */
async function truthOf(c: DatasetCase, ds: Dataset): Promise<Truth> {
  if (!c.label) throw new NodalError('bad-dataset', `${c.name}: has no label file; stage 2 trains on labelled cases`)
  const labels = await readVolume(c.label)
  let instances: Volume
  if (c.instances && existsSync(c.instances.map)) instances = await readVolume(c.instances.map)
  else {
    const mask = Uint8Array.from(labels.data, (v) => (ds.labels.foreground.includes(v) ? 1 : 0))
    instances = labels.withData(connectedComponents(mask, labels.shape, 26).labels, {})
  }
  // one pass: each node's class votes and its box
  const seen = new Map<number, { benign: number; malignant: number; bbox: [Vec3, Vec3] }>()
  const [nx, ny] = instances.shape
  for (let v = 0; v < instances.data.length; v++) {
    const id = instances.data[v]!
    if (id === 0) continue
    const i = v % nx, j = Math.floor(v / nx) % ny, k = Math.floor(v / (nx * ny))
    let node = seen.get(id)
    if (!node) seen.set(id, node = { benign: 0, malignant: 0, bbox: [[i, j, k], [i, j, k]] })
    extendBox(node.bbox[0], node.bbox[1], i, j, k)
    if (ds.labels.malignant.includes(labels.data[v]!)) node.malignant++
    else if (ds.labels.foreground.includes(labels.data[v]!)) node.benign++
  }
  const nodes = new Map<number, { bbox: [Vec3, Vec3]; label: SampleLabel }>()
  for (const [id, n] of seen) nodes.set(id, { bbox: n.bbox, label: n.malignant > n.benign ? 2 : 1 })
  return { instances, nodes }
}

/**
 * A candidate's class: that of the true node it overlaps most, when the overlap is at least a tenth of the
 * candidate (a candidate that merged a cluster takes the class most of it covers); otherwise not a node.
 */
function labelOfCandidate(candidates: Volume, id: number, bbox: [Vec3, Vec3], truth: Truth): SampleLabel {
  const [nx, ny] = candidates.shape
  const overlap = new Map<number, number>()
  let size = 0
  for (let k = bbox[0][2]; k <= bbox[1][2]; k++) {
    for (let j = bbox[0][1]; j <= bbox[1][1]; j++) {
      for (let i = bbox[0][0]; i <= bbox[1][0]; i++) {
        const v = i + nx * (j + ny * k)
        if (candidates.data[v] !== id) continue
        size++
        const t = truth.instances.data[v]!
        if (t) overlap.set(t, (overlap.get(t) ?? 0) + 1)
      }
    }
  }
  let best = 0, bestCount = 0
  for (const [t, count] of overlap) if (count > bestCount) { best = t; bestCount = count }
  return bestCount >= 0.1 * size ? truth.nodes.get(best)!.label : 0
}

/** Writes the samples as <path>.json (index) and <path>.f32 (patches). */
export function saveSamples(path: string, set: SampleSet): void {
  const { patches, ...index } = set
  writeFileAtomic(`${path}.f32`, new Uint8Array(patches.buffer, patches.byteOffset, patches.byteLength))
  writeFileAtomic(`${path}.json`, JSON.stringify({ format: 'nodal-stage2-samples', version: 1, features: MEASURED_FEATURES, ...index }) + '\n')
}

export function loadSamples(path: string): SampleSet {
  if (!existsSync(`${path}.json`) || !existsSync(`${path}.f32`)) throw new NodalError('bad-input', `${path}: no stage-2 samples (.json and .f32) there`)
  const index = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as Omit<SampleSet, 'patches'>
  const bytes = readFileSync(`${path}.f32`)
  const patches = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
  const expected = index.records.length * index.channels.length * index.size ** 3
  if (patches.length !== expected) throw new NodalError('bad-input', `${path}.f32 holds ${patches.length} values; the index needs ${expected}`)
  return { ...index, patches }
}
