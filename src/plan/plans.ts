/**
 * plans.json: the single contract between planning, preprocessing, training and prediction (as nnU-Net's
 * plans file). Every per-axis list is in tensor order [z, y, x] = [slice, row, column] = the voxel axes
 * (k, j, i) of the source volume, so it reads the same as the network's input shape.
 * A user may edit it (patch size, batch size, features, iterations); readPlans checks what it needs.
 */
import { existsSync, readFileSync } from 'node:fs'
import { NodalError } from '../errors.js'
import type { UNetConfig } from '../models/index.js'
import type { Normalization } from '../preprocess/normalize.js'

export const PLANS_FORMAT = 'nodal-plans'
export const PLANS_VERSION = 1

export type Triple = [number, number, number]

export interface ChannelPlan {
  index: number
  name: string
  normalization: Normalization
}

export interface Fingerprint {
  cases: number
  /** Per case, [z, y, x] mm and voxels. */
  spacings: Triple[]
  shapes: Triple[]
  median_spacing: Triple
  median_shape: Triple
  /** Per channel: intensity statistics of the foreground (label > 0) voxels, pooled over cases. */
  foreground_intensity: { channel: number; mean: number; std: number; p00_5: number; p99_5: number; min: number; max: number }[]
  /** Smallest short axis (mm) among the foreground components measured, per label id; null when none. */
  smallest_node_mm: number | null
  /** Median short axis (mm) of the foreground components. */
  median_node_mm: number | null
}

export interface NetworkPlan {
  /** 'unet' | 'resenc_unet' | 'attention_unet' (src/models registry). */
  name: string
  config: UNetConfig
}

export interface BudgetCandidate {
  spacing: Triple
  patch: Triple
  base_features: number
  batch: number
  /** Measured on this machine, or null when the cost model ruled it out. */
  step_ms: number | null
  predicted_step_ms: number
  fits: boolean
}

export interface Plans {
  format: typeof PLANS_FORMAT
  version: number
  axis_order: 'zyx'
  dataset: { name: string; root: string; channels: string[]; labels: Record<string, number>; ignore_label: number | null }
  fingerprint: Fingerprint
  target_spacing: Triple
  channels: ChannelPlan[]
  patch_size: Triple
  batch_size: number
  network: NetworkPlan
  training: {
    optimizer: 'sgd'
    initial_lr: number
    momentum: number
    nesterov: boolean
    weight_decay: number
    /** Fraction of patches centred on foreground. */
    foreground_oversampling: number
    deep_supervision: boolean
  }
  budget: {
    minutes: number
    threads: number
    /** Measured on this machine while planning: one training step of the chosen network and batch, plus the
     *  share of the batch's augmentation (timed on one core) that the augmentation worker takes from the step. */
    measured_step_ms: number
    expected_iterations: number
    min_iterations: number
    machine: string
    candidates: BudgetCandidate[]
  }
  /** Folder of the preprocessed cache, relative to plans.json's folder. */
  preprocessed: string
  /** Set when the configuration (spacing, normalisation, patch, network) was taken from another dataset's
   *  plans (nodal plan --plans-from), so that a bundle trained on those plans can be fine-tuned here. */
  transferred_from?: string
}

function fail(path: string, problem: string): never {
  throw new NodalError('bad-plans', `${path}: ${problem}`)
}

function isTriple(v: unknown): v is Triple {
  return Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0)
}

/** Reads and checks plans.json (format, version, the fields prediction and training rely on). */
export function readPlans(path: string): Plans {
  if (!existsSync(path)) throw new NodalError('not-found', `${path}: no plans.json here (run nodal plan first)`)
  let plans: Plans
  try {
    plans = JSON.parse(readFileSync(path, 'utf8')) as Plans
  } catch (e) {
    fail(path, `not valid JSON (${(e as Error).message.split('\n')[0]})`)
  }
  checkPlans(plans, path)
  return plans
}

export function checkPlans(plans: Plans, path: string): void {
  if (plans?.format !== PLANS_FORMAT) fail(path, `not a nodal plans file (format ${JSON.stringify(plans?.format)})`)
  if (plans.version !== PLANS_VERSION) fail(path, `plans version ${plans.version}; this nodal reads version ${PLANS_VERSION}`)
  if (!isTriple(plans.target_spacing)) fail(path, 'target_spacing must be three positive numbers [z, y, x] mm')
  if (!isTriple(plans.patch_size) || plans.patch_size.some((v) => !Number.isInteger(v))) fail(path, 'patch_size must be three positive integers [z, y, x]')
  if (!Number.isInteger(plans.batch_size) || plans.batch_size < 1) fail(path, 'batch_size must be a positive integer')
  if (!Array.isArray(plans.channels) || plans.channels.length === 0) fail(path, 'channels is empty')
  const strides = plans.network?.config?.strides
  if (!Array.isArray(strides)) fail(path, 'network.config.strides is missing')
  const total = [0, 1, 2].map((a) => strides.reduce((p, s) => p * (s[a] ?? 1), 1))
  plans.patch_size.forEach((p, a) => {
    if (p % total[a]! !== 0) fail(path, `patch_size[${a}] = ${p} is not divisible by the network's total stride ${total[a]} on that axis`)
  })
}
