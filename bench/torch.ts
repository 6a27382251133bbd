/**
 * Training-step benchmark: the default nnU-Net-style 3D U-Net, one step (forward, deep-supervised Dice + CE,
 * backward, SGD with Nesterov momentum) through nodal and through the same network in Python PyTorch
 * (bench/torch_reference.py on Debian's python3-torch, i.e. the same libtorch), in the same run with the same
 * threads, steps interleaved one by one so that both see the same machine load; then inference through ONNX
 * Runtime versus libtorch on the exported network.
 *
 * Run: node dist/bench/torch.js [--json] [--patch 96|64] [--threads N]   (or: nodal bench torch ...)
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { existsSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-node'
import { NodalError } from '../src/errors.js'
import { exportOnnx } from '../src/export/index.js'
import { UNet, buildModel, defaultUNetConfig, type UNetConfig } from '../src/models/index.js'
import { diceCeLoss } from '../src/train/losses/index.js'
import { trainStep } from '../src/train/step.js'
import {
  SGD, type Tensor, countFlops, getNumThreads, manualSeed, noGrad, randint, randn, setNumThreads, tidy, torchVersion,
} from '../src/torch/index.js'

export interface TorchBenchOptions {
  patch: number
  threads: number
  warmup: number
  steps: number
}

export interface TorchBenchResult {
  patch: number[]
  threads: number
  torch_version: string
  parameters: number
  nodal_step_ms: number
  pytorch_step_ms: number
  ratio: number
  /** Floating-point operations of one training step (3 × the forward convolutions' multiply-adds × 2). */
  step_gflop: number
  /** step_gflop / nodal step time. */
  gflops: number
  pytorch_gflops: number
  /** Fastest step of each side: the least disturbed by other processes on a shared machine. */
  nodal_step_min_ms: number
  pytorch_step_min_ms: number
  ratio_min: number
  /** Median over rounds of nodal_i / pytorch_i: the steps of one round ran back to back under the same load. */
  ratio_paired: number
  nodal_step_samples_ms: number[]
  pytorch_step_samples_ms: number[]
  libtorch_infer_ms: number
  pytorch_infer_ms: number
  onnx_infer_ms: number
  onnx_max_abs_diff: number
  /** 1-minute load average before and after the run: other processes make every figure slower. */
  load_average: [number, number]
}

const pythonExecutable = '/usr/bin/python3'

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir)
  return dir
}

/** bench/torch_reference.py as a child process answering "step" / "infer" with milliseconds. */
class PythonReference {
  private readonly lines: AsyncIterableIterator<string>

  /** What the reference reported when ready: its torch version, threads and parameter count. */
  ready: { torch: string; threads: number; parameters: number } = { torch: '', threads: 0, parameters: 0 }

  private constructor(private readonly child: ChildProcessWithoutNullStreams, private readonly stderr: string[]) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  }

  static async start(config: UNetConfig, patch: number[], threads: number): Promise<PythonReference> {
    const script = join(repoRoot(), 'bench/torch_reference.py')
    const child = spawn(pythonExecutable, [script], { stdio: ['pipe', 'pipe', 'pipe'] })
    const stderr: string[] = []
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
    const reference = new PythonReference(child, stderr)
    child.stdin.write(`${JSON.stringify({ config, patch, threads })}\n`)
    reference.ready = (await reference.answer()) as PythonReference['ready']
    return reference
  }

  private async answer(): Promise<unknown> {
    const next = await this.lines.next()
    if (next.done) {
      throw new NodalError('bench-python', `PyTorch reference (${pythonExecutable} bench/torch_reference.py) stopped: ${this.stderr.join('').trim().split('\n').pop() ?? ''}`)
    }
    return JSON.parse(next.value)
  }

  async run(command: 'step' | 'infer'): Promise<number> {
    this.child.stdin.write(`${command}\n`)
    return (await this.answer()) as number
  }

  close(): void {
    this.child.stdin.end('quit\n')
  }
}

/** The training step nodal train runs (src/train/step.ts), timed. */
async function nodalStep(model: UNet, optimizer: SGD, x: Tensor, target: Tensor): Promise<number> {
  const start = performance.now()
  await trainStep(model, optimizer, x, target, (z, t) => diceCeLoss(z, t), 0)
  return performance.now() - start
}

function nodalInference(model: UNet, x: Tensor): { ms: number; output: Float32Array } {
  const start = performance.now()
  model.eval()
  const output = noGrad(() => tidy(() => model.forward(x).toArray() as Float32Array))
  return { ms: performance.now() - start, output }
}

