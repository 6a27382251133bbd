/**
 * The training loop of one fold: batches from the loader, steps, poly learning rate, an epoch's log row and
 * checkpoint every `epochIterations`, validation on whole held-out cases every `validateEveryMinutes` and at
 * the end, the best checkpoint by validation Dice. With a time budget the number of iterations is fixed once,
 * from the measured speed of the first iterations, and stored in the checkpoint, so a resumed run keeps the
 * same learning-rate schedule.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { NodalError } from '../errors.js'
import { buildModel, type UNet } from '../models/index.js'
import type { Plans } from '../plan/plans.js'
import { type CacheHeader } from '../preprocess/cache.js'
import { normalizedFloor } from '../preprocess/normalize.js'
import { SGD, loadSafetensors, manualSeed, polySchedule, setNumThreads, tensor, tidy } from '../torch/index.js'
import { defaultAugmentOptions } from './augment/index.js'
import { type LoopState, loadCheckpoint, saveCheckpoint } from './checkpoint.js'
import { BatchLoader } from './loader.js'
import { TrainingLog } from './log.js'
import { lossByName } from './loss.js'
import { regionFor, type Target } from './sampler.js'
import { trainStep } from './step.js'
import { type ValidationResult, validate } from './validate.js'

export const CHECKPOINT_LAST = 'checkpoint_last.safetensors'
export const CHECKPOINT_BEST = 'checkpoint_best.safetensors'
export const TRAINING_LOG = 'training_log.csv'
export const TRAINING_PLOT = 'training_progress.png'
export const INTERIM_VALIDATION_CASES = 3

export interface FoldTraining {
  plans: Plans
  cacheDir: string
  train: CacheHeader[]
  val: CacheHeader[]
  /** Output folder of this fold (checkpoints, log, plot). */
  out: string
  network: string
  target: Target
  classes: number
  lookup: Uint8Array
  /** Labels the sampler favours (SamplerSettings.favoured). */
  favoured: number[]
  loss: string
  /** Fixed iteration count, or a wall-time budget. */
  iterations?: number
  minutes?: number
  resume: boolean
  /** Start from these weights (fine-tuning): a safetensors file of the same network, e.g. a bundle's fold_0.safetensors. */
  initWeights?: string
  seed: number
  threads: number
  workers: number
  augment: boolean
  epochIterations: number
  validateEveryMinutes: number
  onProgress?: (p: { iteration: number; total: number; loss: number; startIteration: number; validation: ValidationResult | null }) => void
  onValidation?: (done: number, total: number) => void
  log?: (line: string) => void
  /** Stop cleanly (checkpoint written) when this returns true, e.g. after SIGINT. */
  shouldStop?: () => boolean
}

export interface FoldResult {
  model: UNet
  state: LoopState
  validation: ValidationResult | null
  stopped: boolean
}

/**
 * Fine-tuning start: every tensor of `path` into the model. The output heads (1x1x1 convolutions to the
 * classes) may have fewer classes when fine-tuning for more (an all-nodes model to nodes and borders): the
 * classes both have keep their learnt rows, so the network starts out predicting what it did; the new
 * classes' rows start fresh.
 */
