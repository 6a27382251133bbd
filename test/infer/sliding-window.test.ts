import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { writeFile } from 'node:fs/promises'
import { buildModel, defaultUNetConfig } from '../../src/models/index.js'
import { exportOnnx } from '../../src/export/index.js'
import { manualSeed, noGrad, tensor, tidy } from '../../src/torch/index.js'
import { NodalError } from '../../src/errors.js'
import { OnnxModel, type PatchPredictor, gaussianImportance, slidingWindow, tileStarts } from '../../src/infer/index.js'
import { maxAbsDifference, tempDir } from '../helpers.js'

type Vec3 = [number, number, number]

/** Deterministic pseudo-random values in [0, 1). */
function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = s / 2 ** 32
  }
  return out
}

const sigmoid = (t: number) => 1 / (1 + Math.exp(-t))

/** Two-class logits [0, 10·(c0 − 0.5) + 2·c1] from each voxel's own input only (C = 1 or 2). */
function pointwise(channels: number, patch: Vec3, seen?: { patches: number; calls: number }): PatchPredictor {
  const voxels = patch[0] * patch[1] * patch[2]
  return async (batch, n) => {
    assert.equal(batch.length, n * channels * voxels)
    if (seen) { seen.patches += n; seen.calls++ }
    const out = new Float32Array(n * 2 * voxels)
    for (let b = 0; b < n; b++) {
      for (let v = 0; v < voxels; v++) {
        const c0 = batch[(b * channels) * voxels + v]!
        const c1 = channels > 1 ? batch[(b * channels + 1) * voxels + v]! : 0
        out[(b * 2 + 1) * voxels + v] = 10 * (c0 - 0.5) + 2 * c1
      }
    }
    return out
  }
}

function expectedPointwise(volume: Float32Array, shape: Vec3, channels: number): Float32Array {
  const n = shape[0] * shape[1] * shape[2]
  const out = new Float32Array(2 * n)
  for (let v = 0; v < n; v++) {
    const p1 = sigmoid(10 * (volume[v]! - 0.5) + (channels > 1 ? 2 * volume[n + v]! : 0))
    out[v] = 1 - p1
    out[n + v] = p1
  }
  return out
}

test('tileStarts: hand-computed cases', () => {
  assert.deepEqual(tileStarts(100, 64, 0.5), [0, 36])
  assert.deepEqual(tileStarts(64, 64, 0.5), [0])
  assert.deepEqual(tileStarts(40, 64, 0.5), [0])
  assert.deepEqual(tileStarts(200, 64, 0.5), [0, 34, 68, 102, 136])
  assert.deepEqual(tileStarts(40, 8, 0), [0, 8, 16, 24, 32])
  assert.deepEqual(tileStarts(20, 16, 0.5), [0, 4])
  // Rounding to the nearest step count must never leave a gap: 90/64 rounds to 1 step, but 2 are needed.
  assert.deepEqual(tileStarts(154, 64, 0), [0, 45, 90])
  assert.throws(() => tileStarts(100, 64, 1), NodalError)
  assert.throws(() => tileStarts(100, 64, -0.1), NodalError)
})

test('tileStarts: covers [0, size) without gaps for many sizes', () => {
  for (const overlap of [0, 0.25, 0.5, 0.75]) {
    for (let size = 1; size < 300; size += 7) {
      const starts = tileStarts(size, 32, overlap)
      assert.equal(starts[0], 0)
      assert.equal(starts[starts.length - 1], Math.max(0, size - 32))
      for (let i = 1; i < starts.length; i++) assert.ok(starts[i]! - starts[i - 1]! <= 32 && starts[i]! > starts[i - 1]!, `${size}/${overlap}: [${starts}]`)
    }
  }
})

