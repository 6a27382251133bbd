/**
 * One format's fuzzing loop, run in a child process of bench/fuzz/fuzz.ts (so that a hang or a
 * crash of the process itself is caught by the parent and the run goes on from the next input).
 *
 * Input i of a run is fast-check's sample number i % BATCH of the batch seeded by (seed, i / BATCH):
 * any input can be rebuilt from (format, seed, i) alone. Each input is written to the work folder,
 * read with the format's reader, timed, and its memory growth measured: arrayBuffers and external
 * (ITK's WebAssembly heap) right after the read, and peak RSS sampled by a worker thread.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import { NodalError } from '../../src/errors.js'
import { Built, Format, makeTarget, Target } from './targets.js'

export const BATCH = 256
export const SLOW_MS = 5000
const MB = 1 << 20
export const ALLOC_SLACK = 64 * MB
export const ALLOC_FACTOR = 16

export type Outcome = 'ok' | 'nodal' | 'multiline' | 'crash'

export interface Result {
  t: 'result'
  i: number
  outcome: Outcome
  ms: number
  cpuMs: number
  /** Growth of arrayBuffers + external during the read, bytes. */
  alloc: number
  rssGrowth: number
  capacity: number
  slow: boolean
  overAlloc: boolean
  signature?: string
  message?: string
}

export interface ChildOptions { format: Format; seedDir: string; workDir: string; out: string; seed: number; from: number; to: number }

let batch = { key: '', inputs: [] as unknown[] }

/** Input i of the run seeded `seed` (deterministic). */
export function inputAt(target: Target, seed: number, i: number): unknown {
  const b = Math.floor(i / BATCH)
  const key = `${target.name} ${seed} ${b}`
  if (batch.key !== key) batch = { key, inputs: fc.sample(target.arbitrary, { seed: (seed ^ Math.imul(b + 1, 0x9e3779b1)) | 0, numRuns: BATCH }) }
  return batch.inputs[i % BATCH]
}

export function writeInput(dir: string, built: Built): void {
  for (const [rel, bytes] of Object.entries(built.files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true })
    writeFileSync(join(dir, rel), bytes)
  }
}

export async function runChild(o: ChildOptions): Promise<void> {
  const target = makeTarget(o.format, o.seedDir)
  rmSync(o.workDir, { recursive: true, force: true })
  mkdirSync(o.workDir, { recursive: true })
  target.prepare?.(o.workDir)
  const peak = startRssSampler()
  const saved = new Map<string, number>()
  try {
    for (let i = o.from; i < o.to; i++) {
      const input = inputAt(target, o.seed, i)
      const built = target.build(input)
      writeInput(o.workDir, built)
      const r = await measure(i, target, o.workDir, built, peak)
      if (r.outcome === 'crash' || r.outcome === 'multiline' || r.slow || r.overAlloc) recordFailure(o, r, input, built, saved)
      await send(r)
    }
  } finally {
    rmSync(o.workDir, { recursive: true, force: true })
  }
  await send({ t: 'done' })
}

async function measure(i: number, target: Target, dir: string, built: Built, peak: Int32Array): Promise<Result> {
  const m0 = process.memoryUsage()
  Atomics.store(peak, 0, 0)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let error: unknown = undefined
  try {
    await target.run(dir)
  } catch (e) {
    error = e
  }
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const m1 = process.memoryUsage()
  const alloc = Math.max(0, m1.arrayBuffers - m0.arrayBuffers) + Math.max(0, m1.external - m1.arrayBuffers - (m0.external - m0.arrayBuffers))
  const rssGrowth = Math.max(Atomics.load(peak, 0) * MB, m1.rss) - m0.rss
  const { outcome, signature, message } = classify(error)
  return {
    t: 'result', i, outcome, ms, cpuMs: (cpu.user + cpu.system) / 1000, alloc, rssGrowth, capacity: built.capacity,
    slow: ms > SLOW_MS, overAlloc: alloc > ALLOC_SLACK + ALLOC_FACTOR * built.capacity, signature, message,
  }
}