function forwardFlops(model: UNet, x: Tensor): number {
  return noGrad(() => tidy(() => countFlops(() => model.forwardDeep(x)).flops))
}

interface Timings {
  nodalStep: number[]
  pytorchStep: number[]
  nodalInfer: number[]
  pytorchInfer: number[]
  output: Float32Array
}

/** Alternates nodal and PyTorch, step by step, then inference by inference; warm-up rounds are dropped. */
async function interleaved(model: UNet, x: Tensor, target: Tensor, python: PythonReference, options: TorchBenchOptions): Promise<Timings> {
  const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 })
  const t: Timings = { nodalStep: [], pytorchStep: [], nodalInfer: [], pytorchInfer: [], output: new Float32Array() as Float32Array }
  for (let i = 0; i < options.warmup + options.steps; i++) {
    const mine = await nodalStep(model, optimizer, x, target)
    const theirs = await python.run('step')
    if (i >= options.warmup) {
      t.nodalStep.push(mine)
      t.pytorchStep.push(theirs)
    }
  }
  optimizer.dispose()
  // Inference warms up longer: the first no-grad passes still pay for fresh pages and oneDNN primitives.
  const inferenceWarmup = Math.max(3, options.warmup)
  for (let i = 0; i < inferenceWarmup + options.steps; i++) {
    const mine = nodalInference(model, x)
    const theirs = await python.run('infer')
    t.output = mine.output
    if (i >= inferenceWarmup) {
      t.nodalInfer.push(mine.ms)
      t.pytorchInfer.push(theirs)
    }
  }
  return t
}

async function timeOnnx(model: UNet, x: Tensor, expected: Float32Array, options: TorchBenchOptions): Promise<{ ms: number; diff: number }> {
  const session = await ort.InferenceSession.create(exportOnnx(model, { inputChannels: x.shape[1]!, spatialDims: 3 }), {
    intraOpNumThreads: options.threads, interOpNumThreads: 1,
  })
  const input = new ort.Tensor('float32', x.toArray() as Float32Array, x.shape)
  const samples: number[] = []
  let actual: Float32Array = new Float32Array()
  const warmup = Math.max(3, options.warmup)
  for (let i = 0; i < warmup + options.steps; i++) {
    const start = performance.now()
    actual = (await session.run({ input })).output!.data as Float32Array
    if (i >= warmup) samples.push(performance.now() - start)
  }
  await session.release()
  let diff = 0
  for (let i = 0; i < actual.length; i++) diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!))
  return { ms: median(samples), diff }
}

