/**
 * Stage 2 of the multi-stage pipeline, trained on top of a stage-1 node detector bundle:
 *   candidates: on every case the detector never trained on (a fold's validation cases, predicted by that
 *     fold alone; or every case of another dataset), its candidates and the true nodes -> samples
 *   classifiers: one on CT (+ candidate mask), and one on PET/CT when the samples have PET
 *   bundle: the detector's files, the classifiers' ONNX (logits + class-activation maps) and weights, and
 *     model.json with pipeline "multi", so `nodal predict` runs both stages.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import {
  CARD, CLASSIFIER_CLASSES, type ClassifierSpec, classifierOnnxFile, classifierWeightsFile, type ModelJson, type OutputClass, outputClasses, readBundle, writeModelJson,
} from '../bundle/index.js'
import { type Dataset, type DatasetCase, readDataset, readSplits, SPLITS_FILE } from '../dataset/index.js'
import { NodalError } from '../errors.js'
import { exportOnnxGraph } from '../export/index.js'
import { writeFileAtomic } from '../io/atomic.js'
import { NodalModel } from '../infer/predict.js'
import { saveModule } from '../torch/index.js'
import { MEASURED_FEATURES, type MeasuredFeature, type PatchChannel } from './candidate.js'
import { collectSamples, loadSamples, saveSamples, type SampleSet } from './samples.js'
import { type ClassifierResult, trainClassifier } from './train.js'
import { KEEP_MALIGNANT, KEEP_NODES } from './operating-point.js'

export { MEASURED_FEATURES } from './candidate.js'

/** Side of the classifier's patch (voxels) and its spacing: 48 mm around the candidate. */
export const PATCH_SIZE = 32
export const PATCH_SPACING_MM = 1.5
/** Stored training patches are larger, for random shifts of up to 3 mm. */
export const STORED_PATCH_SIZE = 36
const PET_NORMALIZATION = { scheme: 'pet' as const, clip: 30, scale: 5 }

export interface Stage2Options {
  detector: string
  datasets: string[]
  out: string
  epochs: number
  /** Node classifier features per stage (default DEFAULT_FEATURES). */
  features?: number[]
  seed: number
  threads?: number
  /** Folder for the collected samples (reused when present). */
  cacheDir?: string
  log?: (line: string) => void
  onCase?: (dataset: string, name: string, done: number, total: number) => void
  onEpoch?: (classifier: string, epoch: number, epochs: number, trainLoss: number, valLoss: number) => void
}

/** A stage-1 bundle fit to be a multi-stage pipeline's detector. */
function readDetector(dir: string): ModelJson {
  const json = readBundle(dir)
  if (json.pipeline === 'multi') throw new NodalError('usage', `${dir} is already a multi-stage model; give its stage-1 (node detector) bundle`)
  // an all-nodes detector: background and node (and the border between touching nodes, which prediction folds into them)
  const classes = outputClasses(json).length
  if (classes !== 2) throw new NodalError('usage', `${dir}: stage 1 must be an all-nodes detector (background and node), this one has ${classes} classes`)
  return json
}

export async function trainStage2(o: Stage2Options): Promise<{ bundle: string; classifiers: ClassifierSpec[] }> {
  const detectorJson = readDetector(o.detector)
  const sets: SampleSet[] = []
  for (const root of o.datasets) sets.push(await samplesOf(root, detectorJson, o))
  const withPet = sets.filter((s) => s.channels.includes('PET'))
  const kinds: { name: string; channels: PatchChannel[]; sets: SampleSet[]; measured: MeasuredFeature[] }[] = [
    { name: 'ct', channels: ['CT', 'mask'], sets, measured: MEASURED_FEATURES.filter((f) => f !== 'suv_max') },
  ]
  if (withPet.length) kinds.push({ name: 'petct', channels: ['CT', 'mask', 'PET'], sets: withPet, measured: [...MEASURED_FEATURES] })
  const bundle = resolve(o.out)
  mkdirSync(bundle, { recursive: true })
  const specs: ClassifierSpec[] = []
  for (const kind of kinds) {
    const samples = mergeSamples(kind.sets, kind.channels)
    o.log?.(`stage 2 (${kind.name}): ${samples.records.length} samples from ${new Set(samples.records.map((r) => r.case)).size} cases`)
    o.onEpoch?.(kind.name, 0, o.epochs, NaN, NaN)
    const result = await trainClassifier({
      samples, channels: kind.channels, measured: kind.measured, size: PATCH_SIZE, epochs: o.epochs, seed: o.seed, features: o.features, threads: o.threads,
      onEpoch: (e, n, t, v) => o.onEpoch?.(kind.name, e, n, t, v),
    })
    specs.push(await writeClassifier(bundle, kind.name, kind.channels, kind.measured, result, detectorJson, o.datasets))
    result.model.dispose()
  }
  writeMultiStageBundle(o.detector, bundle, detectorJson, specs)
  return { bundle, classifiers: specs }
}

/**
 * A multi-stage bundle of `detector` and the node classifiers of the multi-stage bundle `from`, as they are
 * (no stage-2 training): for a new detector whose candidates the classifiers already read well. They learnt
 * on the other detector's candidates; their cuts were chosen there.
 */
