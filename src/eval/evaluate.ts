/**
 * `nodal evaluate` as a library call: pairs prediction and ground-truth files by case name, brings
 * each prediction onto its ground truth's grid, and computes voxel, surface, detection and
 * classification metrics, optionally against a second reader too.
 * A `nodal predict` output folder is read as it is: <pred>/<case>/labels.nii.gz with instances.nii.gz
 * as the predicted nodes and nodes.json for their scores, its network classes translated to dataset
 * labels by nodes.json's "classes" (see labelTranslation).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { badInput } from '../errors.js'
import { INSTANCES_FILE, LABELS_FILE, NODES_JSON } from '../infer/outputs.js'
import { readLabelMap, readVolume } from '../io/index.js'
import { resampleTo } from '../volume/resample.js'
import { Grid, indexToWorld, sameGrid, Vec3, Volume, worldToIndex } from '../volume/volume.js'
import { aggregatedDice, summarize, Summary } from './aggregate.js'
import { caseName, findCaseFile, listVolumes, VOLUME_FILE_EXTENSIONS } from './cases.js'
import { classify, ClassificationResult, ClassifiedNode } from './classification.js'
import { CaseDetection, detectCase, detectionReport, DetectionSummary } from './detection.js'
import { LabelMetrics, labelMask, labelMetrics, METRIC_KEYS } from './label-metrics.js'
import type { MatchCriterion } from './matching.js'
import { attachScores, InstanceAttributes, NodeMap, nodesFromInstanceMap, nodesFromLabelMap } from './nodes.js'
import { SliceSnapshot, snapshotWorstSlice } from './snapshot.js'

export interface EvaluateOptions {
  pred: string
  gt: string
  /** Labels to evaluate; null: every non-zero value found in the ground truth or prediction. */
  labels: number[] | null
  predInstances?: string
  gtInstances?: string
  /** Folder of `<case>.json` nodes files or `<case>` probability maps. */
  predScores?: string
  secondReader?: string
  /** Folder of the images (`<case>_0000.nii.gz`), only for the report's thumbnails. */
  images?: string
  toleranceMm: number
  match: MatchCriterion
  warn: (message: string) => void
}

export interface CaseResult {
  case: string
  resampled: boolean
  labels: Record<string, LabelMetrics>
  nodes: Record<string, { tp: number; fp: number; fn: number }>
}

export type LabelAggregate = Record<string, Summary> & { dsc_agg: number }
export type DetectionReport = ReturnType<typeof detectionReport>

export interface Comparison {
  labels: number[]
  cases: CaseResult[]
  aggregate: Record<string, LabelAggregate>
  detection: Record<string, DetectionReport>
  classification: ClassificationResult | null
}

export interface Evaluation extends Comparison {
  /** With a second reader: model vs reader 1 (= the main result), model vs reader 2, reader 1 vs reader 2. */
  readers: Record<string, Omit<Comparison, 'cases'>> | null
  snapshots: Map<string, SliceSnapshot>
  /** Where a nodal predict output's classes stand for several dataset labels: how labels were translated. */
  label_translation?: LabelTranslationReport
  /** Every warning given while evaluating, so that metrics.json carries them too. */
  warnings: string[]
}

export interface LabelTranslationReport {
  /** Ground-truth (dataset) label -> evaluated label, for the labels that change. */
  ground_truth: Record<string, number>
  /** Predicted class index -> evaluated label. */
  prediction: Record<string, number>
}

/** The key of the class-agnostic detection group (all evaluated labels together). */
export const ALL_NODES = 'all'

/**
 * The key of the malignant nodes' detection over every predicted node ranked by its probability of
 * malignancy (where the model gives one per node, as a multi-stage bundle does). Label 2's group
 * holds only the nodes the model called malignant, so its FROC cannot go past that one operating
 * point; this one sweeps the threshold on the probability, as a malignancy FROC does.
 */
export const MALIGNANT_BY_PROBABILITY = 'malignant_by_probability'

