/**
 * End-to-end prediction benchmark (issue 10): a 512x512x300 chest CT phantom (0.7x0.7x1.5 mm) through a model
 * bundle without TTA, on this machine's cores: time per stage (read, preprocess, network, postprocess,
 * write), peak RSS, and the network stage's GFLOP/s beside the GFLOP/s of one large convolution in ONNX
 * Runtime measured in the same run (the practical ceiling of this CPU for this engine).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/predict.js [--model models/ct_nodes] [--input ct.nii.gz] [--threads N]
 *
 * Without --input the phantom is made once (nodal phantom --size 512,512,300 --spacing 0.7,0.7,1.5) under
 * .bench/ and reused.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-node'
import { exportOnnx } from '../src/export/index.js'
import { writeCaseOutputs } from '../src/infer/outputs.js'
import { loadModel } from '../src/infer/predict.js'
import { readVolume } from '../src/io/index.js'
import type { UNetConfig } from '../src/models/index.js'
import { manualSeed, nn, setNumThreads } from '../src/torch/index.js'
import { benchmarkCt } from './benchmark-ct.js'
import { arg } from './args.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const threads = Number(arg('threads', String(availableParallelism())))
const modelDir = arg('model', join(root, 'models/ct_nodes'))


/** Multiply-adds x 2 of every convolution of the U-Net's inference graph on one patch. */
export function unetFlops(c: UNetConfig, patch: number[]): number {
  let flops = 0
  let size = [...patch]
  const sizes: number[][] = []
  c.features.forEach((f, s) => {
    size = size.map((v, a) => Math.ceil(v / c.strides[s]![a]!))
    sizes.push(size)
    const k = c.kernelSizes[s]!.reduce((p, v) => p * v, 1)
    const voxels = size.reduce((p, v) => p * v, 1)
    const input = s === 0 ? c.inChannels : c.features[s - 1]!
    flops += 2 * voxels * k * (input * f + f * f * ((c.encoderBlocks?.[s] ?? 2) - 1))
  })
  for (let s = c.features.length - 2; s >= 0; s--) {
    const voxels = sizes[s]!.reduce((p, v) => p * v, 1)
    const f = c.features[s]!
    const k = c.kernelSizes[s]!.reduce((p, v) => p * v, 1)
    // transposed convolution with kernel = stride: each output voxel receives one kernel tap per input channel
    flops += 2 * voxels * c.features[s + 1]! * f
    flops += 2 * voxels * k * (2 * f * f + f * f * ((c.decoderConvs ?? 2) - 1))
    if (s === 0) flops += 2 * voxels * f * c.numClasses
  }
  return flops
}

/** GFLOP/s of one 32->32 channel 3x3x3 convolution on a 96^3 volume in ONNX Runtime (median of 5). */
async function convCeiling(): Promise<number> {
  setNumThreads(threads)
  manualSeed(0)
  const conv = new nn.Conv(3, 32, 32, 3, { padding: 1 })
  const session = await ort.InferenceSession.create(exportOnnx(conv, { inputChannels: 32, spatialDims: 3 }), { intraOpNumThreads: threads, interOpNumThreads: 1 })
  const n = 96
  const input = new ort.Tensor('float32', new Float32Array(32 * n ** 3).map(() => Math.random()), [1, 32, n, n, n])
  const times: number[] = []
  for (let i = 0; i < 7; i++) {
    const t = performance.now()
    await session.run({ [session.inputNames[0]!]: input })
    if (i >= 2) times.push(performance.now() - t)
  }
  await session.release()
  conv.dispose()
  times.sort((a, b) => a - b)
  return (2 * 32 * 32 * 27 * n ** 3) / 1e9 / (times[2]! / 1000)
}

async function main(): Promise<void> {
  const input = arg('input', '') || benchmarkCt(root)
  const load = loadavg()[0]!
  const t0 = performance.now()
  const model = await loadModel(modelDir, { threads })
  const ct = await readVolume(input)
  const t1 = performance.now()
  const result = await model.predict([ct], {})
  const t2 = performance.now()
  const out = mkdtempSync(join(tmpdir(), 'nodal-bench-'))
  await writeCaseOutputs(out, { caseName: 'bench', input, dicomDir: null, model: model.json, modelDir, result, formats: new Set(['nifti', 'json', 'csv']), seconds: (t2 - t0) / 1000 })
  const t3 = performance.now()
  rmSync(out, { recursive: true, force: true })
  await model.release()
  const rssGb = process.resourceUsage().maxRSS / 1024 / 1024
  const tileFlops = unetFlops(model.json.network.config as unknown as UNetConfig, model.json.patch_size)
  const networkGflops = ((result.network.tiles - result.network.skippedTiles) * tileFlops) / 1e9 / result.timings.network
  const ceiling = await convCeiling()
  const total = (t3 - t0) / 1000
  console.log(`nodal predict benchmark: ${ct.shape.join('x')} CT (${ct.spacing.map((s) => s.toFixed(2)).join('x')} mm), model ${model.json.name}, ${threads} threads, load average ${load.toFixed(2)}`)
  console.log(`  read (model + scan)  ${((t1 - t0) / 1000).toFixed(2)} s`)
  console.log(`  preprocess           ${result.timings.preprocess.toFixed(2)} s   (network grid ${result.network.shape.join('x')})`)
  console.log(`  network              ${result.timings.network.toFixed(2)} s   ${result.network.tiles} tiles, ${result.network.skippedTiles} skipped as air; ${networkGflops.toFixed(1)} GFLOP/s`)
  console.log(`  postprocess          ${result.timings.postprocess.toFixed(2)} s   (${result.nodes.length} nodes)`)
  console.log(`  write                ${((t3 - t2) / 1000).toFixed(2)} s`)
  console.log(`  total                ${total.toFixed(2)} s   (target <= 60 s)`)
  console.log(`  peak RSS             ${rssGb.toFixed(2)} GB  (target <= 3 GB)`)
  console.log(`  ONNX Runtime ceiling ${ceiling.toFixed(1)} GFLOP/s (one 32->32 3x3x3 convolution on 96^3, same threads): the network stage runs at ${((100 * networkGflops) / ceiling).toFixed(0)}% of it`)
}

main().catch((e: unknown) => {
  console.error(`bench predict: ${e instanceof Error ? e.message : String(e)}`)
  process.exit(1)
})