test('gaussianImportance: peak at the centre, symmetric, positive', () => {
  for (const patch of [[5, 8, 7], [16, 16, 16]] as Vec3[]) {
    const [pz, py, px] = patch
    const w = gaussianImportance(patch, 0.125)
    assert.equal(w.length, pz * py * px)
    const at = (z: number, y: number, x: number) => w[(z * py + y) * px + x]!
    let max = 0
    let argmax = -1
    for (let i = 0; i < w.length; i++) {
      assert.ok(w[i]! > 0, `weight ${i} is ${w[i]}`)
      if (w[i]! > max) { max = w[i]!; argmax = i }
    }
    const cz = Math.floor((pz - 1) / 2), cy = Math.floor((py - 1) / 2), cx = Math.floor((px - 1) / 2)
    assert.equal(argmax, (cz * py + cy) * px + cx, `peak of [${patch}]`)
    assert.ok(Math.abs(max - 1) < 1e-6, `normalised peak ${max}`)
    for (let z = 0; z < pz; z++) {
      for (let y = 0; y < py; y++) {
        for (let x = 0; x < px; x++) {
          const v = at(z, y, x)
          assert.equal(at(pz - 1 - z, y, x), v)
          assert.equal(at(z, py - 1 - y, x), v)
          assert.equal(at(z, y, px - 1 - x), v)
        }
      }
    }
    assert.ok(at(0, 0, 0) < at(cz, cy, 0) && at(cz, cy, 0) < at(cz, cy, cx))
  }
  // Odd size: exact gaussian value one voxel off centre along x: exp(−1 / (2 (0.125·7)²)).
  const w = gaussianImportance([1, 1, 7], 0.125)
  assert.ok(Math.abs(w[4]! - Math.exp(-1 / (2 * 0.875 ** 2))) < 1e-6)
  // A very narrow gaussian underflows at the borders: clamped to the smallest non-zero weight, never 0.
  const narrow = gaussianImportance([9, 9, 9], 0.01)
  let smallest = Infinity
  for (const v of narrow) smallest = Math.min(smallest, v)
  assert.ok(smallest > 0)
  assert.equal(narrow[0], smallest)
})

test('slidingWindow: a per-voxel predictor is reproduced exactly (no seams), volume not divisible by the patch', async () => {
  const shape: Vec3 = [21, 37, 45]
  const patch: Vec3 = [8, 16, 16]
  const volume = random(2 * 21 * 37 * 45, 1)
  const expected = expectedPointwise(volume, shape, 2)
  for (const [overlap, batchSize] of [[0.5, 2], [0.25, 3], [0, 1]] as const) {
    const progress: number[] = []
    const seen = { patches: 0, calls: 0 }
    const expectedTiles = tileStarts(21, 8, overlap).length * tileStarts(37, 16, overlap).length * tileStarts(45, 16, overlap).length
    const result = await slidingWindow(volume, shape, pointwise(2, patch, seen), {
      patch, channels: 2, classes: 2, overlap, batchSize, onProgress: (done, total) => { progress.push(done); assert.equal(total, expectedTiles) },
    })
    assert.equal(result.tiles, expectedTiles)
    assert.equal(result.skippedTiles, 0)
    assert.equal(result.disagreement, null)
    assert.equal(seen.patches, result.tiles)
    assert.equal(seen.calls, Math.ceil(result.tiles / batchSize))
    assert.equal(progress[progress.length - 1], result.tiles)
    const d = maxAbsDifference(result.probabilities, expected)
    assert.ok(d < 1e-6, `overlap ${overlap}: max |diff| ${d}`)
  }
})

test('slidingWindow: more than two classes (general softmax), still seamless', async () => {
  const shape: Vec3 = [11, 19, 23]
  const patch: Vec3 = [8, 8, 8]
  const n = 11 * 19 * 23
  const volume = random(n, 8)
  const pv = 8 * 8 * 8
  const logitsOf = (u: number) => [3 * u, -2 * u + 1, 5 * (u - 0.5) ** 2 + 200] // a large offset: the softmax must be stable
  const predictor: PatchPredictor = async (batch, b) => {
    const out = new Float32Array(b * 3 * pv)
    for (let t = 0; t < b; t++) for (let v = 0; v < pv; v++) logitsOf(batch[t * pv + v]!).forEach((l, k) => { out[(t * 3 + k) * pv + v] = l })
    return out
  }
  const result = await slidingWindow(volume, shape, predictor, { patch, channels: 1, classes: 3 })
  let max = 0
  for (let v = 0; v < n; v++) {
    const l = logitsOf(volume[v]!).map((x) => Math.fround(x))
    const top = Math.max(...l)
    const e = l.map((x) => Math.exp(x - top))
    const sum = e[0]! + e[1]! + e[2]!
    for (let k = 0; k < 3; k++) max = Math.max(max, Math.abs(result.probabilities[k * n + v]! - e[k]! / sum))
  }
  assert.ok(max < 1e-6, `max |diff| ${max}`)
})