export function reuseStage2(detector: string, from: string, out: string): { bundle: string; classifiers: ClassifierSpec[] } {
  const detectorJson = readDetector(detector)
  const source = readBundle(from)
  if (source.pipeline !== 'multi' || !source.classifiers?.length) throw new NodalError('usage', `${from}: not a multi-stage model (no node classifiers to take)`)
  const bundle = resolve(out)
  if (bundle === resolve(from)) throw new NodalError('usage', `${out}: give another folder than the one the classifiers come from`)
  mkdirSync(bundle, { recursive: true })
  for (const c of source.classifiers) for (const f of [c.onnx, c.weights]) copyFileSync(join(from, f), join(bundle, f))
  writeMultiStageBundle(detector, bundle, detectorJson, source.classifiers, source.name)
  return { bundle, classifiers: source.classifiers }
}

/** The samples of one dataset: from the cache folder when collected before, else by running stage 1. */
async function samplesOf(root: string, detector: ModelJson, o: Stage2Options): Promise<SampleSet> {
  const ds = readDataset(resolve(root))
  const cache = o.cacheDir ? join(o.cacheDir, `samples_${String(ds.json.name ?? 'dataset').replace(/[^A-Za-z0-9_-]+/g, '_')}`) : null
  if (cache && existsSync(`${cache}.json`)) return loadSamples(cache)
  const parts: SampleSet[] = []
  for (const { folds, cases } of outOfFoldCases(ds, detector)) {
    if (cases.length === 0) continue
    const model = await NodalModel.load(o.detector, { folds, threads: o.threads })
    try {
      parts.push(await collectSamples({
        dataset: ds, cases, size: STORED_PATCH_SIZE,
        spec: { size: PATCH_SIZE, spacing_mm: PATCH_SPACING_MM, ct: detector.channels[0]!.normalization, pet: PET_NORMALIZATION },
        detect: async (ct) => {
          const r = await model.predict([ct], { stages: 'detector' })
          return { instances: r.instances, bboxes: r.nodes.map((n) => n.bbox_voxels), foreground: r.foreground }
        },
        onCase: (name, done, total) => o.onCase?.(String(ds.json.name ?? root), name, done, total),
      }))
    } finally {
      await model.release()
    }
  }
  if (parts.length === 0) throw new NodalError('bad-dataset', `${root}: every case was used to train the detector; stage 2 needs cases it has not seen`)
  const set = mergeSamples(parts, parts[0]!.channels)
  if (cache) {
    mkdirSync(o.cacheDir!, { recursive: true })
    saveSamples(cache, set)
  }
  return set
}

/**
 * Cases stage 1 did not learn from, with the folds to predict them: for the detector's own dataset each
 * trained fold's validation cases by that fold alone; for any other dataset every case by all folds.
 */
function outOfFoldCases(ds: Dataset, detector: ModelJson): { folds: (number | 'all')[] | undefined; cases: DatasetCase[] }[] {
  if (ds.json.name !== detector.plans.dataset.name) return [{ folds: undefined, cases: ds.cases }]
  const splitsFile = join(ds.root, 'nodal', SPLITS_FILE)
  if (!existsSync(splitsFile)) throw new NodalError('bad-dataset', `${ds.root} is the detector's training dataset but has no ${SPLITS_FILE}: cannot tell which cases it did not train on`)
  const splits = readSplits(splitsFile)
  return detector.folds.filter((f) => f.fold !== 'all').map((f) => {
    const val = new Set(splits[f.fold as number]?.val ?? [])
    return { folds: [f.fold], cases: ds.cases.filter((c) => val.has(c.name)) }
  })
}

/** Several sample sets as one, keeping only `channels` (in that order). */
export function mergeSamples(sets: SampleSet[], channels: PatchChannel[]): SampleSet {
  const size = sets[0]!.size
  if (sets.some((s) => s.size !== size)) throw new NodalError('bad-input', 'sample sets of different patch sizes')
  const voxels = size ** 3
  const total = sets.reduce((a, s) => a + s.records.length, 0)
  const patches = new Float32Array(total * channels.length * voxels)
  let at = 0
  for (const s of sets) {
    const picked = channels.map((c) => {
      const i = s.channels.indexOf(c)
      if (i < 0) throw new NodalError('bad-input', `samples without a ${c} channel`)
      return i
    })
    s.records.forEach((_, r) => {
      picked.forEach((ch) => {
        patches.set(s.patches.subarray((r * s.channels.length + ch) * voxels, (r * s.channels.length + ch + 1) * voxels), at)
        at += voxels
      })
    })
  }
  return { channels, size, spacing_mm: sets[0]!.spacing_mm, records: sets.flatMap((s) => s.records), patches }
}