export async function evaluate(opts: EvaluateOptions): Promise<Evaluation> {
  const warnings: string[] = []
  const warnUser = opts.warn
  opts = { ...opts, warn: (m) => { if (!warnings.includes(m)) warnings.push(m); warnUser(m) } }
  const pairs = pairCases(opts.pred, opts.gt, opts.warn)
  const merging = pairs.find((p) => p.gtLabels)
  if (merging && opts.labels) opts = { ...opts, labels: [...new Set(opts.labels.map((l) => merging.gtLabels!.get(l) ?? l))].sort((a, b) => a - b) }
  const snapshots = new Map<string, SliceSnapshot>()
  const main = await compare(pairs, opts, { scoresFrom: 'model', snapshots })
  for (const label of opts.labels ?? []) {
    const present = main.cases.some((c) => (c.labels[String(label)]?.volume_gt_ml ?? 0) > 0 || (c.labels[String(label)]?.volume_pred_ml ?? 0) > 0)
    if (!present) opts.warn(`label ${label} is in neither the ground truth nor the prediction of any case: its Dice 1 and HD95 0 are the empty-mask convention, not a result`)
  }
  let readers: Evaluation['readers'] = null
  if (opts.secondReader) {
    const reader2 = listVolumes(opts.secondReader, '--second-reader')
    const shared = pairs.filter((p) => reader2.has(p.name))
    if (shared.length === 0) throw badInput(opts.secondReader, 'no case of the second reader matches a ground-truth case by file name')
    if (shared.length < pairs.length) opts.warn(`${pairs.length - shared.length} case(s) have no second-reader file; reader comparisons use ${shared.length}`)
    const modelVsReader1 = shared.length === pairs.length ? main : await compare(shared, opts, { scoresFrom: 'model' })
    const modelVsReader2 = await compare(shared.map((p) => ({ ...p, gt: reader2.get(p.name)! })), opts, { scoresFrom: 'model' })
    // the second reader is read as the ground truth is (dataset labels), not as a predict output
    const asReader = (p: CasePair): CasePair => ({ name: p.name, gt: p.gt, gtLabels: p.gtLabels, pred: reader2.get(p.name)!, predLabels: p.gtLabels })
    const reader2VsReader1 = await compare(shared.map(asReader), opts, { scoresFrom: 'none' })
    const drop = ({ cases: _cases, ...rest }: Comparison) => rest
    readers = { model_vs_reader1: drop(modelVsReader1), model_vs_reader2: drop(modelVsReader2), reader2_vs_reader1: drop(reader2VsReader1) }
  }
  const label_translation = merging ? translationReport(merging) : undefined
  return { ...main, readers, snapshots, ...(label_translation ? { label_translation } : {}), warnings }
}

/** value -> evaluated label; values not in it are kept. */
export type LabelMap = Map<number, number>

export interface CasePair {
  name: string
  pred: string
  gt: string
  /** From a nodal predict case folder: its instance map and nodes.json. */
  predInstances?: string
  predNodes?: string
  /** Translation of the prediction's values (a predict output's class indices) to evaluated labels. */
  predLabels?: LabelMap
  /** Translation of ground-truth (dataset) labels, where a predicted class stands for several of them. */
  gtLabels?: LabelMap
}

type PredEntry = Omit<CasePair, 'name' | 'gt'>

/**
 * Pairs by case name; two single files pair with each other whatever their names. A prediction folder
 * may be a nodal predict output (<pred>/<case>/labels.nii.gz, instances.nii.gz, nodes.json), or one
 * case folder of it.
 */