export async function benchTorch(options: TorchBenchOptions): Promise<TorchBenchResult> {
  const loadBefore = loadavg()[0]!
  setNumThreads(options.threads)
  manualSeed(0)
  const patch = [options.patch, options.patch, options.patch]
  const config = defaultUNetConfig(patch, 1, 2)
  const model = buildModel('unet', config) as UNet
  const x = randn([1, 1, ...patch])
  const target = randint(0, 2, [1, ...patch])
  const python = await PythonReference.start(config, patch, options.threads)
  const parameters = model.parameters().reduce((n, p) => n + p.numel, 0)
  let timings: Timings
  try {
    if (python.ready.parameters !== parameters || python.ready.threads !== options.threads) {
      throw new NodalError('bench-mismatch', `PyTorch reference differs: ${python.ready.parameters} parameters / ${python.ready.threads} threads, nodal ${parameters} / ${options.threads}`)
    }
    timings = await interleaved(model, x, target, python, options)
  } finally {
    python.close()
  }
  const stepFlop = 3 * forwardFlops(model, x)
  model.eval()
  const onnx = await timeOnnx(model, x, timings.output, options)
  const nodalStepMs = median(timings.nodalStep)
  const pytorchStepMs = median(timings.pytorchStep)
  const result: TorchBenchResult = {
    patch,
    threads: getNumThreads(),
    torch_version: torchVersion(),
    parameters,
    nodal_step_ms: round(nodalStepMs),
    pytorch_step_ms: round(pytorchStepMs),
    ratio: round(nodalStepMs / pytorchStepMs, 3),
    step_gflop: round(stepFlop / 1e9),
    gflops: round(stepFlop / 1e9 / (nodalStepMs / 1000)),
    pytorch_gflops: round(stepFlop / 1e9 / (pytorchStepMs / 1000)),
    nodal_step_min_ms: round(Math.min(...timings.nodalStep)),
    pytorch_step_min_ms: round(Math.min(...timings.pytorchStep)),
    ratio_min: round(Math.min(...timings.nodalStep) / Math.min(...timings.pytorchStep), 3),
    ratio_paired: round(median(timings.nodalStep.map((v, i) => v / timings.pytorchStep[i]!)), 3),
    nodal_step_samples_ms: timings.nodalStep.map((v) => round(v)),
    pytorch_step_samples_ms: timings.pytorchStep.map((v) => round(v)),
    libtorch_infer_ms: round(median(timings.nodalInfer)),
    pytorch_infer_ms: round(median(timings.pytorchInfer)),
    onnx_infer_ms: round(onnx.ms),
    onnx_max_abs_diff: onnx.diff,
    load_average: [round(loadBefore, 2), round(loadavg()[0]!, 2)],
  }
  model.dispose()
  return result
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

export function formatTorchBench(r: TorchBenchResult): string {
  return [
    `nodal bench torch: U-Net ${r.patch.join('x')} patch, ${(r.parameters / 1e6).toFixed(1)} M parameters, libtorch ${r.torch_version}, ${r.threads} threads`,
    `  training step (forward + deep-supervised Dice+CE + backward + SGD), median:`,
    `    nodal (TypeScript)    ${r.nodal_step_ms.toFixed(1).padStart(9)} ms   ${r.gflops.toFixed(1)} GFLOP/s`,
    `    PyTorch (Python)      ${r.pytorch_step_ms.toFixed(1).padStart(9)} ms   ${r.pytorch_gflops.toFixed(1)} GFLOP/s`,
    `    ratio nodal/PyTorch   ${r.ratio.toFixed(3).padStart(9)}      (target <= 1.10)   [${r.step_gflop} GFLOP per step]`,
    `    fastest steps         ${r.nodal_step_min_ms.toFixed(1)} ms vs ${r.pytorch_step_min_ms.toFixed(1)} ms, ratio ${r.ratio_min.toFixed(3)}; median of per-round ratios ${r.ratio_paired.toFixed(3)}`,
    `  inference (full-resolution output), median:`,
    `    libtorch (nodal)      ${r.libtorch_infer_ms.toFixed(1).padStart(9)} ms`,
    `    PyTorch (Python)      ${r.pytorch_infer_ms.toFixed(1).padStart(9)} ms`,
    `    ONNX Runtime          ${r.onnx_infer_ms.toFixed(1).padStart(9)} ms   max |ONNX - libtorch| = ${r.onnx_max_abs_diff.toExponential(2)}`,
    `  load average ${r.load_average[0]} before, ${r.load_average[1]} after (other processes slow both sides alike; steps are interleaved)`,
  ].join('\n')
}

export interface TorchBenchArgs extends TorchBenchOptions {
  json: boolean
}

/** Parses [--json] [--patch 96|64] [--threads N] [--steps N] [--warmup N]. */
export function parseTorchBenchArgs(argv: string[]): TorchBenchArgs {
  const args: TorchBenchArgs = { json: false, patch: 96, threads: availableParallelism(), warmup: 2, steps: 0 }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!
    if (flag === '--json') {
      args.json = true
      continue
    }
    const value = Number(argv[++i])
    const names: Record<string, 'patch' | 'threads' | 'steps' | 'warmup'> = { '--patch': 'patch', '--threads': 'threads', '--steps': 'steps', '--warmup': 'warmup' }
    const key = names[flag]
    if (!key) throw new NodalError('bad-arguments', `bench torch: unknown option ${flag} (use --json, --patch 96|64, --threads N, --steps N, --warmup N)`)
    if (!Number.isInteger(value) || value < (key === 'warmup' ? 0 : 1)) throw new NodalError('bad-arguments', `bench torch: ${flag} needs a positive integer`)
    args[key] = value
  }
  if (args.patch !== 96 && args.patch !== 64) throw new NodalError('bad-arguments', 'bench torch: --patch must be 96 or 64')
  if (args.steps === 0) args.steps = args.patch === 96 ? 3 : 5
  return args
}

async function main(): Promise<void> {
  const args = parseTorchBenchArgs(process.argv.slice(2))
  const result = await benchTorch(args)
  console.log(args.json ? JSON.stringify(result) : formatTorchBench(result))
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(`bench torch: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  })
}
