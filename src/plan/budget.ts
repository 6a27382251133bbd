/**
 * Chooses spacing, patch, network width and batch so that the time budget buys enough iterations, by
 * timing real training steps on this machine. Candidates are listed from most to least preferred (finer
 * spacing, larger field of view, wider network); a linear cost model calibrated on two cheap candidates
 * skips those that cannot fit, and the first candidate predicted to fit is timed for real before it is taken.
 */
import { cpus } from 'node:os'
import type { BudgetCandidate, Fingerprint, NetworkPlan, Triple } from './plans.js'
import { costProxy, unetConfigFor } from './network.js'
import { coarseSpacing, dataSpacing } from './spacing.js'
import { timeAugmentation, timeTrainingStep } from './timing.js'

export interface BudgetOptions {
  minutes: number
  threads: number
  minIterations: number
  batch: number
  inChannels: number
  numClasses: number
  networkName: string
  /** Fraction of the budget left for training steps (the rest: validation, checkpoints, export). */
  trainingFraction?: number
  log?: (line: string) => void
  /** For tests: replaces the real timing. */
  timeStep?: (network: NetworkPlan, patch: Triple, batch: number, spacing: Triple) => Promise<number>
}

export interface BudgetChoice {
  spacing: Triple
  patch: Triple
  network: NetworkPlan
  stepMs: number
  expectedIterations: number
  candidates: BudgetCandidate[]
  machine: string
}

interface Candidate {
  spacing: Triple
  fovMm: number
  features: number
}

/** Preference order: [spacing kind, field of view in mm, base features]. */
const LADDER: ['data' | 'coarse', number, number][] = [
  ['data', 128, 32], ['data', 96, 32], ['coarse', 160, 32], ['coarse', 128, 32], ['coarse', 128, 24],
  ['coarse', 96, 32], ['coarse', 96, 24], ['coarse', 96, 16], ['coarse', 80, 16], ['coarse', 64, 16], ['coarse', 64, 8],
]

function patchFor(c: Candidate, fp: Fingerprint): Triple {
  // never larger than the median image at this spacing
  return [0, 1, 2].map((a) => {
    const imageVoxels = Math.floor((fp.median_shape[a]! * fp.median_spacing[a]!) / c.spacing[a]!)
    return Math.max(8, Math.min(Math.round(c.fovMm / c.spacing[a]!), imageVoxels))
  }) as Triple
}

function ladder(fp: Fingerprint): Candidate[] {
  const spacings = { data: dataSpacing(fp), coarse: coarseSpacing(fp) }
  const seen = new Set<string>()
  const out: Candidate[] = []
  for (const [kind, fovMm, features] of LADDER) {
    const c = { spacing: spacings[kind], fovMm, features }
    const key = JSON.stringify([c.spacing, patchFor(c, fp), features])
    if (!seen.has(key)) out.push(c)
    seen.add(key)
  }
  return out
}

export async function chooseConfiguration(fp: Fingerprint, o: BudgetOptions): Promise<BudgetChoice> {
  const log = o.log ?? (() => {})
  const budgetMs = o.minutes * 60_000 * (o.trainingFraction ?? 0.85)
  // two rungs can give the same network once patches are fitted to the strides (small images): keep the first
  const fitted = new Set<string>()
  const built = ladder(fp).map((c) => {
    const { config, patch } = unetConfigFor(patchFor(c, fp), c.spacing, c.features, o.inChannels, o.numClasses)
    return { c, patch, network: { name: o.networkName, config }, cost: costProxy(config, patch) * o.batch }
  }).filter((b) => {
    const key = JSON.stringify([b.c.spacing, b.patch, b.c.features])
    if (fitted.has(key)) return false
    fitted.add(key)
    return true
  })
  // an iteration = the step + the share of one batch's augmentation that its worker takes from libtorch's cores
  const augmentShare = (patch: Triple, spacing: Triple) => timeAugmentation(patch, spacing, o.inChannels, o.batch) / Math.max(1, o.threads)
  const time = o.timeStep ?? (async (network: NetworkPlan, patch: Triple, batch: number, spacing: Triple) =>
    (await timeTrainingStep(network.name, network.config, patch, batch, o.threads)) + augmentShare(patch, spacing))
  const measured = new Map<number, number>()
  const measure = async (i: number): Promise<number> => {
    if (!measured.has(i)) {
      const b = built[i]!
      const ms = await time(b.network, b.patch, o.batch, b.c.spacing)
      measured.set(i, ms)
      log(`  timed ${describe(b.c, b.patch)}: ${ms.toFixed(0)} ms/iteration (step + augmentation) -> ${Math.floor(budgetMs / ms)} iterations`)
    }
    return measured.get(i)!
  }
  // calibrate time = a + b·cost on the cheapest candidate and one about 4x its cost
  const cheapest = built.length - 1
  const t0 = await measure(cheapest)
  const mid = built.reduce((best, b, i) => (Math.abs(Math.log(b.cost / (4 * built[cheapest]!.cost))) < Math.abs(Math.log(built[best]!.cost / (4 * built[cheapest]!.cost))) ? i : best), cheapest)
  const t1 = await measure(mid)
  const slope = mid === cheapest ? t0 / built[cheapest]!.cost : Math.max(0, (t1 - t0) / (built[mid]!.cost - built[cheapest]!.cost))
  const predict = (i: number) => measured.get(i) ?? t0 + slope * (built[i]!.cost - built[cheapest]!.cost)
  let chosen = cheapest
  for (let i = 0; i < built.length; i++) {
    if (budgetMs / predict(i) < o.minIterations) continue
    if (budgetMs / (await measure(i)) >= o.minIterations) {
      chosen = i
      break
    }
  }
  const stepMs = measured.get(chosen) ?? (await measure(chosen))
  const candidates: BudgetCandidate[] = built.map((b, i) => ({
    spacing: b.c.spacing,
    patch: b.patch,
    base_features: b.c.features,
    batch: o.batch,
    step_ms: measured.has(i) ? Math.round(measured.get(i)!) : null,
    predicted_step_ms: Math.round(predict(i)),
    fits: budgetMs / predict(i) >= o.minIterations,
  }))
  const b = built[chosen]!
  return {
    spacing: b.c.spacing,
    patch: b.patch,
    network: b.network,
    stepMs,
    expectedIterations: Math.floor(budgetMs / stepMs),
    candidates,
    machine: `${cpus()[0]?.model?.trim() ?? 'unknown CPU'}, ${o.threads} thread(s)`,
  }
}

export function describe(c: Candidate, patch: Triple): string {
  return `spacing ${c.spacing.join('x')} mm, patch ${patch.join('x')}, ${c.features} base features`
}