export function pairCases(pred: string, gt: string, warn: (m: string) => void): CasePair[] {
  const predFiles = new Map<string, PredEntry>([...listVolumes(pred, '--pred')].map(([name, file]) => [name, { pred: file }]))
  const gtFiles = listVolumes(gt, '--gt')
  const predictCases = predictOutputCases(pred)
  const caseFolder = predictCases !== null && existsSync(join(pred, LABELS_FILE))
  if (caseFolder) predFiles.clear()
  for (const [name, entry] of predictCases ?? []) predFiles.set(name, entry)
  if ((caseFolder || !statSync(pred).isDirectory()) && !statSync(gt).isDirectory()) {
    return withCommonTranslation([{ ...[...predFiles.values()][0]!, name: caseName(gt), gt }], pred, warn)
  }
  if (gtFiles.size === 0) throw badInput(gt, 'holds no volume file (.nii.gz .nii .nrrd .mha .mhd)')
  const pairs = [...gtFiles].filter(([name]) => predFiles.has(name)).map(([name, g]) => ({ ...predFiles.get(name)!, name, gt: g }))
  if (pairs.length === 0) throw badInput(pred, `no prediction file has the name of a ground-truth case in ${gt}`)
  const missing = [...gtFiles.keys()].filter((name) => !predFiles.has(name))
  if (missing.length) warn(`${missing.length} ground-truth case(s) have no prediction and are left out (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''})`)
  const extra = [...predFiles.keys()].filter((name) => !gtFiles.has(name))
  if (extra.length) warn(`${extra.length} prediction(s) have no ground truth and are left out (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', ...' : ''})`)
  return withCommonTranslation(pairs, pred, warn)
}

/** The case folders of a nodal predict output (or the one case folder given), or null when it is none. */
function predictOutputCases(path: string): Map<string, PredEntry> | null {
  if (!statSync(path).isDirectory()) return null
  if (existsSync(join(path, LABELS_FILE))) return new Map([[basename(resolve(path)), predictEntry(path)]])
  const out = new Map<string, PredEntry>()
  for (const e of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    // a case still being written is <case>.tmp-<pid>
    if (e.isDirectory() && !/\.tmp-\d+$/.test(e.name) && existsSync(join(path, e.name, LABELS_FILE))) out.set(e.name, predictEntry(join(path, e.name)))
  }
  return out.size ? out : null
}

function predictEntry(dir: string): PredEntry {
  const instances = join(dir, INSTANCES_FILE), nodes = join(dir, NODES_JSON)
  const entry: PredEntry = { pred: join(dir, LABELS_FILE) }
  if (existsSync(instances)) entry.predInstances = instances
  if (existsSync(nodes)) {
    entry.predNodes = nodes
    const t = labelTranslation(readJson(nodes).classes, nodes)
    if (t) { entry.predLabels = t.pred; if (t.gt.size) entry.gtLabels = t.gt }
  }
  return entry
}

/**
 * How a nodal predict output's classes (nodes.json "classes": [{index, name, dataset_labels}]) meet
 * the ground truth's dataset labels: a class standing for one dataset label is that label; the dataset
 * labels a class stands for together (an all-nodes model's 'node' is benign 1 and malignant 2) are
 * evaluated as one label, their smallest, in the ground truth too. Null when nothing changes.
 */
export function labelTranslation(classes: unknown, file: string): { pred: LabelMap; gt: LabelMap } | null {
  if (!Array.isArray(classes)) return null
  const foreground = classes.filter((k) => Number.isInteger(k?.index) && k.index > 0)
  if (foreground.length === 0) return null
  const groups: number[][] = []
  for (const k of foreground) {
    const labels = k.dataset_labels
    if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l: unknown) => Number.isInteger(l) && (l as number) > 0)) {
      throw badInput(file, `class ${k.index} (${k.name}) has no dataset_labels to evaluate it against`)
    }
    // classes that share a dataset label fall into one group
    const joined = groups.filter((g) => labels.some((l: number) => g.includes(l)))
    const merged = [...new Set([...labels, ...joined.flat()])]
    for (const g of joined) groups.splice(groups.indexOf(g), 1)
    groups.push(merged)
  }
  const gt: LabelMap = new Map()
  for (const g of groups) for (const l of g) if (l !== Math.min(...g)) gt.set(l, Math.min(...g))
  const pred: LabelMap = new Map(foreground.map((k) => [k.index, Math.min(...groups.find((g) => g.includes(k.dataset_labels[0]))!)]))
  if (gt.size === 0 && [...pred].every(([index, label]) => index === label)) return null
  return { pred, gt }
}

