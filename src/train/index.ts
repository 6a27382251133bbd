/**
 * `nodal train`: plans + preprocessed cache -> a model bundle (src/bundle). For each requested fold it
 * trains (src/train/loop.ts), exports the network to ONNX without its deep-supervision heads, copies the
 * weights, and records the fold's validation metrics in model.json and card.md.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { BORDER_CLASS, BUNDLE_FORMAT, BUNDLE_VERSION, isHelperClass, type FoldRecord, type ModelJson, type OutputClass, onnxFile, readBundle, weightsFile, writeModelJson } from '../bundle/index.js'
import { type Dataset, isSyntheticDataset, loadOrCreateSplits, readDataset } from '../dataset/index.js'
import { NodalError } from '../errors.js'
import { saveOnnx } from '../export/index.js'
import { PLANS_FILE, readPlans, type Plans } from '../plan/index.js'
import { type CacheHeader, readCacheHeader } from '../preprocess/cache.js'
import { saveModule } from '../torch/index.js'
import { writeCard } from './card.js'
import { CHECKPOINT_LAST, type FoldTraining, trainFold } from './loop.js'
import { classesFor, type Target, targetLookup } from './sampler.js'
import type { ValidationResult } from './validate.js'

export { TARGETS, type Target } from './sampler.js'
export { LOSS_NAMES } from './loss.js'

export const NETWORKS: Record<string, string> = { unet: 'unet', resunet: 'resenc_unet', 'attention-unet': 'attention_unet' }
export const FOLDS = 5
export const SPLIT_SEED = 12345

/** What one fold's training takes from the command, plus where the plan is and which folds to train. */
export interface TrainOptions extends Pick<FoldTraining, 'target' | 'loss' | 'iterations' | 'minutes' | 'resume' | 'initWeights' | 'seed' | 'threads'
  | 'workers' | 'augment' | 'onProgress' | 'onValidation' | 'log' | 'shouldStop'> {
  /** The folder holding plans.json and preprocessed/ (nodal plan's --out). */
  planDir: string
  out?: string
  fold: number | 'all'
  model: keyof typeof NETWORKS
  epochIterations?: number
  validateEveryMinutes?: number
}

export function defaultBundleDir(planDir: string, model: string, target: string): string {
  return join(resolve(planDir), 'models', `${model}_${target}`)
}

export function classesOf(target: Target, ds: Dataset): OutputClass[] {
  const { foreground, malignant, names } = ds.labels
  if (target === 'all-nodes') return [{ index: 0, name: 'background', dataset_labels: [0] }, { index: 1, name: 'node', dataset_labels: foreground }]
  if (target === 'malignant') {
    if (malignant.length === 0) throw new NodalError('bad-dataset', `${ds.root}: --target malignant needs a label named malignant (dataset.json labels: ${[...names.values()].join(', ')})`)
    return [{ index: 0, name: 'background', dataset_labels: [0, ...foreground.filter((v) => !malignant.includes(v))] }, { index: 1, name: 'malignant_node', dataset_labels: malignant }]
  }
  const classes = [{ index: 0, name: 'background', dataset_labels: [0] }, ...foreground.map((v, i) => ({ index: i + 1, name: names.get(v)!, dataset_labels: [v] }))]
  return helperDataset(ds) ? withSourceLabels(classes, ds) : classes
}

/** A dataset made by nodal dataset borders or cores: label 1 every node of its source, label 2 a helper class. */
function helperDataset(ds: Dataset): boolean {
  return [...ds.labels.names.values()].some(isHelperClass)
}

/**
 * A helper dataset's node class stands for the source's node labels (dataset.json "nodal": {"node_labels"}), so
 * its predictions evaluate against the source (benign and malignant together); the helper class never leaves
 * nodal predict and stands for no label.
 */
function withSourceLabels(classes: OutputClass[], ds: Dataset): OutputClass[] {
  const labels = (ds.json.nodal as { node_labels?: unknown } | undefined)?.node_labels
  const source = Array.isArray(labels) && labels.every((v) => Number.isInteger(v)) ? labels as number[] : null
  return classes.map((c) => (isHelperClass(c.name) ? { ...c, dataset_labels: [] }
    : c.index > 0 && source ? { ...c, dataset_labels: source } : c))
}