async function writeClassifier(bundle: string, name: string, channels: PatchChannel[], measured: MeasuredFeature[], r: ClassifierResult, detector: ModelJson, datasets: string[]): Promise<ClassifierSpec> {
  const onnx = exportOnnxGraph(r.model, [
    { name: 'patch', dims: ['N', channels.length, PATCH_SIZE, PATCH_SIZE, PATCH_SIZE] },
    { name: 'measured', dims: ['N', measured.length] },
  ], (g, [patch, features]) => r.model.toOnnxWithCam(g, patch!, features!))
  writeFileAtomic(join(bundle, classifierOnnxFile(name)), onnx)
  await saveModule(r.model, join(bundle, classifierWeightsFile(name)), { classifier: name })
  return {
    name, onnx: classifierOnnxFile(name), weights: classifierWeightsFile(name),
    patch: { channels, size: PATCH_SIZE, spacing_mm: PATCH_SPACING_MM, ct: detector.channels[0]!.normalization, pet: PET_NORMALIZATION },
    measured: { names: measured, mean: r.measuredMean, std: r.measuredStd },
    network: { name: 'node_classifier', config: { ...r.model.config } as unknown as Record<string, unknown> },
    classes: [...CLASSIFIER_CLASSES], reject_below: r.operatingPoint.reject_below, malignant_above: r.operatingPoint.malignant_above,
    training: { ...r.training, datasets: datasets.map((d) => resolve(d).split('/').pop()) },
    validation: { ...r.validation, node_recall: r.operatingPoint.node_recall, malignant_sensitivity: r.operatingPoint.malignant_sensitivity, benign_specificity: r.operatingPoint.benign_specificity },
  }
}

/** The pipeline's outputs: benign and malignant nodes, as dataset labels 1 and 2 (LABELS). */
const PIPELINE_CLASSES: OutputClass[] = [
  { index: 0, name: 'background', dataset_labels: [0] },
  { index: 1, name: 'benign_node', dataset_labels: [1] },
  { index: 2, name: 'malignant_node', dataset_labels: [2] },
]

function writeMultiStageBundle(detectorDir: string, bundle: string, detector: ModelJson, specs: ClassifierSpec[], classifiersFrom?: string): void {
  if (resolve(detectorDir) !== bundle) {
    for (const f of detector.folds) copyFileSync(join(detectorDir, f.onnx), join(bundle, f.onnx))
  }
  const json: ModelJson = {
    ...detector, name: `${detector.name} + node classifier`, created: new Date().toISOString(), pipeline: 'multi', classifiers: specs,
    pipeline_classes: PIPELINE_CLASSES, target: 'classes',
    folds: detector.folds.map((f) => ({ ...f })),
    ...(classifiersFrom ? { classifiers_from: classifiersFrom } : {}),
  }
  writeModelJson(bundle, json)
  const detectorCard = existsSync(join(detectorDir, CARD)) ? readFileSync(join(detectorDir, CARD), 'utf8') : ''
  writeFileSync(join(bundle, CARD), stage2Card(json, specs) + '\n# Stage 1: the node detector\n\n' + detectorCard.replace(/^# /m, '## '))
}

function stage2Card(json: ModelJson, specs: ClassifierSpec[]): string {
  const f = (v: unknown, d = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : 'n/a')
  return [
    `# ${json.name}`, '',
    json.synthetic_training_data ? '**Trained on synthetic data (nodal phantom and synthetic nodes inserted into real CT). Not for clinical use.**' : '**Research use only. Not for clinical use.**', '',
    'Multi-stage: stage 1 finds every node (a 3D U-Net, below); stage 2 classifies each candidate as not a node, benign or malignant from a 48 mm patch (CT, the candidate\'s mask, PET when given) and its measured features. A candidate with P(node) below the classifier\'s reject cut is dropped; a kept node with P(malignant | node) at or above its malignant cut is malignant. Both cuts are chosen on the validation cases: the highest that keeps ' + `${KEEP_NODES * 100}% of true nodes and ${KEEP_MALIGNANT * 100}% of malignant nodes, never above 0.5.`, '',
    '## Stage 2: node classifiers', '',
    ...(json.classifiers_from ? [`Taken as they were from \`${json.classifiers_from}\` (nodal train --classifiers-from): they learnt on that bundle's detector's candidates, and their figures below were measured there.`, ''] : []),
    '| classifier | channels | measured features | training samples (not node / benign / malignant) | cases | validation cases | AUC malignant vs benign | AUC node vs not | accuracy | reject cut (node recall) | malignant cut (sensitivity / specificity) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...specs.map((s) => {
      const t = s.training as { by_label: number[]; cases: number }
      return `| ${s.name} | ${s.patch.channels.join(', ')} | ${s.measured.names.join(', ')} | ${t.by_label.join(' / ')} | ${t.cases} | ${s.validation.cases} | ${f(s.validation.auc_malignant)} | ${f(s.validation.auc_node)} | ${f(s.validation.accuracy)} | ${f(s.reject_below)} (${f(s.validation.node_recall)}) | ${f(s.malignant_above)} (${f(s.validation.malignant_sensitivity)} / ${f(s.validation.benign_specificity)}) |`
    }),
    '', 'Validation: whole cases held out from stage 2\'s training. Stage 1 did not train on them either, but it may have trained on other cases made from the same real scans (nodes inserted with other seeds).', '',
  ].join('\n')
}
