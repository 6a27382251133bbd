/**
 * Nodes from a predicted label map: 26-connected components of the foreground, split where they hold
 * touching nodes (separate.ts), small ones removed, each
 * measured as radiologists report nodes (RECIST short and long axis on the axial slice of largest extent,
 * src/volume/measure.ts) with its class, scores, volume, centre, box, mean HU, SUVmax and uncertainty.
 */
import { helperClass, type OutputClass } from '../bundle/schema.js'
import { connectedComponents } from '../volume/components.js'
import { componentsAcrossBorders } from './borders.js'
import { componentsFromCores } from './cores.js'
import { type SeparateOptions, separateTouching } from './separate.js'
import { cropOrPad, extendBox } from '../volume/crop.js'
import { measureNode } from '../volume/measure.js'
import { indexToWorld, type Vec3, Volume } from '../volume/volume.js'

export interface PredictedNode {
  id: number
  /** Output class name (e.g. node, malignant_node, benign_node) and its network class index. */
  class: string
  class_index: number
  /** Foreground probability over the node's voxels. */
  score_mean: number
  score_max: number
  voxels: number
  volume_ml: number
  short_axis_mm: number
  long_axis_mm: number
  /** LPS, mm. */
  centre_mm: Vec3
  /** Inclusive voxel index bounds on the input grid, [[i, j, k], [i, j, k]]. */
  bbox_voxels: [Vec3, Vec3]
  /** LPS corners of the box (mm): the world positions of its first and last voxel centres. */
  bbox_mm: [Vec3, Vec3]
  mean_hu: number | null
  suv_max: number | null
  /** Mean binary predictive entropy (node vs background) over the node, in bits (0 certain .. 1). */
  entropy: number
  /** With test-time augmentation: mean variance of the foreground probability across passes. */
  disagreement: number | null
  /** Lymph node station or region, where the model's body site allows; null otherwise. */
  station: string | null
  /** Multi-stage: stage 2's probability that this is a node, and that it is malignant given it is a node. */
  probability_node?: number
  probability_malignant?: number
  /** Multi-stage: stage 2's three probabilities and the classifier that gave them. */
  stage2?: { not_node: number; benign: number; malignant: number; classifier: string }
}

export interface NodeExtraction {
  /** Node ids on the input grid (0 = none), in the order of `nodes`. */
  instances: Volume
  nodes: PredictedNode[]
  removedSmall: number
}

export interface NodeOptions {
  classes: OutputClass[]
  /** Components smaller than this (mm³) are dropped; default 20 mm³ (a sphere of about 3.4 mm). */
  minVolumeMm3?: number
  /** Channel 0 when it is CT (for mean HU). */
  ct?: Volume | null
  /** PET in SUV on the input grid (for SUVmax). */
  pet?: Volume | null
  disagreement?: Float32Array | null
  /** Split components that hold touching nodes (separate.ts); false keeps every component whole. Default on. */
  separate?: SeparateOptions | false
}

interface Accumulator {
  voxels: number
  lo: Vec3
  hi: Vec3
  probSum: number
  probMax: number
  entropySum: number
  disagreementSum: number
  huSum: number
  suvMax: number
  classVotes: Float64Array
}

function binaryEntropyBits(p: number): number {
  if (p <= 0 || p >= 1) return 0
  return -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p))
}

export function extractNodes(labels: Volume, foreground: Float32Array, o: NodeOptions): NodeExtraction {
  const { ids, count: components, border } = nodeComponents(labels, o.classes)
  const count = o.separate === false ? components : separateTouching(ids, components, labels.shape, labels.spacing, { crease: border, ...o.separate })
  const acc = accumulate(ids, count, labels, foreground, o)
  const minVoxels = (o.minVolumeMm3 ?? 20) / labels.voxelVolumeMm3
  const kept = acc.map((a, c) => ({ a, c })).filter(({ a, c }) => c > 0 && a.voxels >= minVoxels)
  const newId = new Int32Array(count + 1)
  kept.forEach(({ c }, i) => { newId[c] = i + 1 })
  const instanceData = new Uint16Array(ids.length)
  for (let v = 0; v < ids.length; v++) instanceData[v] = newId[ids[v]!]!
  const instances = labels.withData(instanceData, { ...labels.meta, modality: undefined })
  const nodes = kept.map(({ a }, i) => describe(i + 1, a, instances, o))
  return { instances, nodes, removedSmall: count - kept.length }
}

/**
 * 26-connected components of the foreground; apart along the border class when the model has one
 * (borders.ts), which also returns where the border was, for the watershed to cut through what it left open;
 * one per predicted core when the model has a core class (cores.ts).
 */
