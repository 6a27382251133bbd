/**
 * The model bundle's schema: file names, model.json's types and its checks, with no file access, so
 * that the browser (nodal view's in-page inference) reads a bundle through the same definitions as
 * `nodal predict`. src/bundle/index.ts adds reading and writing on disk.
 */
import { NodalError } from '../errors.js'
import type { Plans } from '../plan/plans.js'
import type { Normalization } from '../preprocess/normalize.js'
import type { MeasuredFeature, PatchSpec } from '../classify/candidate.js'

export const MODEL_JSON = 'model.json'
export const CARD = 'card.md'
export const BUNDLE_FORMAT = 'nodal-model'
export const BUNDLE_VERSION = 1

export function onnxFile(fold: number | 'all'): string {
  return `fold_${fold}.onnx`
}

export function weightsFile(fold: number | 'all'): string {
  return `fold_${fold}.safetensors`
}

export function classifierOnnxFile(name: string): string {
  return `classifier_${name}.onnx`
}

export function classifierWeightsFile(name: string): string {
  return `classifier_${name}.safetensors`
}

/** Stage 2's classes, in the order of its outputs. */
export const CLASSIFIER_CLASSES = ['not_node', 'benign', 'malignant'] as const

/** A multi-stage bundle's node classifier (stage 2), as model.json records it. */
export interface ClassifierSpec {
  /** Which inputs it serves: 'ct', or 'petct' (used when PET is given). */
  name: string
  onnx: string
  weights: string
  patch: PatchSpec
  measured: { names: MeasuredFeature[]; mean: number[]; std: number[] }
  network: { name: 'node_classifier'; config: Record<string, unknown> }
  classes: string[]
  /** Candidates whose probability of being a node (1 - P(not_node)) is below this are dropped. */
  reject_below: number
  /** A kept node is malignant when P(malignant | node) >= this (0.5 in bundles written before it was chosen on validation). */
  malignant_above?: number
  training: Record<string, unknown>
  validation: Record<string, number | null>
}

export interface OutputClass {
  /** Network output channel. */
  index: number
  name: string
  /** The dataset label values this class stands for. */
  dataset_labels: number[]
}

export interface FoldRecord {
  fold: number | 'all'
  onnx: string
  weights: string
  iterations: number
  training_seconds: number
  validation_cases: number
  validation: Record<string, number | number[] | null> | null
}

export interface ModelJson {
  format: typeof BUNDLE_FORMAT
  version: number
  name: string
  created: string
  nodal_version: string
  target: string
  /** Output channels of the network, background first. */
  classes: OutputClass[]
  channels: { name: string; normalization: Normalization }[]
  network: { name: string; config: Record<string, unknown> }
  patch_size: [number, number, number]
  target_spacing: [number, number, number]
  loss: string
  plans: Plans
  folds: FoldRecord[]
  /** True when the model learned from synthetic data only. */
  synthetic_training_data: boolean
  intended_use: string
  /** The weights training started from (nodal train --init-from), when it was fine-tuning. */
  initialized_from?: string
  /** 'multi': a node detector (this bundle's network) followed by a node classifier (`classifiers`). */
  pipeline?: 'single' | 'multi'
  classifiers?: ClassifierSpec[]
  /** Multi-stage: the bundle whose classifiers were taken as they were (nodal train --classifiers-from), when not trained with this detector. */
  classifiers_from?: string
  /** Multi-stage: the classes the pipeline outputs (background, benign, malignant), replacing `classes` in outputs. */
  pipeline_classes?: OutputClass[]
}

/**
 * The network class (and dataset label) of the voxels where a node touches another (nodal dataset borders):
 * prediction splits nodes along it and gives its voxels to the nodes, so it is never an output class.
 */
export const BORDER_CLASS = 'node_border'
/** A detector's class for the inner part of each node (src/dataset/borders.ts): the seeds that keep touching nodes apart. */
export const CORE_CLASS = 'node_core'
/** Classes that only help to separate nodes: they fold into the node class and never appear in outputs. */
export function isHelperClass(name: string): boolean {
  return name === BORDER_CLASS || name === CORE_CLASS
}

/**
 * A border or core bundle's helper class: which kind, its index, and the node class its voxels fold into;
 * null for other bundles.
 */
export function helperClass(classes: OutputClass[]): { kind: 'border' | 'core'; index: number; node: number } | null {
  const index = classes.findIndex((c) => isHelperClass(c.name))
  if (index <= 0) return null
  return { kind: classes[index]!.name === BORDER_CLASS ? 'border' : 'core', index, node: classes.findIndex((_, i) => i > 0 && i !== index) }
}

/** The classes a bundle's outputs (labels, nodes.json) use: the pipeline's for a multi-stage bundle; never the border or core. */
export function outputClasses(json: ModelJson): OutputClass[] {
  if (json.pipeline === 'multi' && json.pipeline_classes) return json.pipeline_classes
  return json.classes.filter((c) => !isHelperClass(c.name))
}

function fail(dir: string, problem: string): never {
  throw new NodalError('bad-model', `${dir}: ${problem}`)
}

/** Checks a parsed model.json (format, version, folds, classes, channels, the multi-stage fields); `where` names it in errors. */
export function checkModelJson(json: ModelJson, where: string): ModelJson {
  if (json.format !== BUNDLE_FORMAT) fail(where, `${MODEL_JSON} is not a nodal model (format ${JSON.stringify(json.format)})`)
  if (json.version !== BUNDLE_VERSION) fail(where, `model format version ${json.version}; this nodal reads version ${BUNDLE_VERSION}`)
  if (!Array.isArray(json.folds) || json.folds.length === 0) fail(where, `${MODEL_JSON} lists no trained folds`)
  if (!Array.isArray(json.classes) || json.classes.length < 2) fail(where, `${MODEL_JSON} needs at least two output classes`)
  if (!Array.isArray(json.channels) || json.channels.length === 0) fail(where, `${MODEL_JSON} lists no input channels`)
  if (json.pipeline === 'multi') {
    if (!Array.isArray(json.classifiers) || json.classifiers.length === 0) fail(where, `${MODEL_JSON} is a multi-stage model but lists no classifiers`)
    if (!Array.isArray(json.pipeline_classes) || json.pipeline_classes.length !== 3) fail(where, `${MODEL_JSON} is a multi-stage model without its three pipeline_classes`)
  }
  return json
}
