/**
 * `nodal plan`: dataset -> fingerprint -> plans.json + preprocessed cache. Each case is read once for the
 * fingerprint (and checked: channels and label on one grid, only declared labels) and once more to be
 * preprocessed with the finished plan.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { releaseTemp, trackTemp } from '../io/temp.js'
import { availableParallelism } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { checkCaseVolumes, type Dataset, type DatasetCase, readDataset } from '../dataset/index.js'
import { NodalError } from '../errors.js'
import { writeFileAtomic } from '../io/atomic.js'
import { readVolume } from '../io/index.js'
import { preprocessCase } from '../preprocess/index.js'
import { writeCachedCase } from '../preprocess/cache.js'
import type { Volume } from '../volume/volume.js'
import { chooseConfiguration } from './budget.js'
import { type CaseFingerprint, fingerprintCase, poolFingerprints } from './fingerprint.js'
import { planNormalization } from './normalization.js'
import { PLANS_FORMAT, PLANS_VERSION, type Plans, type NetworkPlan, type Triple, readPlans } from './plans.js'

export * from './plans.js'
export { dataSpacing, coarseSpacing, nodeLimitMm } from './spacing.js'
export { topologyFor, unetConfigFor } from './network.js'

export const PLANS_FILE = 'plans.json'
export const PREPROCESSED_DIR = 'preprocessed'

export interface PlanOptions {
  dataset: string
  /** Output folder for plans.json and the cache; default <dataset>/nodal. */
  out?: string
  minutes: number
  threads?: number
  /** Iterations the budget must buy at least; default 4000. */
  minIterations?: number
  batch?: number
  network?: string
  /** Number of output classes the network is timed with; default: labels in dataset.json without ignore. */
  numClasses?: number
  onProgress?: (stage: string, done: number, total: number) => void
  log?: (line: string) => void
  /** Checked between cases: true stops planning, leaving no partial output. */
  shouldStop?: () => boolean
  /** Another dataset's plans.json: keep its spacing, normalisation, patch, batch and network (nnU-Net's
   *  plans transfer), so a bundle trained with it can be fine-tuned on this dataset; no timing. */
  plansFrom?: string
  /** For tests: replaces the real step timing. */
  timeStep?: (network: NetworkPlan, patch: Triple, batch: number, spacing: Triple) => Promise<number>
}

export function defaultPlanDir(dataset: string): string {
  return join(resolve(dataset), 'nodal')
}

async function readCase(c: DatasetCase): Promise<{ channels: Volume[]; label: Volume }> {
  const channels: Volume[] = []
  for (const path of c.images) channels.push(await readVolume(path))
  if (!c.label) throw new NodalError('bad-dataset', `case "${c.name}": has no label file in labelsTr`)
  const label = await readVolume(c.label)
  return { channels, label }
}

export async function planDataset(o: PlanOptions): Promise<{ plans: Plans; path: string }> {
  const ds = readDataset(o.dataset)
  if (ds.cases.length < 2) throw new NodalError('bad-dataset', `${o.dataset}: needs at least 2 labelled cases to plan training, found ${ds.cases.length}`)
  const out = resolve(o.out ?? defaultPlanDir(o.dataset))
  const threads = o.threads ?? availableParallelism()
  const log = o.log ?? (() => {})
  const fingerprints: CaseFingerprint[] = []
  for (const [i, c] of ds.cases.entries()) {
    if (o.shouldStop?.()) throw new NodalError('interrupted', 'planning interrupted while reading the dataset; nothing was written')
    const { channels, label } = await readCase(c)
    checkCaseVolumes(c, { channels: channels.map((v) => v.grid), label }, ds.labels)
    fingerprints.push(fingerprintCase(channels, label, ds.labels.ignore))
    o.onProgress?.('fingerprint', i + 1, ds.cases.length)
  }
  const fingerprint = poolFingerprints(fingerprints, ds.channels.length)
  const cacheDir = join(out, PREPROCESSED_DIR)
  if (o.plansFrom) {
    const plans = transferPlans(readPlans(o.plansFrom), o.plansFrom, ds, out, fingerprint)
    log(`configuration taken from ${o.plansFrom}: spacing, normalisation, patch, batch and network`)
    return writePlans(ds, plans, cacheDir, out, o)
  }
  const channelPlans = ds.channels.map((ch) => ({ index: ch.index, name: ch.name, normalization: planNormalization(ch.name, fingerprint, ch.index) }))
  const numClasses = o.numClasses ?? ds.labels.foreground.length + 1
  const batch = o.batch ?? 2
  const minIterations = o.minIterations ?? 4000
  log(`planning for ${o.minutes} min on ${threads} thread(s): timing candidate networks`)
  const choice = await chooseConfiguration(fingerprint, {
    minutes: o.minutes, threads, minIterations, batch, inChannels: ds.channels.length, numClasses,
    networkName: o.network ?? 'unet', log, timeStep: o.timeStep,
  })
  const plans: Plans = {
    format: PLANS_FORMAT,
    version: PLANS_VERSION,
    axis_order: 'zyx',
    dataset: {
      name: String(ds.json.name ?? ''),
      root: relative(out, ds.root) || '.',
      channels: ds.channels.map((c) => c.name),
      labels: Object.fromEntries([...ds.labels.names].map(([v, n]) => [n, v])),
      ignore_label: ds.labels.ignore,
    },
    fingerprint,
    target_spacing: choice.spacing,
    channels: channelPlans,
    patch_size: choice.patch,
    batch_size: batch,
    network: choice.network,
    training: { optimizer: 'sgd', initial_lr: 0.01, momentum: 0.99, nesterov: true, weight_decay: 3e-5, foreground_oversampling: 0.33, deep_supervision: true },
    budget: {
      minutes: o.minutes, threads, measured_step_ms: Math.round(choice.stepMs), expected_iterations: choice.expectedIterations,
      min_iterations: minIterations, machine: choice.machine, candidates: choice.candidates,
    },
    preprocessed: PREPROCESSED_DIR,
  }
  return writePlans(ds, plans, cacheDir, out, o)
}

