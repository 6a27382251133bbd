/**
 * onnxruntime-web (WebAssembly) is nodal's fallback where onnxruntime-node is not installed (its install
 * step needs nuget.org): both runtimes must give the same logits for the shipped models.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { OnnxModel, onnxRuntime } from '../../src/infer/onnx-session.js'
import { maxAbsDifference, REPO } from '../helpers.js'

/** A deterministic patch that is not constant (so every filter sees structure). */
function pattern(n: number, scale: number): Float32Array {
  const x = new Float32Array(n)
  for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.37) * scale + Math.cos(i * 0.011)
  return x
}

function maxAbs(a: Float32Array): number {
  let m = 0
  for (const v of a) m = Math.max(m, Math.abs(v))
  return m
}

test('onnxruntime-web gives the logits onnxruntime-node gives (shipped stage-1 model, one patch)', async () => {
  const patch: [number, number, number] = [48, 56, 56]
  const x = pattern(patch[0] * patch[1] * patch[2], 2)
  const outputs: Float32Array[] = []
  for (const runtime of ['node', 'web'] as const) {
    const model = await OnnxModel.load(join(REPO, 'models/ct_nodes/fold_all.onnx'), { runtime, threads: 2 })
    outputs.push(await model.predictor(patch, 1)(x, 1))
    await model.release()
  }
  const classes = JSON.parse(readFileSync(join(REPO, 'models/ct_nodes/model.json'), 'utf8')).classes.length
  assert.equal(outputs[0]!.length, classes * patch[0] * patch[1] * patch[2])
  const range = maxAbs(outputs[0]!)
  assert.ok(range > 1, `logits span a real range (${range})`)
  assert.ok(maxAbsDifference(outputs[0]!, outputs[1]!) < 1e-3 * range, `max difference ${maxAbsDifference(outputs[0]!, outputs[1]!)} of ${range}`)
})

test('onnxruntime-web runs the stage-2 classifier (named inputs, two outputs) as onnxruntime-node does', async () => {
  const patch = pattern(2 * 2 * 32 * 32 * 32, 1.5)
  const measured = pattern(2 * 7, 0.8)
  const outputs: Record<string, { data: Float32Array }>[] = []
  for (const runtime of ['node', 'web'] as const) {
    const model = await OnnxModel.load(join(REPO, 'models/nodes_multi/classifier_ct.onnx'), { runtime, threads: 1 })
    outputs.push(await model.run({ patch: { data: patch, dims: [2, 2, 32, 32, 32] }, measured: { data: measured, dims: [2, 7] } }))
    await model.release()
  }
  for (const name of ['logits', 'cam']) {
    const [a, b] = [outputs[0]![name]!.data, outputs[1]![name]!.data]
    const range = maxAbs(a)
    assert.ok(range > 0, `${name} is not all zero`)
    assert.ok(maxAbsDifference(a, b) < 1e-3 * range + 1e-5, `${name}: max difference ${maxAbsDifference(a, b)} of ${range}`)
  }
})

test('the runtime is chosen by NODAL_ONNX_RUNTIME; an unknown value is one line', async () => {
  assert.equal((await onnxRuntime('web')).name, 'onnxruntime-web')
  assert.equal((await onnxRuntime('node')).name, 'onnxruntime-node')
  await assert.rejects(onnxRuntime('cuda'), /ONNX runtime "cuda": use node or web/)
})