test('slidingWindow: a volume smaller than the patch is padded (centred, channel minimum) and cropped back', async () => {
  const shape: Vec3 = [5, 7, 30]
  const patch: Vec3 = [8, 8, 16]
  const volume = random(5 * 7 * 30, 2)
  for (let i = 0; i < volume.length; i++) volume[i] = volume[i]! + 0.25 // minimum > 0, so a 0 pad would show
  let min = Infinity
  for (const v of volume) min = Math.min(min, v)
  const result = await slidingWindow(volume, shape, pointwise(1, patch), { patch, channels: 1, classes: 2 })
  const d = maxAbsDifference(result.probabilities, expectedPointwise(volume, shape, 1))
  assert.ok(d < 1e-6, `max |diff| ${d}`)
  assert.equal(result.tiles, 3) // x: 30 in 16 with overlap 0.5 → [0, 7, 14]

  // What the network sees: z padded by 1 before and 2 after, y by 0 before and 1 after, with the minimum.
  const firstPatch: Float32Array[] = []
  const inner = pointwise(1, patch)
  await slidingWindow(volume, shape, async (batch, n) => { if (!firstPatch.length) firstPatch.push(batch.slice(0, 8 * 8 * 16)); return inner(batch, n) }, { patch, channels: 1, classes: 2 })
  const seen = firstPatch[0]!
  const at = (z: number, y: number, x: number) => seen[(z * 8 + y) * 16 + x]!
  for (let x = 0; x < 16; x++) {
    assert.equal(at(0, 3, x), min)
    assert.equal(at(6, 3, x), min)
    assert.equal(at(7, 0, x), min)
    assert.equal(at(3, 7, x), min)
    assert.equal(at(1, 0, x), volume[(0 * 7 + 0) * 30 + x])
    assert.equal(at(5, 6, x), volume[(4 * 7 + 6) * 30 + x])
  }
})

test('slidingWindow: mirror TTA of an equivariant predictor changes nothing and shows no disagreement', async () => {
  const shape: Vec3 = [13, 20, 18]
  const patch: Vec3 = [8, 8, 8]
  const volume = random(13 * 20 * 18, 3)
  const plain = await slidingWindow(volume, shape, pointwise(1, patch), { patch, channels: 1, classes: 2 })
  const seen = { patches: 0, calls: 0 }
  const mirrored = await slidingWindow(volume, shape, pointwise(1, patch, seen), { patch, channels: 1, classes: 2, mirrorAxes: [0, 1, 2] })
  assert.equal(seen.patches, 8 * mirrored.tiles)
  const d = maxAbsDifference(plain.probabilities, mirrored.probabilities)
  assert.ok(d < 1e-6, `max |diff| ${d}`)
  assert.ok(mirrored.disagreement)
  let max = 0
  for (const v of mirrored.disagreement) max = Math.max(max, v)
  assert.ok(max < 1e-10, `disagreement ${max}`)
})

test('slidingWindow: mirror TTA of a position-dependent predictor averages the flipped-back passes and disagrees', async () => {
  const patch: Vec3 = [6, 5, 4]
  const [pz, py, px] = patch
  const shape: Vec3 = [6, 5, 4] // one tile: the result is exactly the mean over passes
  const volume = random(pz * py * px, 4)
  // logit1 = 4·(input − 0.5) + 0.7·(local z − 2.5): depends on where in the patch the voxel lies.
  const predictor: PatchPredictor = async (batch, n) => {
    const out = new Float32Array(n * 2 * batch.length / n)
    const voxels = pz * py * px
    for (let b = 0; b < n; b++) {
      for (let v = 0; v < voxels; v++) out[(b * 2 + 1) * voxels + v] = 4 * (batch[b * voxels + v]! - 0.5) + 0.7 * (Math.floor(v / (py * px)) - 2.5)
    }
    return out
  }
  const result = await slidingWindow(volume, shape, predictor, { patch, channels: 1, classes: 2, mirrorAxes: [0] })
  assert.ok(result.disagreement)
  let max = 0
  for (let z = 0; z < pz; z++) {
    for (let i = 0; i < py * px; i++) {
      const v = z * py * px + i
      const a = sigmoid(4 * (volume[v]! - 0.5) + 0.7 * (z - 2.5)) // as is
      const b = sigmoid(4 * (volume[v]! - 0.5) + 0.7 * (pz - 1 - z - 2.5)) // seen mirrored, flipped back
      const mean = (a + b) / 2
      assert.ok(Math.abs(result.probabilities[pz * py * px + v]! - mean) < 1e-6, `voxel ${v}`)
      assert.ok(Math.abs(result.probabilities[v]! - (1 - mean)) < 1e-6)
      assert.ok(Math.abs(result.disagreement[v]! - ((a - b) / 2) ** 2) < 1e-6, `variance at ${v}`)
      max = Math.max(max, result.disagreement[v]!)
    }
  }
  assert.ok(max > 1e-3, `disagreement ${max}`)
  // Mirroring along an axis the predictor ignores (y) gives no disagreement.
  const ySymmetric = await slidingWindow(volume, shape, predictor, { patch, channels: 1, classes: 2, mirrorAxes: [1, 1] })
  let yMax = 0
  for (const v of ySymmetric.disagreement!) yMax = Math.max(yMax, v)
  assert.ok(yMax < 1e-10, `y-mirror disagreement ${yMax}`)
})

