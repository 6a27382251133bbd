/**
 * Fuzzing harness for every reader of nodal (not part of `npm test`): structured mutations of valid
 * files (fast-check arbitraries, bench/fuzz/mutate.ts) seeded from the real samples (seeds.ts), fed to
 * the reader the CLI uses (targets.ts). Every input must end in a result or a one-line NodalError,
 * within 5 s, without growing memory by more than 64 MB + 16x its size; anything else is recorded
 * under <out>/crashes/ with its bytes and stack, and the run goes on.
 *
 *   npm run build
 *   nice -n 19 node dist/bench/fuzz/fuzz.js [--format NAME|all] [--runs 100000] [--seed 1] [--out .bench/fuzz]
 *                                          [--from 0] [--jobs 1] [--hang-s 120] [--fresh-seeds]
 *   node dist/bench/fuzz/fuzz.js --format NAME --seed S --replay I     (rebuild and read input I once)
 *   node dist/bench/fuzz/fuzz.js --table [--out DIR]                     (the table of <out>/results.json)
 *
 * Formats: nifti1 nifti1-gz nifti2 nifti2-gz nrrd nhdr mha mhd dicom dicom-series rtstruct seg
 * dataset-json instance-json. Each runs in a child process; one stuck for --hang-s on a single input
 * is killed, the input recorded as a hang, and a new child goes on from the next input. Prints a table
 * per format and merges the figures into <out>/results.json.
 */
import { ChildProcess, fork } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { BATCH, classify, inputAt, Result, runChild, writeInput } from './child.js'
import { makeSeeds } from './seeds.js'
import { Format, FORMATS, makeTarget } from './targets.js'

const SELF = fileURLToPath(import.meta.url)

interface Options { formats: Format[]; runs: number; seed: number; out: string; from: number; jobs: number; hangS: number; freshSeeds: boolean }

interface Tally {
  format: Format
  reader: string
  seed: number
  from: number
  inputs: number
  ok: number
  nodal: number
  crashes: number
  multiline: number
  hangs: number
  died: number
  slow: number
  overAlloc: number
  slowestMs: number
  slowestIndex: number
  totalMs: number
  maxAllocMB: number
  maxRssGrowthMB: number
  wallS: number
  rate: number
  signatures: Record<string, { count: number; first: number }>
}

function parse(): Options & { replay?: number; child: boolean; table: boolean } {
  const { values } = parseArgs({
    options: {
      format: { type: 'string', default: 'all' }, runs: { type: 'string', default: '100000' }, seed: { type: 'string', default: '1' },
      out: { type: 'string', default: '.bench/fuzz' }, from: { type: 'string', default: '0' }, jobs: { type: 'string', default: '1' },
      'hang-s': { type: 'string', default: '120' }, 'fresh-seeds': { type: 'boolean', default: false }, replay: { type: 'string' },
      child: { type: 'boolean', default: false }, table: { type: 'boolean', default: false },
    },
  })
  const formats = values.format === 'all' ? [...FORMATS] : values.format!.split(',') as Format[]
  for (const f of formats) if (!FORMATS.includes(f)) throw new Error(`unknown format ${f} (${FORMATS.join(' ')})`)
  return {
    formats, runs: Number(values.runs), seed: Number(values.seed), out: resolve(values.out!), from: Number(values.from),
    jobs: Math.max(1, Number(values.jobs)), hangS: Number(values['hang-s']), freshSeeds: values['fresh-seeds']!,
    replay: values.replay === undefined ? undefined : Number(values.replay), child: values.child!, table: values.table!,
  }
}

async function main(): Promise<void> {
  const o = parse()
  const seedDir = join(o.out, 'seeds')
  if (o.table) return printTable(Object.values(JSON.parse(readFileSync(join(o.out, 'results.json'), 'utf8')).formats))
  if (o.child) return runChild({ format: o.formats[0], seedDir, workDir: workDirOf(o.formats[0]), out: o.out, seed: o.seed, from: o.from, to: o.runs })
  if (o.freshSeeds || !existsSync(join(seedDir, 'done'))) await freshSeeds(seedDir)
  if (o.replay !== undefined) return replay(o.formats[0], seedDir, o.out, o.seed, o.replay)
  const tallies: Tally[] = []
  const queue = [...o.formats]
  await Promise.all(Array.from({ length: Math.min(o.jobs, queue.length) }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const t = await fuzzFormat(f, o, seedDir)
      tallies.push(t)
      saveResults(o.out, [t]) // as each format ends, so a long run killed later keeps what it did
    }
  }))
  tallies.sort((a, b) => FORMATS.indexOf(a.format) - FORMATS.indexOf(b.format))
  printTable(tallies)
}