async function initialWeights(model: UNet, path: string, log?: (line: string) => void): Promise<void> {
  if (!existsSync(path)) throw new NodalError('not-found', `${path}: no such weights file (--init-from)`)
  const { tensors } = await loadSafetensors(path)
  try {
    const own = model.stateDict()
    const widened: string[] = []
    for (const [name, target] of own) {
      const source = tensors.get(name)
      if (!/^head\./.test(name) || !source || source.shape.join() === target.shape.join()) continue
      const widerHead = source.shape.length === target.shape.length && source.shape[0]! < target.shape[0]! && source.shape.slice(1).join() === target.shape.slice(1).join()
      if (!widerHead) throw new Error(`${name}: shape [${source.shape}] does not match [${target.shape}]`)
      const rows = target.toArray() as Float32Array
      rows.set(source.toArray() as Float32Array)
      source.dispose()
      tensors.set(name, tensor(rows, target.shape))
      widened.push(name)
    }
    const missing = [...own.keys()].filter((k) => !tensors.has(k))
    const unexpected = [...tensors.keys()].filter((k) => !own.has(k))
    if (missing.length || unexpected.length) throw new Error(`missing: ${missing.join(', ') || 'none'}; unexpected: ${unexpected.join(', ') || 'none'}`)
    model.loadStateDict(tensors)
    log?.(`starting from the weights in ${path}${widened.length ? ` (output heads widened for more classes: ${widened.length} tensors keep their classes' rows, the new classes start fresh)` : ''}`)
  } catch (e) {
    throw new NodalError('bad-input', `${path}: does not fit this network (${(e as Error).message.split('\n')[0]}); fine-tune from weights of the same plans`)
  } finally {
    for (const t of tensors.values()) t.dispose()
  }
}

function settingsOf(t: FoldTraining): Record<string, unknown> {
  return { network: t.network, target: t.target, loss: t.loss, classes: t.classes, patch: t.plans.patch_size, batch: t.plans.batch_size, seed: t.seed, augment: t.augment }
}

export async function trainFold(t: FoldTraining): Promise<FoldResult> {
  if (t.train.length === 0) throw new NodalError('bad-dataset', 'no training cases in this fold')
  mkdirSync(t.out, { recursive: true })
  setNumThreads(t.threads)
  manualSeed(t.seed)
  const model = buildModel(t.network as 'unet', { ...t.plans.network.config, numClasses: t.classes }) as UNet
  const p = t.plans.training
  const optimizer = new SGD(model.parameters(), { lr: p.initial_lr, momentum: p.momentum, nesterov: p.nesterov, weightDecay: p.weight_decay })
  const last = join(t.out, CHECKPOINT_LAST)
  let state: LoopState
  if (t.resume && existsSync(last)) {
    state = await loadCheckpoint(last, model, optimizer)
    const changed = Object.entries(settingsOf(t)).filter(([k, v]) => JSON.stringify(state.settings[k]) !== JSON.stringify(v)).map(([k]) => k)
    if (changed.length) throw new NodalError('bad-resume', `${last}: was trained with other ${changed.join(', ')}; resume with the same settings or train into another --out`)
    t.log?.(`resuming at iteration ${state.iteration} of ${state.totalIterations}`)
  } else {
    if (existsSync(last)) throw new NodalError('bad-output', `${t.out}: holds a checkpoint already; add --resume to continue it, or choose another --out`)
    state = { iteration: 0, totalIterations: t.iterations ?? 0, seed: t.seed, elapsedSeconds: 0, bestMetric: null, bestIteration: null, settings: settingsOf(t) }
    if (t.initWeights) await initialWeights(model, t.initWeights, t.log)
  }
  const log = new TrainingLog(join(t.out, TRAINING_LOG), join(t.out, TRAINING_PLOT))
  log.load(state.iteration)
  const patch = t.plans.patch_size
  const floors = t.plans.channels.map((c) => normalizedFloor(c.normalization))
  // padding outside a case: air for CT, 0 for PET; z-scored MR has no floor, 0 is its mean
  const pad = floors.map((f) => (Number.isFinite(f) ? f : 0))
  const inPlaneOnly = Math.max(...t.plans.target_spacing) / Math.min(...t.plans.target_spacing) > 3
  const loader = new BatchLoader({
    cacheDir: t.cacheDir, cases: t.train, seed: t.seed, pad, lookup: t.lookup, workers: t.workers,
    augment: t.augment ? defaultAugmentOptions(t.plans.target_spacing) : null,
    sampler: { patch, batch: t.plans.batch_size, oversampling: p.foreground_oversampling, region: t.augment ? regionFor(patch, inPlaneOnly) : patch, favoured: t.favoured, target: t.target },
  }, state.iteration)
  const lossFn = lossByName(t.loss, t.classes, t.plans.target_spacing)
  const validation = { cacheDir: t.cacheDir, cases: t.val, patch, classes: t.classes, lookup: t.lookup, pad, skipBelow: Number.isFinite(floors[0]!) ? floors[0]! + 1e-3 : undefined, onCase: t.onValidation }
  const sessionStart = performance.now()
  const startIteration = state.iteration
  const elapsed = () => state.elapsedSeconds + (performance.now() - sessionStart) / 1000
  let lastValidation = performance.now()
  let latest: ValidationResult | null = null
  let lossSum = 0, lossCount = 0, epochStart = performance.now(), epochStartIteration = state.iteration
  let stopped = false
  try {
    while (state.totalIterations === 0 || state.iteration < state.totalIterations) {
      if (t.shouldStop?.()) {
        stopped = true
        await saveCheckpoint(last, model, optimizer, { ...state, elapsedSeconds: elapsed() })
        break
      }
      const batch = await loader.take()
      // until a time budget has fixed the total (after 20 iterations), the schedule stays at its start
      const lr = polySchedule(p.initial_lr, state.totalIterations || Infinity)(state.iteration)
      optimizer.lr = lr
      const value = await stepOn(model, optimizer, batch, patch, t, lossFn, state)
      lossSum += value
      lossCount++
      state.iteration++
      if (state.totalIterations === 0 && state.iteration - startIteration === 20) state.totalIterations = budgetIterations(t, state, elapsed(), sessionStart, startIteration)
      const epochDone = state.iteration % t.epochIterations === 0 || state.iteration === state.totalIterations
      if (!epochDone) {
        t.onProgress?.({ iteration: state.iteration, total: state.totalIterations || state.iteration + 1, loss: value, startIteration, validation: latest })
        continue
      }
      const validateNow = state.iteration === state.totalIterations || performance.now() - lastValidation > t.validateEveryMinutes * 60_000
      if (validateNow && t.val.length) {
        // on the way, a few cases are enough to follow progress; all of them at the end
        const cases = state.iteration === state.totalIterations ? t.val : t.val.slice(0, INTERIM_VALIDATION_CASES)
        latest = await validate(model, { ...validation, cases })
        lastValidation = performance.now()
      }
      const seconds = (performance.now() - epochStart) / 1000
      log.add({
        iteration: state.iteration, epoch: Math.ceil(state.iteration / t.epochIterations), loss: lossSum / lossCount, lr,
        iterations_per_second: (state.iteration - epochStartIteration) / seconds, elapsed_seconds: Math.round(elapsed()),
        ...(validateNow && latest ? validationColumns(latest) : {}),
      })
      lossSum = 0; lossCount = 0; epochStart = performance.now(); epochStartIteration = state.iteration
      if (validateNow && latest && (state.bestMetric === null || latest.mean_dice > state.bestMetric)) {
        state.bestMetric = latest.mean_dice
        state.bestIteration = state.iteration
        // not stored in state: elapsed() adds this session's time to state.elapsedSeconds
        await saveCheckpoint(join(t.out, CHECKPOINT_BEST), model, optimizer, { ...state, elapsedSeconds: elapsed() })
      }
      // the log first: a resume trims rows past its checkpoint, but cannot restore rows the log never got
      log.write(`${t.network}, target ${t.target}, loss ${t.loss}`)
      const saved = { ...state, elapsedSeconds: elapsed() }
      await saveCheckpoint(last, model, optimizer, saved)
      t.onProgress?.({ iteration: state.iteration, total: state.totalIterations, loss: value, startIteration, validation: latest })
    }
  } finally {
    await loader.close()
    optimizer.dispose()
  }
  state.elapsedSeconds = elapsed()
  return { model, state, validation: latest, stopped }
}

async function stepOn(model: UNet, optimizer: SGD, batch: { image: Float32Array; label: Uint8Array }, patch: number[], t: FoldTraining, lossFn: ReturnType<typeof lossByName>, state: LoopState): Promise<number> {
  const b = t.plans.batch_size
  const channels = t.plans.channels.length
  const x = tensor(batch.image, [b, channels, ...patch])
  const y = tidy(() => tensor(batch.label, [b, ...patch]).long())
  try {
    return await trainStep(model, optimizer, x, y, lossFn, state.totalIterations ? state.iteration / state.totalIterations : 0)
  } finally {
    x.dispose()
    y.dispose()
  }
}

/** Iterations that fit the budget, from the speed of the first iterations (validation takes ~10%). */
function budgetIterations(t: FoldTraining, state: LoopState, elapsedSeconds: number, sessionStart: number, startIteration: number): number {
  const perIteration = (performance.now() - sessionStart) / 1000 / (state.iteration - startIteration)
  const remaining = (t.minutes ?? 60) * 60 * 0.9 - elapsedSeconds
  const total = state.iteration + Math.max(0, Math.floor(remaining / perIteration))
  const epochs = Math.max(1, Math.round(total / t.epochIterations))
  t.log?.(`budget of ${t.minutes} min: ${(perIteration * 1000).toFixed(0)} ms per iteration -> ${epochs * t.epochIterations} iterations`)
  return epochs * t.epochIterations
}

function validationColumns(v: ValidationResult) {
  return {
    val_dice: v.mean_dice, val_sensitivity: v.sensitivity, val_fp_per_scan: v.fp_per_scan,
    val_sensitivity_10mm: v.sensitivity_10mm, val_fp_per_scan_10mm: v.fp_per_scan_10mm,
  }
}