test('slidingWindow: skipBelow skips all-air tiles, which come out as background 1.0', async () => {
  const shape: Vec3 = [8, 8, 40]
  const patch: Vec3 = [8, 8, 8]
  const volume = new Float32Array(8 * 8 * 40)
  const tissue = random(volume.length, 5)
  for (let z = 0; z < 8; z++) for (let y = 0; y < 8; y++) for (let x = 0; x < 40; x++) {
    const i = (z * 8 + y) * 40 + x
    volume[i] = x < 24 ? -1000 : tissue[i]!
  }
  const seen = { patches: 0, calls: 0 }
  const progress: number[] = []
  const result = await slidingWindow(volume, shape, pointwise(1, patch, seen), {
    patch, channels: 1, classes: 2, overlap: 0, skipBelow: -500, onProgress: (done) => progress.push(done),
  })
  assert.equal(result.tiles, 5) // x starts 0, 8, 16, 24, 32
  assert.equal(result.skippedTiles, 3)
  assert.equal(seen.patches, 2)
  assert.deepEqual(progress, [1, 2, 3, 5])
  const n = volume.length
  const expected = expectedPointwise(volume, shape, 1)
  for (let i = 0; i < n; i++) {
    if (i % 40 < 24) {
      assert.equal(result.probabilities[i], 1)
      assert.equal(result.probabilities[n + i], 0)
    } else {
      assert.ok(Math.abs(result.probabilities[n + i]! - expected[n + i]!) < 1e-6)
    }
  }
  // With overlap, voxels covered only by air tiles stay exactly 1; no skipping without the option.
  const overlapped = await slidingWindow(volume, shape, pointwise(1, patch), { patch, channels: 1, classes: 2, skipBelow: -500 })
  assert.equal(overlapped.tiles, 9)
  assert.equal(overlapped.skippedTiles, 5) // starts 0, 4, …, 32: those ending at or before x = 24
  for (let x = 0; x < 20; x++) assert.equal(overlapped.probabilities[x], 1)
  const all = { patches: 0, calls: 0 }
  const unskipped = await slidingWindow(volume, shape, pointwise(1, patch, all), { patch, channels: 1, classes: 2 })
  assert.equal(unskipped.skippedTiles, 0)
  assert.equal(all.patches, 9)
})

test('slidingWindow: rejects inconsistent inputs and predictor outputs', async () => {
  const patch: Vec3 = [4, 4, 4]
  await assert.rejects(slidingWindow(new Float32Array(10), [4, 4, 4], pointwise(1, patch), { patch, channels: 1, classes: 2 }), NodalError)
  await assert.rejects(slidingWindow(new Float32Array(64), [4, 4, 4], pointwise(1, patch), { patch, channels: 1, classes: 3 }), /returned 128 values/)
  await assert.rejects(slidingWindow(new Float32Array(64), [4, 4, 4], pointwise(1, patch), { patch, channels: 1, classes: 2, mirrorAxes: [3] }), NodalError)
})

/** Softmax over 2 channels of libtorch logits [B, 2, ...] → P(class 1) per voxel. */
function foregroundOf(logits: Float32Array, batch: number, voxels: number): Float32Array {
  const out = new Float32Array(batch * voxels)
  for (let b = 0; b < batch; b++) {
    for (let v = 0; v < voxels; v++) out[b * voxels + v] = sigmoid(logits[(b * 2 + 1) * voxels + v]! - logits[b * 2 * voxels + v]!)
  }
  return out
}