async function writePlans(ds: Dataset, plans: Plans, cacheDir: string, out: string, o: PlanOptions): Promise<{ plans: Plans; path: string }> {
  await writeCache(ds, plans, cacheDir, o)
  mkdirSync(out, { recursive: true })
  const path = join(out, PLANS_FILE)
  writeFileAtomic(path, JSON.stringify(plans, null, 2) + '\n')
  return { plans, path }
}

/**
 * The source plans' configuration for this dataset: its own fingerprint and dataset block, the source's
 * spacing, normalisation (CT clip and z-score from the source's foreground, so the network sees the same
 * inputs), patch, batch, network and training settings. Channels must match by name and order, and the
 * label set must give the network the same number of outputs.
 */
function transferPlans(source: Plans, sourcePath: string, ds: Dataset, out: string, fingerprint: Plans['fingerprint']): Plans {
  const names = ds.channels.map((c) => c.name)
  if (JSON.stringify(names) !== JSON.stringify(source.dataset.channels)) {
    throw new NodalError('bad-input', `${sourcePath}: plans for channels ${source.dataset.channels.join(', ')}, but ${ds.root} has ${names.join(', ')}`)
  }
  const classes = ds.labels.foreground.length + 1
  if (classes !== source.network.config.numClasses) {
    throw new NodalError('bad-input', `${sourcePath}: its network has ${source.network.config.numClasses} outputs, but ${ds.root}'s labels make ${classes} classes`)
  }
  return {
    ...source,
    dataset: {
      name: String(ds.json.name ?? ''),
      root: relative(out, ds.root) || '.',
      channels: names,
      labels: Object.fromEntries([...ds.labels.names].map(([v, n]) => [n, v])),
      ignore_label: ds.labels.ignore,
    },
    fingerprint,
    preprocessed: PREPROCESSED_DIR,
    transferred_from: resolve(sourcePath),
  }
}

/** Preprocesses every case into a fresh cache folder, renamed into place when complete. */
async function writeCache(ds: Dataset, plans: Plans, cacheDir: string, o: PlanOptions): Promise<void> {
  const tmp = trackTemp(`${cacheDir}.tmp-${process.pid}`)
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  try {
    for (const [i, c] of ds.cases.entries()) {
      const { channels, label } = await readCase(c)
      if (o.shouldStop?.()) throw new NodalError('interrupted', `planning interrupted while preprocessing (${i} of ${ds.cases.length} cases done); nothing was written`)
      writeCachedCase(tmp, c.name, preprocessCase(channels, plans, label), ds.labels.ignore)
      o.onProgress?.('preprocess', i + 1, ds.cases.length)
    }
    if (existsSync(cacheDir)) rmSync(cacheDir, { recursive: true })
    renameSync(tmp, cacheDir)
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    throw e
  } finally {
    releaseTemp(tmp)
  }
}
