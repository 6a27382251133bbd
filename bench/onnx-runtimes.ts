/**
 * Why the page's inference is slower than `nodal predict` (issue 14): one network patch of a shipped model
 * through onnxruntime-node (native CPU kernels) and onnxruntime-web (the WebAssembly build the page runs),
 * both in this Node process, with 1 and 2 threads, and the time per operator type from each runtime's own
 * profiler. The WebAssembly build here is the same file chromium runs in the page.
 *
 *   npm run build && node dist/bench/onnx-runtimes.js [--model models/nodes_multi/fold_all.onnx] [--runs 6]
 *
 * The first run of each session is a warm-up and is not counted. In Node, onnxruntime-web's threads do not
 * speed a run up (its 2-thread row is about its 1-thread row); in the cross-origin isolated page they do, so
 * the 1-thread rows are the like-for-like comparison of the two runtimes' kernels.
 */
import fs, { readFileSync, readdirSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { arg } from './args.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const modelFile = resolve(arg('model', join(root, 'models/nodes_multi/fold_all.onnx')))
const runs = Number(arg('runs', '6'))

type Runtime = 'node' | 'web'
interface Measured { median: number; byOp: Map<string, number> }

/** The model's patch size from its bundle's model.json (the folder of the .onnx file). */
function patchSize(): number[] {
  const json = JSON.parse(readFileSync(join(modelFile, '..', 'model.json'), 'utf8'))
  return json.patch_size
}

async function measure(runtime: Runtime, threads: number, profile: boolean): Promise<Measured> {
  const ort = await import(runtime === 'node' ? 'onnxruntime-node' : 'onnxruntime-web')
  if (runtime === 'web') ort.env.wasm.numThreads = threads
  const prefix = join(tmpdir(), `nodal-ort-profile-${process.pid}-`)
  // onnxruntime-web prints its profile as JSON lines with fs.writeSync(1, ...): collect them instead
  const webProfile: string[] = []
  const writeSync = fs.writeSync
  if (profile && runtime === 'web') {
    fs.writeSync = ((fd: number, text: string, ...rest: never[]) => {
      if (fd !== 1) return writeSync(fd, text, ...rest)
      webProfile.push(String(text))
      return String(text).length
    }) as typeof writeSync
  }
  try {
    const session = await ort.InferenceSession.create(runtime === 'web' ? new Uint8Array(readFileSync(modelFile)) : modelFile, {
      graphOptimizationLevel: 'all', intraOpNumThreads: threads, enableProfiling: profile, ...(profile && runtime === 'node' ? { profileFilePrefix: prefix } : {}),
    })
    const dims = [1, session.inputNames.length, ...patchSize()]
    const n = dims.reduce((a, b) => a * b, 1)
    const x = new Float32Array(n)
    for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.37) * 2 + Math.cos(i * 0.011)
    const input = { [session.inputNames[0]!]: new ort.Tensor('float32', x, dims) }
    const times: number[] = []
    for (let r = 0; r <= runs; r++) {
      const t0 = performance.now()
      await session.run(input)
      if (r > 0) times.push(performance.now() - t0)
    }
    if (profile) session.endProfiling()
    await session.release()
    times.sort((a, b) => a - b)
    const events = profile ? profileEvents(runtime, prefix, webProfile) : []
    return { median: times[Math.floor(times.length / 2)]!, byOp: perOperator(events) }
  } finally {
    fs.writeSync = writeSync
  }
}

interface KernelEvent { name: string; dur: number; args?: { op_name?: string } }

function profileEvents(runtime: Runtime, prefix: string, webLines: string[]): KernelEvent[] {
  if (runtime === 'web') return webLines.flatMap((l) => l.split('\n')).filter((l) => l.includes('"cat" : "Node"')).map((l) => JSON.parse(l.trim().replace(/,$/, '')))
  const dir = join(prefix, '..')
  const files = readdirSync(dir).filter((f) => join(dir, f).startsWith(prefix))
  const events: KernelEvent[] = files.flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
  for (const f of files) rmSync(join(dir, f))
  return events
}

/** Milliseconds per patch by operator type, the warm-up run left out. */
function perOperator(events: KernelEvent[]): Map<string, number> {
  const kernels = events.filter((e) => e.name?.endsWith('_kernel_time'))
  const perRun = kernels.length / (runs + 1)
  const byOp = new Map<string, number>()
  for (const e of kernels.slice(perRun)) byOp.set(e.args?.op_name ?? '?', (byOp.get(e.args?.op_name ?? '?') ?? 0) + e.dur / 1000 / runs)
  return byOp
}

async function main(): Promise<void> {
  console.log(`model ${modelFile}, patch ${patchSize().join('x')}, ${runs} runs each; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`)
  const rows: [string, string, string, string][] = []
  for (const threads of [1, 2]) {
    const native = await measure('node', threads, false)
    const wasm = await measure('web', threads, false)
    rows.push([String(threads), native.median.toFixed(0), wasm.median.toFixed(0), (wasm.median / native.median).toFixed(2)])
  }
  console.log('\nms per patch (median)\n| threads | onnxruntime-node | onnxruntime-web (WebAssembly) | ratio |\n|---|---|---|---|')
  for (const r of rows) console.log(`| ${r.join(' | ')} |`)
  const native = await measure('node', 1, true)
  const wasm = await measure('web', 1, true)
  const ops = [...new Set([...native.byOp.keys(), ...wasm.byOp.keys()])].sort((a, b) => (wasm.byOp.get(b) ?? 0) - (wasm.byOp.get(a) ?? 0))
  console.log('\nms per patch by operator, 1 thread (each runtime\'s profiler)\n| operator | onnxruntime-node | onnxruntime-web | ratio |\n|---|---|---|---|')
  for (const op of ops) {
    const a = native.byOp.get(op) ?? 0, b = wasm.byOp.get(op) ?? 0
    console.log(`| ${op} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${a > 0 ? (b / a).toFixed(2) : '–'} |`)
  }
}

await main()