test('slidingWindow through ONNX Runtime matches libtorch tile by tile (UNet export)', async () => {
  manualSeed(31)
  const patch: Vec3 = [16, 16, 16]
  const model = buildModel('unet', defaultUNetConfig(patch, 1, 2))
  model.eval()
  const onnx = await OnnxModel.load(exportOnnx(model, { inputChannels: 1, spatialDims: 3 }), { threads: 2 })
  try {
    assert.equal(onnx.inputName, 'input')
    assert.equal(onnx.outputName, 'output')
    const pv = 16 * 16 * 16

    // Single tile: volume == patch.
    const single = random(pv, 6)
    const one = await slidingWindow(single, patch, onnx.predictor(patch, 1), { patch, channels: 1, classes: 2 })
    assert.equal(one.tiles, 1)
    const reference = foregroundOf(noGrad(() => tidy(() => model.forward(tensor(single, [1, 1, ...patch])).toArray() as Float32Array)), 1, pv)
    let d = 0
    for (let v = 0; v < pv; v++) d = Math.max(d, Math.abs(one.probabilities[pv + v]! - reference[v]!), Math.abs(one.probabilities[v]! - (1 - reference[v]!)))
    assert.ok(d < 1e-4, `single tile: max |diff| ${d}`)

    // 20×24×28: run libtorch on every tile; where one tile covers a voxel it must match, elsewhere the
    // stitched value lies between the covering tiles' values (a weighted mean).
    const shape: Vec3 = [20, 24, 28]
    const [Z, Y, X] = shape
    const volume = random(Z * Y * X, 7)
    const result = await slidingWindow(volume, shape, onnx.predictor(patch, 1), { patch, channels: 1, classes: 2, batchSize: 3 })
    const starts = shape.map((s) => tileStarts(s, 16, 0.5))
    const tiles: Vec3[] = []
    for (const z of starts[0]!) for (const y of starts[1]!) for (const x of starts[2]!) tiles.push([z, y, x])
    assert.equal(result.tiles, tiles.length)
    const batch = new Float32Array(tiles.length * pv)
    tiles.forEach(([tz, ty, tx], t) => {
      for (let z = 0; z < 16; z++) for (let y = 0; y < 16; y++) {
        const s = ((tz + z) * Y + ty + y) * X + tx
        batch.set(volume.subarray(s, s + 16), t * pv + (z * 16 + y) * 16)
      }
    })
    const perTile = foregroundOf(noGrad(() => tidy(() => model.forward(tensor(batch, [tiles.length, 1, ...patch])).toArray() as Float32Array)), tiles.length, pv)
    const n = Z * Y * X
    const low = new Float32Array(n).fill(Infinity)
    const high = new Float32Array(n).fill(-Infinity)
    const count = new Uint8Array(n)
    tiles.forEach(([tz, ty, tx], t) => {
      for (let z = 0; z < 16; z++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
        const g = ((tz + z) * Y + ty + y) * X + tx + x
        const p = perTile[t * pv + (z * 16 + y) * 16 + x]!
        low[g] = Math.min(low[g]!, p)
        high[g] = Math.max(high[g]!, p)
        count[g]!++
      }
    })
    let single_ = 0
    let worst = 0
    for (let g = 0; g < n; g++) {
      const p = result.probabilities[n + g]!
      assert.ok(count[g]! > 0)
      if (count[g] === 1) { single_++; worst = Math.max(worst, Math.abs(p - low[g]!)) }
      assert.ok(p >= low[g]! - 1e-4 && p <= high[g]! + 1e-4, `voxel ${g}: ${p} outside [${low[g]}, ${high[g]}]`)
    }
    assert.ok(single_ > 1000, `${single_} voxels covered by one tile`)
    assert.ok(worst < 1e-4, `one-tile voxels: max |diff| ${worst}`)

    // The same model from a file path.
    const dir = tempDir()
    try {
      const path = join(dir.path, 'unet.onnx')
      await writeFile(path, exportOnnx(model, { inputChannels: 1, spatialDims: 3 }))
      const fromFile = await OnnxModel.load(path, { threads: 1 })
      const again = await slidingWindow(single, patch, fromFile.predictor(patch, 1), { patch, channels: 1, classes: 2 })
      await fromFile.release()
      assert.ok(maxAbsDifference(again.probabilities, one.probabilities) < 1e-5)
    } finally {
      dir.cleanup()
    }
  } finally {
    await onnx.release()
  }
})
