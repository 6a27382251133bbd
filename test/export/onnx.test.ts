import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as ort from 'onnxruntime-node'
import { buildModel, type UNetConfig } from '../../src/models/index.js'
import { exportOnnx } from '../../src/export/index.js'
import { encodeVarint } from '../../src/export/protobuf.js'
import { type Module, manualSeed, nn, noGrad, randn, tidy } from '../../src/torch/index.js'

const tolerance = 1e-4

/** max |libtorch − ONNX Runtime| for one random input of the given shape. */
async function parity(model: Module, shapes: number[][], spatialDims: 2 | 3): Promise<number[]> {
  const bytes = exportOnnx(model, { inputChannels: shapes[0]![1]!, spatialDims })
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 })
  const diffs: number[] = []
  model.eval()
  for (const shape of shapes) {
    const x = randn(shape)
    const expected = noGrad(() => tidy(() => model.forward(x).toArray() as Float32Array))
    const out = await session.run({ input: new ort.Tensor('float32', x.toArray() as Float32Array, shape) })
    const actual = out.output!.data as Float32Array
    assert.equal(actual.length, expected.length, `output size for input [${shape}]`)
    let max = 0
    for (let i = 0; i < actual.length; i++) max = Math.max(max, Math.abs(actual[i]! - expected[i]!))
    diffs.push(max)
  }
  await session.release()
  return diffs
}

const small3d: UNetConfig = {
  dims: 3, inChannels: 2, numClasses: 3, features: [4, 8, 12], kernelSizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]],
  strides: [[1, 1, 1], [1, 2, 2], [2, 2, 2]],
}

for (const name of ['unet', 'resenc_unet', 'attention_unet'] as const) {
  test(`ONNX export of ${name} (3D, anisotropic) matches libtorch, dynamic spatial axes`, async () => {
    manualSeed(20)
    const model = buildModel(name, small3d)
    const diffs = await parity(model, [[1, 2, 4, 16, 16], [2, 2, 8, 24, 32]], 3)
    for (const d of diffs) assert.ok(d <= tolerance, `${name}: max |diff| ${d}`)
  })
}

test('ONNX export of a 2D U-Net matches libtorch', async () => {
  manualSeed(21)
  const model = buildModel('attention_unet', {
    dims: 2, inChannels: 1, numClasses: 2, features: [4, 8, 8], kernelSizes: [[3, 3], [3, 3], [3, 3]], strides: [[1, 1], [2, 2], [2, 2]],
  })
  for (const d of await parity(model, [[1, 1, 32, 32], [1, 1, 16, 48]], 2)) assert.ok(d <= tolerance, `max |diff| ${d}`)
})

test('ONNX export of the node classifier matches libtorch', async () => {
  manualSeed(22)
  const model = buildModel('node_classifier', { inChannels: 2, numClasses: 2, features: [4, 8] })
  for (const d of await parity(model, [[3, 2, 16, 16, 16], [1, 2, 8, 12, 10]], 3)) assert.ok(d <= tolerance, `max |diff| ${d}`)
})

test('ONNX export of every other layer (batch/group norm, GELU, pooling, upsampling, linear) matches libtorch', async () => {
  manualSeed(23)
  const bn = new nn.BatchNorm(4)
  const model = new nn.Sequential(
    new nn.Conv3d(1, 4, 3), bn, new nn.ReLU(), new nn.MaxPool(3, 2), new nn.GroupNorm(2, 4), new nn.GELU(),
    new nn.Upsample([2, 2, 2]), new nn.AvgPool(3, [1, 2, 2]), new nn.Dropout(0.3), new nn.Sigmoid(),
    new nn.ConvTranspose3d(4, 3, 2, { stride: 2 }), new nn.GlobalAvgPool(), new nn.Linear(3, 5),
  )
  noGrad(() => { // non-trivial running statistics
    bn.runningMean.uniform_(-0.5, 0.5)
    bn.runningVar.uniform_(0.5, 2)
  })
  for (const d of await parity(model, [[2, 1, 8, 8, 8], [1, 1, 6, 10, 8]], 3)) assert.ok(d <= tolerance, `max |diff| ${d}`)
})

test('protobuf varints follow the encoding (including negative int64)', () => {
  assert.deepEqual(Array.from(encodeVarint(1n)), [1])
  assert.deepEqual(Array.from(encodeVarint(300n)), [0xac, 0x02])
  assert.equal(encodeVarint(BigInt.asUintN(64, -1n)).length, 10)
})