/** ok; a NodalError (one line, as the CLI prints it); or a crash: anything else, or a multi-line NodalError. */
export function classify(error: unknown): { outcome: Outcome; signature?: string; message?: string } {
  if (error === undefined) return { outcome: 'ok' }
  if (error instanceof NodalError) {
    if (!/[\r\n]/.test(error.message)) return { outcome: 'nodal', message: error.message }
    return { outcome: 'multiline', signature: `NodalError(${error.code}) over several lines: ${normalise(error.message.split(/[\r\n]/)[0])}`, message: error.message }
  }
  const e = error instanceof Error ? error : new Error(`non-Error thrown: ${String(error)}`)
  return { outcome: 'crash', signature: `${e.name}: ${normalise(e.message.split('\n')[0])} @ ${topFrame(e.stack ?? '')}`, message: e.message }
}

/** A message with its numbers and paths blanked, so that one bug gives one signature. */
function normalise(s: string): string {
  return s.replace(/\/[^\s:'"()]+/g, '<path>').replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, 'N').slice(0, 160)
}

function topFrame(stack: string): string {
  const frame = stack.split('\n').slice(1).find((l) => /\/(dist|node_modules)\//.test(l)) ?? ''
  const m = /\/((?:dist|node_modules)\/[^:)]+):(\d+)/.exec(frame)
  return m ? `${m[1]}:${m[2]}` : 'unknown'
}

const PER_SIGNATURE = 3

/** Writes <out>/crashes/<format>-<i>.bin (+ .txt with the stack, + .files/ for multi-file inputs). */
function recordFailure(o: ChildOptions, r: Result, input: unknown, built: Built, saved: Map<string, number>): void {
  const kind = r.outcome === 'crash' || r.outcome === 'multiline' ? r.outcome : r.slow ? 'slow' : 'alloc'
  const key = `${kind} ${r.signature ?? ''}`
  const n = saved.get(key) ?? 0
  saved.set(key, n + 1)
  if (n >= PER_SIGNATURE) return
  const dir = join(o.out, 'crashes')
  mkdirSync(dir, { recursive: true })
  const base = join(dir, `${o.format}-${r.i}`)
  writeFileSync(`${base}.bin`, built.files[built.main])
  if (Object.keys(built.files).length > 1) writeInput(`${base}.files`, built)
  const text = [
    `kind: ${kind}`, `format: ${o.format}`, `seed: ${o.seed}`, `index: ${r.i}`, `file: ${built.main}`,
    `reproduce: node dist/bench/fuzz/fuzz.js --format ${o.format} --seed ${o.seed} --replay ${r.i}`,
    `ms: ${r.ms.toFixed(1)} (cpu ${r.cpuMs.toFixed(1)}), alloc growth: ${(r.alloc / MB).toFixed(1)} MB, rss growth: ${(r.rssGrowth / MB).toFixed(1)} MB, capacity: ${r.capacity} bytes`,
    `signature: ${r.signature ?? ''}`, `message: ${r.message ?? ''}`, '', `input: ${JSON.stringify(input)}`,
  ]
  writeFileSync(`${base}.txt`, text.join('\n') + '\n')
}

/** A worker thread that keeps the peak RSS (MB) seen since the main thread last reset it. */
function startRssSampler(): Int32Array {
  const peak = new Int32Array(new SharedArrayBuffer(4))
  const code = `const { workerData: a } = require('node:worker_threads')
    setInterval(() => { const mb = Math.round(process.memoryUsage.rss() / 1048576); if (mb > Atomics.load(a, 0)) Atomics.store(a, 0, mb) }, 10)`
  new Worker(code, { eval: true, workerData: peak }).unref()
  return peak
}

function send(message: object): Promise<void> {
  return new Promise((resolve) => (process.send ? process.send(message, undefined, {}, () => resolve()) : resolve()))
}