/** One ground-truth translation for every case (predictions of one model); says what is merged. */
function withCommonTranslation(pairs: CasePair[], pred: string, warn: (m: string) => void): CasePair[] {
  const key = (m: LabelMap | undefined) => JSON.stringify([...(m ?? [])].sort((a, b) => a[0] - b[0]))
  const first = pairs.find((p) => p.gtLabels)
  if (!first) return pairs
  const differing = pairs.find((p) => p.predNodes && key(p.gtLabels) !== key(first.gtLabels))
  if (differing) throw badInput(pred, `holds predictions of models with different classes (${first.name}, ${differing.name}); evaluate them separately`)
  const byTarget = new Map<number, number[]>()
  for (const [from, to] of first.gtLabels!) byTarget.set(to, [...(byTarget.get(to) ?? [to]), from])
  for (const [to, from] of byTarget) {
    const names = readJson(first.predNodes!).classes.filter((k: { index: number }) => first.predLabels?.get(k.index) === to).map((k: { name: string }) => `'${k.name}'`)
    warn(`the prediction's class ${names.join(', ')} stands for dataset labels ${from.sort((a, b) => a - b).join(', ')}: ground-truth labels ${from.join(', ')} are evaluated together as label ${to} (all nodes)`)
  }
  // a plain label map among them holds dataset labels, translated as the ground truth is
  return pairs.map((p) => ({ ...p, gtLabels: first.gtLabels, predLabels: p.predNodes ? p.predLabels : first.gtLabels }))
}

function translationReport(p: CasePair): LabelTranslationReport {
  return {
    ground_truth: Object.fromEntries([...p.gtLabels ?? []].map(([from, to]) => [String(from), to])),
    prediction: Object.fromEntries([...p.predLabels ?? []].map(([from, to]) => [String(from), to])),
  }
}

function readJson(file: string): any {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw badInput(file, `is not valid JSON (${(e as Error).message.split('\n')[0]})`)
  }
}

/** A label map with its values translated (a copy), or the map itself without a translation. */
function relabel(v: Volume, map: LabelMap | undefined): Volume {
  if (!map || map.size === 0) return v
  const data = v.data.slice()
  for (let n = 0; n < data.length; n++) {
    const to = map.get(data[n])
    if (to !== undefined) data[n] = to
  }
  return v.withData(data)
}

interface CompareContext {
  /** 'model': scores and instances from the prediction options; 'none': a reader, every node scores 1. */
  scoresFrom: 'model' | 'none'
  snapshots?: Map<string, SliceSnapshot>
}

interface CaseOutcome {
  result: CaseResult
  voxelMm3: number
  voxelCount: number
  detection: Map<string, CaseDetection>
  classified: ClassifiedNode[]
}

async function compare(pairs: CasePair[], opts: EvaluateOptions, ctx: CompareContext): Promise<Comparison> {
  const outcomes: CaseOutcome[] = []
  for (const pair of pairs) outcomes.push(await evaluateCase(pair, opts, ctx))
  const labels = opts.labels ?? [...new Set(outcomes.flatMap((o) => Object.keys(o.result.labels).map(Number)))].sort((a, b) => a - b)
  for (const o of outcomes) fillAbsentLabels(o, labels)
  // one label that stands for several dataset labels (an all-nodes prediction): also reported as all nodes
  const allNodes = labels.length > 1 || pairs.some((p) => p.gtLabels)
  const groups = allNodes ? [...labels.map(String), ALL_NODES] : labels.map(String)
  // only where the model gave every case's nodes a probability of malignancy
  if (outcomes.length && outcomes.every((o) => o.detection.has(MALIGNANT_BY_PROBABILITY))) groups.push(MALIGNANT_BY_PROBABILITY)
  const detection: Record<string, DetectionReport> = {}
  for (const group of groups) detection[group] = detectionReport(outcomes.map((o) => o.detection.get(group)!))
  const hasClasses = labels.includes(1) && labels.includes(2)
  return {
    labels,
    cases: outcomes.map((o) => o.result),
    aggregate: Object.fromEntries(labels.map((l) => [String(l), aggregateLabel(outcomes, String(l))])),
    detection,
    classification: hasClasses && ctx.scoresFrom === 'model' ? classify(outcomes.flatMap((o) => o.classified)) : null,
  }
}