async function freshSeeds(seedDir: string): Promise<void> {
  rmSync(seedDir, { recursive: true, force: true })
  await makeSeeds(seedDir)
  writeFileSync(join(seedDir, 'done'), new Date().toISOString() + '\n')
}

function workDirOf(format: Format): string {
  return join(tmpdir(), `nodal-fuzz-${format}-${process.pid}`)
}

// ------------------------------------------------------------------ parent: one format

function newTally(format: Format, o: Options, seedDir: string): Tally {
  return {
    format, reader: makeTarget(format, seedDir).reader, seed: o.seed, from: o.from, inputs: 0, ok: 0, nodal: 0, crashes: 0, multiline: 0,
    hangs: 0, died: 0, slow: 0, overAlloc: 0, slowestMs: 0, slowestIndex: -1, totalMs: 0, maxAllocMB: 0, maxRssGrowthMB: 0, wallS: 0, rate: 0, signatures: {},
  }
}

async function fuzzFormat(format: Format, o: Options, seedDir: string): Promise<Tally> {
  const t = newTally(format, o, seedDir)
  const start = performance.now()
  let next = o.from
  while (next < o.runs) {
    const stop = await runOneChild(format, o, next, t, start)
    if (stop.done || stop.index >= o.runs) break
    recordLost(format, o, seedDir, stop.index, stop.why, t)
    next = stop.index + 1
  }
  t.wallS = (performance.now() - start) / 1000
  t.rate = t.inputs / Math.max(t.wallS, 1e-9)
  console.log(`${format}: finished ${t.inputs} inputs in ${t.wallS.toFixed(0)} s (${t.rate.toFixed(1)}/s)`)
  return t
}

/** Runs a child from input `from`; resolves when it finishes, or when it hangs or dies (at `index`). */
function runOneChild(format: Format, o: Options, from: number, t: Tally, start: number): Promise<{ done: true } | { done: false; index: number; why: string }> {
  const args = ['--child', '--format', format, '--runs', String(o.runs), '--seed', String(o.seed), '--out', o.out, '--from', String(from)]
  const child: ChildProcess = fork(SELF, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  let current = from, lastReport = performance.now(), finished = false, stderr = ''
  child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-2000) })
  return new Promise((resolveRun) => {
    let inputStart = performance.now()
    const watchdog = setInterval(() => {
      if ((performance.now() - inputStart) / 1000 > o.hangS) { clearInterval(watchdog); child.kill('SIGKILL'); resolveRun({ done: false, index: current, why: `hang: no result after ${o.hangS} s` }) }
    }, 1000)
    child.on('message', (m: Result | { t: 'done' }) => {
      if (m.t === 'done') { finished = true; return }
      tally(t, m)
      current = m.i + 1
      inputStart = performance.now()
      if (performance.now() - lastReport > 30000) { lastReport = performance.now(); progress(t, start, o.runs) }
    })
    child.on('exit', (code, signal) => {
      clearInterval(watchdog)
      if (finished) resolveRun({ done: true })
      else resolveRun({ done: false, index: current, why: `child died (code ${code}, signal ${signal}): ${stderr.split('\n').filter((l) => l.trim()).slice(-3).join(' | ')}` })
    })
  })
}

function tally(t: Tally, r: Result): void {
  t.inputs++
  if (r.outcome === 'ok') t.ok++
  else if (r.outcome === 'nodal') t.nodal++
  else if (r.outcome === 'multiline') t.multiline++
  else t.crashes++
  if (r.slow) t.slow++
  if (r.overAlloc) t.overAlloc++
  t.totalMs += r.ms
  if (r.ms > t.slowestMs) { t.slowestMs = r.ms; t.slowestIndex = r.i }
  t.maxAllocMB = Math.max(t.maxAllocMB, r.alloc / 2 ** 20)
  t.maxRssGrowthMB = Math.max(t.maxRssGrowthMB, r.rssGrowth / 2 ** 20)
  const kinds = [r.outcome === 'crash' || r.outcome === 'multiline' ? r.signature : undefined, r.slow ? 'slow (> 5 s)' : undefined, r.overAlloc ? 'allocation over 64 MB + 16x input' : undefined]
  for (const s of kinds) if (s) addSignature(t, s, r.i)
}