export async function trainModel(o: TrainOptions): Promise<{ bundle: string; folds: FoldRecord[]; stopped: boolean }> {
  const plans = readPlans(join(o.planDir, PLANS_FILE))
  const ds = readDataset(resolve(o.planDir, plans.dataset.root))
  const network = NETWORKS[o.model]
  if (!network) throw new NodalError('usage', `unknown --model ${o.model} (known: ${Object.keys(NETWORKS).join(', ')})`)
  const cacheDir = join(o.planDir, plans.preprocessed)
  const headers = new Map(ds.cases.map((c) => [c.name, readCacheHeader(cacheDir, c.name)]))
  // 5 folds, or one per patient for tiny datasets (nnU-Net does the same)
  const patients = new Set(ds.cases.map((c) => c.patient ?? c.name)).size
  const splits = loadOrCreateSplits(o.planDir, ds.cases.map((c) => ({ name: c.name, patient: c.patient })), Math.min(FOLDS, patients), SPLIT_SEED)
  if (o.fold !== 'all' && o.fold >= splits.length) throw new NodalError('usage', `--fold ${o.fold}: this dataset has ${splits.length} folds (0-${splits.length - 1})`)
  const bundle = resolve(o.out ?? defaultBundleDir(o.planDir, o.model, o.target))
  mkdirSync(bundle, { recursive: true })
  const classes = classesOf(o.target, ds)
  const lookup = targetLookup(o.target, ds.labels.foreground, ds.labels.malignant, ds.labels.ignore)
  const folds = o.fold === 'all' ? [{ train: ds.cases.map((c) => c.name), val: [] as string[] }] : [splits[o.fold]!]
  const pick = (names: string[]) => names.map((n) => headers.get(n)!).filter(Boolean) as CacheHeader[]
  const records: FoldRecord[] = []
  let stopped = false
  for (const split of folds) {
    const foldDir = join(bundle, `fold_${o.fold}`)
    const { planDir: _planDir, out: _out, fold: _fold, model: _model, ...common } = o
    const result = await trainFold({
      ...common, plans, cacheDir, train: pick(split.train), val: pick(split.val), out: foldDir, network,
      classes: classesFor(o.target, ds.labels.foreground), lookup, favoured: [...ds.labels.malignant, ...ds.labels.foreground.filter((v) => ds.labels.names.get(v) === BORDER_CLASS)],
      epochIterations: o.epochIterations ?? 50, validateEveryMinutes: o.validateEveryMinutes ?? 15,
    })
    if (result.stopped) {
      stopped = true
      result.model.dispose()
      break
    }
    result.model.eval()
    await saveOnnx(result.model, join(bundle, onnxFile(o.fold)), { inputChannels: plans.channels.length, spatialDims: 3 })
    await saveModule(result.model, join(bundle, weightsFile(o.fold)), { fold: String(o.fold), target: o.target })
    result.model.dispose()
    records.push({
      fold: o.fold, onnx: onnxFile(o.fold), weights: weightsFile(o.fold), iterations: result.state.iteration,
      training_seconds: Math.round(result.state.elapsedSeconds), validation_cases: split.val.length,
      validation: result.validation ? validationRecord(result.validation) : null,
    })
  }
  if (records.length) {
    const json = modelJson(bundle, plans, ds, o, network, classes, records)
    writeModelJson(bundle, json)
    writeCard(bundle, json, ds)
  }
  return { bundle, folds: records, stopped }
}

function validationRecord(v: ValidationResult): Record<string, number | number[] | null> {
  return { ...v, seconds: Math.round(v.seconds) }
}

/** model.json, keeping the other folds a previous run of this bundle recorded. */
function modelJson(bundle: string, plans: Plans, ds: Dataset, o: TrainOptions, network: string, classes: OutputClass[], records: FoldRecord[]): ModelJson {
  const previous = existsSync(join(bundle, 'model.json')) ? readBundle(bundle).folds.filter((f) => !records.some((r) => r.fold === f.fold)) : []
  const synthetic = isSyntheticDataset(ds.json)
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    name: `${ds.json.name ?? 'dataset'} ${o.model} ${o.target}`,
    created: new Date().toISOString(),
    nodal_version: '0.1.0',
    target: o.target,
    classes,
    channels: plans.channels.map((c) => ({ name: c.name, normalization: c.normalization })),
    network: { name: network, config: { ...plans.network.config, numClasses: classes.length } as unknown as Record<string, unknown> },
    patch_size: plans.patch_size,
    target_spacing: plans.target_spacing,
    loss: o.loss,
    plans,
    folds: [...previous, ...records].sort((a, b) => String(a.fold).localeCompare(String(b.fold))),
    synthetic_training_data: synthetic,
    intended_use: synthetic
      ? 'Research and software testing only. Trained on synthetic data; not for clinical use.'
      : 'Research use. Not a medical device; not for clinical use without validation.',
    ...(o.initWeights ? { initialized_from: o.initWeights } : {}),
  }
}

export { CHECKPOINT_LAST }