async function evaluateCase(pair: CasePair, opts: EvaluateOptions, ctx: CompareContext): Promise<CaseOutcome> {
  const gt = relabel(await readLabelMap(pair.gt), pair.gtLabels)
  const { volume: pred, resampled } = onGrid(relabel(await readLabelMap(pair.pred), pair.predLabels), gt, pair.pred, opts.warn)
  const labels = opts.labels ?? presentLabels(gt, pred)
  const result: CaseResult = { case: pair.name, resampled, labels: {}, nodes: {} }
  for (const label of labels) {
    result.labels[String(label)] = labelMetrics(labelMask(pred.data, [label]), labelMask(gt.data, [label]), gt.shape, gt.spacing, gt.voxelVolumeMm3, opts.toleranceMm)
  }
  // one label: its nodes are all the nodes, so the class-agnostic group is the same computation
  const groups: [string, number[]][] = labels.map((l) => [String(l), [l]])
  if (labels.length > 1) groups.push([ALL_NODES, labels])
  const predNodes = ctx.scoresFrom === 'model' ? await modelNodeSource(pair, gt, opts) : null
  const gtInstances = await readInstances(opts.gtInstances, pair.name, gt, opts.warn)
  const detection = new Map<string, CaseDetection>()
  let classified: ClassifiedNode[] = []
  // kept for the malignancy sweep: the prediction's nodes of every label, the true malignant nodes
  let allPred: NodeMap | null = null, gtMalignant: NodeMap | null = null
  for (const [key, group] of groups) {
    const predMap = predNodes?.instances ? nodesFromInstanceMap(predNodes.instances.volume, pred, group) : nodesFromLabelMap(pred, group)
    attachScores(predMap, predNodes?.attributes ?? null, predNodes?.probability ?? null, true)
    const gtMap = gtInstances ? nodesFromInstanceMap(gtInstances.volume, gt, group) : nodesFromLabelMap(gt, group)
    const d = detectCase(predMap, gtMap, opts.match)
    detection.set(key, d)
    if (group.length === labels.length) {
      detection.set(ALL_NODES, d)
      classified = classifiedPairs(predMap, gtMap, d, gtInstances?.attributes ?? null)
      allPred = predMap
    }
    if (key === '2') gtMalignant = gtMap
    result.nodes[key] = { tp: d.pairs.size, fp: predMap.nodes.length - d.pairs.size, fn: gtMap.nodes.length - d.pairs.size }
  }
  if (predNodes?.instances && predNodes.attributes && labels.includes(1) && gtMalignant) {
    const byProbability = malignantByProbability(allPred!, predNodes.attributes, gtMalignant, opts.match)
    if (byProbability) detection.set(MALIGNANT_BY_PROBABILITY, byProbability)
  }
  if (ctx.snapshots) {
    const image = await readImage(opts.images, pair.name, gt)
    const snap = snapshotWorstSlice(pred, gt, labels, image)
    if (snap) ctx.snapshots.set(pair.name, snap)
  }
  return { result, voxelMm3: gt.voxelVolumeMm3, voxelCount: gt.voxelCount, detection, classified }
}

/**
 * Every predicted node (of any label) scored by its probability of malignancy, against the true
 * malignant nodes; null when some node has no probability from the model (nodes JSON).
 */