function addSignature(t: Tally, s: string, i: number): void {
  const e = t.signatures[s] ?? (t.signatures[s] = { count: 0, first: i })
  e.count++
}

/** A hang or a dead child: the input is rebuilt here (inputs are deterministic) and recorded. */
function recordLost(format: Format, o: Options, seedDir: string, i: number, why: string, t: Tally): void {
  t.inputs++
  if (why.startsWith('hang')) t.hangs++
  else t.died++
  addSignature(t, why.startsWith('hang') ? why : why.replace(/\d+/g, 'N'), i)
  const target = makeTarget(format, seedDir)
  const input = inputAt(target, o.seed, i)
  const built = target.build(input)
  const base = join(o.out, 'crashes', `${format}-${i}`)
  mkdirSync(join(o.out, 'crashes'), { recursive: true })
  writeFileSync(`${base}.bin`, built.files[built.main])
  if (Object.keys(built.files).length > 1) writeInput(`${base}.files`, built)
  writeFileSync(`${base}.txt`, `kind: ${why}\nformat: ${format}\nseed: ${o.seed}\nindex: ${i}\ninput: ${JSON.stringify(input)}\n`)
  console.log(`${format}: input ${i}: ${why}`)
}

function progress(t: Tally, start: number, runs: number): void {
  const s = (performance.now() - start) / 1000
  console.log(`${t.format}: ${t.from + t.inputs}/${runs} (${(t.inputs / s).toFixed(1)}/s) ok ${t.ok} nodal ${t.nodal} crash ${t.crashes + t.multiline + t.hangs + t.died} slow ${t.slow} alloc ${t.overAlloc}`)
}

// ------------------------------------------------------------------ replay, table, results

async function replay(format: Format, seedDir: string, out: string, seed: number, i: number): Promise<void> {
  const target = makeTarget(format, seedDir)
  const input = inputAt(target, seed, i)
  const built = target.build(input)
  const dir = join(out, 'replay', `${format}-${i}`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  target.prepare?.(dir)
  writeInput(dir, built)
  console.log(`input ${i} of ${format} (seed ${seed}) in ${dir}\n${JSON.stringify(input)}`)
  const t0 = performance.now()
  let error: unknown
  try { await target.run(dir) } catch (e) { error = e }
  const c = classify(error)
  console.log(`${c.outcome} in ${(performance.now() - t0).toFixed(1)} ms${c.message ? `: ${c.message}` : ''}`)
  if (c.outcome === 'crash') console.log((error as Error)?.stack)
}

function printTable(ts: Tally[]): void {
  const head = ['format', 'inputs', 'ok', 'nodal errors', 'crashes', 'slow>5s', 'alloc', 'slowest ms', 'mean ms', 'inputs/s']
  const rows = ts.map((t) => [
    t.format, t.inputs, t.ok, t.nodal, t.crashes + t.multiline + t.hangs + t.died, t.slow, t.overAlloc,
    t.slowestMs.toFixed(0), (t.totalMs / Math.max(t.inputs, 1)).toFixed(2), t.rate.toFixed(1),
  ].map(String))
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)))
  const line = (cells: string[]) => cells.map((s, c) => (c === 0 ? s.padEnd(width[c]) : s.padStart(width[c]))).join('  ')
  console.log(['', line(head), ...rows.map(line)].join('\n'))
  for (const t of ts) for (const [s, e] of Object.entries(t.signatures)) console.log(`  ${t.format}: ${e.count}x ${s} (first: input ${e.first})`)
}

function saveResults(out: string, ts: Tally[]): void {
  const path = join(out, 'results.json')
  const old = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {}
  const formats = { ...(old.formats ?? {}), ...Object.fromEntries(ts.map((t) => [t.format, { ...t, batch: BATCH }])) }
  mkdirSync(out, { recursive: true })
  writeFileSync(`${path}.tmp`, JSON.stringify({ updated: new Date().toISOString(), formats }, null, 2) + '\n')
  renameSync(`${path}.tmp`, path)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