function nodeComponents(labels: Volume, classes: OutputClass[]): { ids: Int32Array; count: number; border: Uint8Array | null } {
  const helper = helperClass(classes)
  if (helper?.kind === 'border') {
    const border = Uint8Array.from(labels.data as ArrayLike<number>, (v) => (v === helper.index ? 1 : 0))
    const { ids, count } = componentsAcrossBorders(labels.data, labels.shape, helper.index, helper.node)
    return { ids, count, border }
  }
  if (helper?.kind === 'core') {
    const { ids, count } = componentsFromCores(labels.data, labels.shape, labels.spacing, helper.index, helper.node)
    return { ids, count, border: null }
  }
  const mask = new Uint8Array(labels.data.length)
  for (let v = 0; v < mask.length; v++) mask[v] = labels.data[v]! > 0 ? 1 : 0
  const { labels: ids, count } = connectedComponents(mask, labels.shape, 26)
  return { ids, count, border: null }
}

function accumulate(ids: Int32Array, count: number, labels: Volume, foreground: Float32Array, o: NodeOptions): Accumulator[] {
  const acc: Accumulator[] = Array.from({ length: count + 1 }, () => ({
    voxels: 0, lo: [Infinity, Infinity, Infinity], hi: [-1, -1, -1], probSum: 0, probMax: 0, entropySum: 0,
    disagreementSum: 0, huSum: 0, suvMax: -Infinity, classVotes: new Float64Array(o.classes.length),
  }))
  const [nx, ny] = labels.shape
  for (let v = 0; v < ids.length; v++) {
    const c = ids[v]!
    if (c === 0) continue
    const a = acc[c]!
    const i = v % nx, j = Math.floor(v / nx) % ny, k = Math.floor(v / (nx * ny))
    a.voxels++
    extendBox(a.lo, a.hi, i, j, k)
    const p = foreground[v]!
    a.probSum += p
    if (p > a.probMax) a.probMax = p
    a.entropySum += binaryEntropyBits(p)
    if (o.disagreement) a.disagreementSum += o.disagreement[v]!
    if (o.ct) a.huSum += o.ct.data[v]!
    if (o.pet && o.pet.data[v]! > a.suvMax) a.suvMax = o.pet.data[v]!
    a.classVotes[labels.data[v]!]! += 1
  }
  return acc
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits

/**
 * Volume, RECIST axes, centre and box (voxels and LPS mm) of node `id` of an instance map whose voxels
 * lie in [lo, hi], rounded as nodes.json gives them. Measured on a crop with one voxel of margin:
 * measureNode scans only what it is given.
 */
export function nodeGeometry(instances: Volume, id: number, lo: Vec3, hi: Vec3): Pick<PredictedNode, 'volume_ml' | 'short_axis_mm' | 'long_axis_mm' | 'centre_mm' | 'bbox_voxels' | 'bbox_mm'> {
  const m = measureNode(cropOrPad(instances, lo.map((v) => v - 1) as Vec3, hi.map((v, d) => v - lo[d]! + 3) as Vec3), id)!
  return {
    volume_ml: round(m.volume_ml, 4),
    short_axis_mm: round(m.short_axis_mm),
    long_axis_mm: round(m.long_axis_mm),
    centre_mm: m.centre_mm.map((x) => round(x)) as Vec3,
    bbox_voxels: [[...lo], [...hi]],
    bbox_mm: [indexToWorld(instances, lo).map((x) => round(x)) as Vec3, indexToWorld(instances, hi).map((x) => round(x)) as Vec3],
  }
}

function describe(id: number, a: Accumulator, instances: Volume, o: NodeOptions): PredictedNode {
  let classIndex = 1
  for (let k = 1; k < a.classVotes.length; k++) if (a.classVotes[k]! > a.classVotes[classIndex]!) classIndex = k
  return {
    id,
    class: o.classes[classIndex]?.name ?? `class_${classIndex}`,
    class_index: classIndex,
    score_mean: round(a.probSum / a.voxels, 4),
    score_max: round(a.probMax, 4),
    voxels: a.voxels,
    ...nodeGeometry(instances, id, a.lo, a.hi),
    mean_hu: o.ct ? round(a.huSum / a.voxels, 1) : null,
    suv_max: o.pet ? round(a.suvMax) : null,
    entropy: round(a.entropySum / a.voxels, 4),
    disagreement: o.disagreement ? round(a.disagreementSum / a.voxels, 5) : null,
    station: null,
  }
}