function malignantByProbability(pred: NodeMap, attributes: Record<string, InstanceAttributes>, gtMalignant: NodeMap, match: MatchCriterion): CaseDetection | null {
  const probabilities = pred.nodes.map((node) => attributes[String(node.id)]?.probability_malignant)
  if (probabilities.some((p) => typeof p !== 'number')) return null
  // copies: the nodes' own scores stay those of the other groups
  return detectCase({ ...pred, nodes: pred.nodes.map((node, i) => ({ ...node, score: probabilities[i]! })) }, gtMalignant, match)
}

/**
 * The prediction on the ground truth's grid: as is when the grids agree, else resampled by world
 * coordinates (nearest neighbour) with a warning. Grids that share no physical space are an error.
 */
export function onGrid(pred: Volume, gt: Volume, file: string, warn: (m: string) => void): { volume: Volume; resampled: boolean } {
  if (sameGrid(pred, gt)) return { volume: pred, resampled: false }
  if (!gridsOverlap(pred, gt)) throw badInput(file, 'lies on a grid that does not overlap the ground truth in space (check origin and orientation)')
  warn(`${file}: on another grid than its ground truth; resampled to the ground-truth grid by world coordinates (nearest neighbour)`)
  return { volume: resampleTo(pred, gt, { interpolation: 'nearest' }), resampled: true }
}

/** True when the boxes of the two grids (out to the voxels' faces) intersect in space. */
export function gridsOverlap(a: Grid, b: Grid): boolean {
  const lo: Vec3 = [Infinity, Infinity, Infinity], hi: Vec3 = [-Infinity, -Infinity, -Infinity]
  for (const corner of gridCorners(a)) {
    const ijk = worldToIndex(b, indexToWorld(a, corner))
    for (let d = 0; d < 3; d++) {
      lo[d] = Math.min(lo[d], ijk[d])
      hi[d] = Math.max(hi[d], ijk[d])
    }
  }
  return [0, 1, 2].every((d) => hi[d] > -0.5 && lo[d] < b.shape[d] - 0.5)
}

function gridCorners(g: Grid): Vec3[] {
  const out: Vec3[] = []
  for (const i of [-0.5, g.shape[0] - 0.5]) for (const j of [-0.5, g.shape[1] - 0.5]) for (const k of [-0.5, g.shape[2] - 0.5]) out.push([i, j, k])
  return out
}

function presentLabels(...volumes: Volume[]): number[] {
  const seen = new Set<number>()
  for (const v of volumes) for (let n = 0; n < v.data.length; n++) if (v.data[n] !== 0) seen.add(v.data[n])
  return [...seen].sort((a, b) => a - b)
}

/** A case without a label anywhere: both masks empty (every metric at its both-empty value), no nodes. */
function fillAbsentLabels(o: CaseOutcome, labels: number[]): void {
  const empty = new Uint8Array(0)
  for (const label of labels) {
    const key = String(label)
    if (o.result.labels[key]) continue
    const metrics = labelMetrics(empty, empty, [0, 0, 0], [1, 1, 1], o.voxelMm3, 1)
    o.result.labels[key] = { ...metrics, tn: o.voxelCount, specificity: 1, accuracy: 1 }
    o.result.nodes[key] = { tp: 0, fp: 0, fn: 0 }
    o.detection.set(key, noNodes())
  }
  if (!o.detection.has(ALL_NODES)) o.detection.set(ALL_NODES, noNodes())
}

function noNodes(): CaseDetection {
  const none = new Int32Array(0)
  return { predScores: [], predShortAxisMm: [], gtShortAxisMm: [], matching: none, matchingAtIou: { '0.1': none, '0.25': none, '0.5': none }, pairs: new Map() }
}

function aggregateLabel(outcomes: CaseOutcome[], label: string): LabelAggregate {
  const out: Record<string, Summary> = {}
  for (const key of METRIC_KEYS) out[key] = summarize(outcomes.map((o) => o.result.labels[label][key]))
  const dscAgg = aggregatedDice(outcomes.map((o) => {
    const m = o.result.labels[label]
    return { tpMm3: m.tp * o.voxelMm3, predMm3: (m.tp + m.fp) * o.voxelMm3, gtMm3: (m.tp + m.fn) * o.voxelMm3 }
  }))
  return { ...out, dsc_agg: dscAgg } as LabelAggregate
}

/** Matched node pairs whose true class (label 1/2 or the instance JSON's class) and predicted probability are known. */
function classifiedPairs(pred: NodeMap, gt: NodeMap, d: CaseDetection, gtAttributes: Record<string, InstanceAttributes> | null): ClassifiedNode[] {
  const out: ClassifiedNode[] = []
  d.matching.forEach((g, p) => {
    if (g < 0) return
    const probability = pred.nodes[p].probabilityMalignant
    const cls = gtAttributes?.[String(gt.nodes[g].id)]?.class
    const malignant = cls === 'malignant' ? true : cls === 'benign' ? false : gt.nodes[g].label === 2 ? true : gt.nodes[g].label === 1 ? false : null
    if (probability !== null && malignant !== null) out.push({ malignant, probability })
  })
  return out
}

interface InstanceSource {
  volume: Volume
  attributes: Record<string, InstanceAttributes> | null
}

/** `<dir>/<case>.nii.gz` (+ `<case>.json`) on the ground-truth grid, or null without the option. */
async function readInstances(dir: string | undefined, name: string, gt: Volume, warn: (m: string) => void): Promise<InstanceSource | null> {
  if (!dir) return null
  const file = findCaseFile(dir, name, VOLUME_FILE_EXTENSIONS)
  if (!file) throw badInput(dir, `has no instance map for case ${name}`)
  const volume = onGrid(await readVolume(file), gt, file, warn).volume
  const json = findCaseFile(dir, name, ['.json'])
  return { volume, attributes: json ? readAttributes(json) : null }
}

/** The prediction's instances and scores: from the options, else from a nodal predict case folder. */
async function modelNodeSource(pair: CasePair, gt: Volume, opts: EvaluateOptions) {
  const name = pair.name
  const instances = opts.predInstances ? await readInstances(opts.predInstances, name, gt, opts.warn) : await predictInstances(pair, gt, opts.warn)
  let attributes = instances?.attributes ?? null
  let probability: Volume | null = null
  if (opts.predScores) {
    const json = findCaseFile(opts.predScores, name, ['.json'])
    const map = findCaseFile(opts.predScores, name, VOLUME_FILE_EXTENSIONS)
    if (json) {
      if (!instances) throw badInput(json, 'a nodes JSON scores instance ids: give the instance maps with --pred-instances (or give a probability map)')
      attributes = { ...attributes, ...readAttributes(json) }
    } else if (map) {
      probability = onGrid(await readVolume(map), gt, map, opts.warn).volume
    } else {
      throw badInput(opts.predScores, `has neither ${name}.json nor a probability map for case ${name}`)
    }
  }
  return { instances, attributes, probability }
}

async function predictInstances(pair: CasePair, gt: Volume, warn: (m: string) => void): Promise<InstanceSource | null> {
  if (!pair.predInstances) return null
  const volume = onGrid(await readVolume(pair.predInstances), gt, pair.predInstances, warn).volume
  return { volume, attributes: pair.predNodes ? readAttributes(pair.predNodes) : null }
}

function readAttributes(file: string): Record<string, InstanceAttributes> {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw badInput(file, `is not valid JSON (${(e as Error).message.split('\n')[0]})`)
  }
  const instances = (parsed as { instances?: unknown })?.instances
  if (!instances || typeof instances !== 'object') throw badInput(file, 'has no "instances" object ({"instances": {"<id>": {...}}})')
  return instances as Record<string, InstanceAttributes>
}

async function readImage(dir: string | undefined, name: string, gt: Volume): Promise<Volume | null> {
  const file = findCaseFile(dir, name, VOLUME_FILE_EXTENSIONS)
  if (!file) return null
  const image = await readVolume(file)
  if (sameGrid(image, gt)) return image
  if (!gridsOverlap(image, gt)) throw badInput(file, 'does not overlap its ground truth in space')
  return resampleTo(image, gt, { interpolation: 'linear' })
}
