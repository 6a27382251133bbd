import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  augmentPatch, centerCrop, defaultAugmentOptions, gaussian, identityMatrix, makeRng, randomDisplacement,
  adjustGamma, rotationMatrix, simulateLowResolution, spatialTransform,
  type AugmentInput, type AugmentOptions, type AugmentOutput, type Vec3,
} from '../../src/train/augment/index.js'

type Fn = (z: number, y: number, x: number, c: number) => number

function makeInput(shape: Vec3, spacing: Vec3, channels: number, image: Fn,
  label: (z: number, y: number, x: number) => number = () => 0): AugmentInput {
  const [Z, Y, X] = shape
  const input: AugmentInput = {
    image: new Float32Array(channels * Z * Y * X), label: new Uint8Array(Z * Y * X), channels, shape, spacing,
  }
  for (let c = 0; c < channels; c++) {
    for (let z = 0; z < Z; z++) {
      for (let y = 0; y < Y; y++) {
        for (let x = 0; x < X; x++) {
          const i = (z * Y + y) * X + x
          input.image[c * Z * Y * X + i] = image(z, y, x, c)
          if (c === 0) input.label[i] = label(z, y, x)
        }
      }
    }
  }
  return input
}

/** Every transform off. */
function noAugmentation(): AugmentOptions {
  return {
    rotation: { probability: 0, maxDegrees: [30, 30, 30] },
    scaling: { probability: 0, range: [0.7, 1.4] },
    elastic: { probability: 0, alphaMm: [0, 2], sigmaMm: [8, 12] },
    mirror: { axes: [] },
    gamma: { probability: 0, range: [0.7, 1.5], invertedProbability: 0 },
    brightness: { probability: 0, range: [0.75, 1.25] },
    contrast: { probability: 0, range: [0.75, 1.25] },
    noise: { probability: 0, maxVariance: 0.1 },
    blur: { probability: 0, sigmaVoxels: [0.5, 1] },
    lowResolution: { probability: 0, zoomRange: [0.5, 1] },
  }
}

/** Every spatial transform forced (rotation ±30° about each axis, zoom, elastic, mirroring), no intensity. */
function allSpatial(): AugmentOptions {
  const options = noAugmentation()
  options.rotation = { probability: 1, maxDegrees: [30, 30, 30] }
  options.scaling = { probability: 1, range: [0.7, 1.4] }
  options.elastic = { probability: 1, alphaMm: [1, 3], sigmaMm: [8, 12] }
  options.mirror = { axes: [0, 1, 2] }
  return options
}

/** Every intensity transform forced, no spatial one. */
function allIntensity(): AugmentOptions {
  const options = noAugmentation()
  options.gamma = { probability: 1, range: [0.7, 1.5], invertedProbability: 1 }
  options.brightness.probability = 1
  options.contrast.probability = 1
  options.noise.probability = 1
  options.blur.probability = 1
  options.lowResolution.probability = 1
  return options
}

/** Every transform forced. */
function everything(): AugmentOptions {
  const { rotation, scaling, elastic, mirror } = allSpatial()
  return { ...allIntensity(), rotation, scaling, elastic, mirror }
}

function bytes(patch: AugmentOutput): Buffer {
  return Buffer.concat([Buffer.from(patch.image.buffer), Buffer.from(patch.label)])
}

function countDifferent(a: ArrayLike<number>, b: ArrayLike<number>, tolerance = 0): number {
  let n = 0
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tolerance)) n++
  return n
}

/** A smooth image: two Gaussian blobs (in mm) on a gentle ramp; blobs exceed 0.5 near their centres. */
function blobs(spacing: Vec3): Fn {
  const [sz, sy, sx] = spacing
  const blob = (z: number, y: number, x: number, [cz, cy, cx]: Vec3, r: number) =>
    Math.exp(-(((z - cz) * sz) ** 2 + ((y - cy) * sy) ** 2 + ((x - cx) * sx) ** 2) / (2 * r * r))
  return (z, y, x) => blob(z, y, x, [22, 30, 24], 6) + 0.8 * blob(z, y, x, [34, 22, 36], 5) + 0.002 * x
}

test('spatial transforms keep image and label aligned', () => {
  const spacing: Vec3 = [1.5, 1, 0.8]
  const f = blobs(spacing)
  const threshold = 0.5
  const input = makeInput([56, 56, 56], spacing, 1, f, (z, y, x) => f(z, y, x, 0) > threshold ? 1 : 0)
  const crop = centerCrop(input, [40, 40, 40])
  const voxels = 40 ** 3
  for (let seed = 1; seed <= 6; seed++) {
    const out = augmentPatch(input, [40, 40, 40], allSpatial(), makeRng(seed))
    const foreground = out.label.reduce((n, l) => n + l, 0)
    assert.ok(foreground > 0.005 * voxels && foreground < 0.5 * voxels, `seed ${seed}: foreground ${foreground}`)
    assert.ok(countDifferent(out.image, crop.image, 1e-3) > 0.2 * voxels, `seed ${seed}: transform is trivial`)
    let mismatches = 0
    for (let i = 0; i < voxels; i++) {
      if (out.label[i] !== (out.image[i] > threshold ? 1 : 0)) {
        mismatches++
        assert.ok(Math.abs(out.image[i] - threshold) < 0.1, `seed ${seed}: mismatch far from the boundary`)
      }
    }
    assert.ok(mismatches <= 0.01 * voxels, `seed ${seed}: ${mismatches} label voxels disagree with the image`)
  }
})

test('mirroring flips image and label together', () => {
  const shape: Vec3 = [6, 7, 8]
  const [Z, Y, X] = shape
  // An asymmetric object: distinct values on an L-shaped set of voxels, label = value.
  const id = (z: number, y: number, x: number) =>
    (z === 1 && y === 2 && x <= 4) || (z <= 3 && y === 2 && x === 1) || (z === 1 && y === 5 && x === 1)
      ? 1 + z * 50 + y * 7 + x : 0
  const input = makeInput(shape, [1, 1, 1], 1, (z, y, x) => id(z, y, x), id)
  const options = noAugmentation()
  options.mirror.axes = [0, 1, 2]
  const seen = new Set<number>()
  for (let seed = 0; seed < 24; seed++) {
    const out = augmentPatch(input, shape, options, makeRng(seed))
    let match = -1
    for (let flips = 0; flips < 8; flips++) {
      let same = true
      for (let z = 0; z < Z && same; z++) {
        for (let y = 0; y < Y && same; y++) {
          for (let x = 0; x < X && same; x++) {
            const src = id(flips & 1 ? Z - 1 - z : z, flips & 2 ? Y - 1 - y : y, flips & 4 ? X - 1 - x : x)
            const i = (z * Y + y) * X + x
            same = out.image[i] === src && out.label[i] === src
          }
        }
      }
      if (same) match = flips
    }
    assert.notEqual(match, -1, `seed ${seed}: image and label are not the same flip of the input`)
    seen.add(match)
  }
  assert.ok(seen.size >= 6, `only ${seen.size} of 8 flip combinations seen`)
})

test('same seed gives identical bytes, another seed different ones', () => {
  const spacing: Vec3 = [2, 0.9, 0.9]
  const input = makeInput([40, 44, 44], spacing, 2, (z, y, x, c) => Math.sin(0.2 * z + 0.3 * y * (c + 1)) + 0.01 * x,
    (z, y, x) => (z + y + x) % 3)
  const options = everything()
  const a = augmentPatch(input, [32, 32, 32], options, makeRng(42))
  const b = augmentPatch(input, [32, 32, 32], options, makeRng(42))
  const c = augmentPatch(input, [32, 32, 32], options, makeRng(43))
  assert.ok(bytes(a).equals(bytes(b)))
  assert.ok(!bytes(a).equals(bytes(c)))
  assert.ok(a.image.every(Number.isFinite))
})

test('makeRng is reproducible and gaussian is standard normal', () => {
  const [r1, r2] = [makeRng(7), makeRng(7)]
  const draws = Array.from({ length: 1000 }, () => r1())
  assert.deepEqual(draws, Array.from({ length: 1000 }, () => r2()))
  assert.ok(draws.every(v => v >= 0 && v < 1))
  assert.notDeepEqual(draws.slice(0, 10), Array.from({ length: 10 }, makeRng(8)))
  const rng = makeRng(1)
  const n = 20000
  const g = Array.from({ length: n }, () => gaussian(rng))
  const mean = g.reduce((s, v) => s + v, 0) / n
  const variance = g.reduce((s, v) => s + (v - mean) ** 2, 0) / n
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `mean ${mean}, variance ${variance}`)
})

test('no transform gives exactly the centre crop', () => {
  const f: Fn = (z, y, x, c) => Math.cos(z * 0.7 + c) * 100 + y * 3.25 - x * 0.1
  const l = (z: number, y: number, x: number) => (z * 7 + y * 3 + x) % 5
  const input = makeInput([9, 12, 15], [3, 0.7, 0.7], 2, f, l)
  // Hand check of the crop window: offsets floor((region - patch) / 2) = (1, 2, 3).
  const crop = centerCrop(input, [6, 8, 8])
  assert.equal(crop.image[0], Math.fround(f(1, 2, 3, 0)))
  assert.equal(crop.image[6 * 8 * 8 + (5 * 8 + 7) * 8 + 7], Math.fround(f(6, 9, 10, 1)))
  assert.equal(crop.label[(2 * 8 + 1) * 8 + 4], l(3, 3, 7))
  for (const patch of [[6, 8, 8], [4, 5, 7], [9, 12, 15], [11, 8, 17]] as Vec3[]) {
    const expected = bytes(centerCrop(input, patch))
    assert.ok(bytes(augmentPatch(input, patch, noAugmentation(), makeRng(3))).equals(expected), `${patch}`)
    assert.ok(bytes(spatialTransform(input, patch, identityMatrix())).equals(expected), `identity ${patch}`)
  }
  // A region smaller than the patch is padded with the channel minimum and label 0.
  const padded = centerCrop(input, [11, 12, 15])
  assert.equal(padded.label[0], 0)
  assert.equal(padded.image[0], Math.min(...input.image.subarray(0, 9 * 12 * 15)))
  assert.equal(padded.image[12 * 15], input.image[0])
})

function findNonzero(patch: AugmentOutput): number[] {
  return [...patch.label.keys()].filter(i => patch.label[i] !== 0)
}

test('a 90 degree rotation moves a voxel to the hand-computed place', () => {
  // Region [5, 9, 11], patch [3, 7, 7]: crop offsets (1, 1, 2), so the region centre is voxel (2, 4, 5) and
  // the patch centre (1, 3, 3). The matrix maps output offsets to input offsets; about z by 90°:
  // input (dy, dx) = (-out dx, out dy). Input voxel (2, 2, 7) has offset (0, -2, 2) <- output offset
  // (0, 2, 2), i.e. output voxel (1, 5, 5).
  const shape: Vec3 = [5, 9, 11]
  const at = (z: number, y: number, x: number) => z === 2 && y === 2 && x === 7
  const input = makeInput(shape, [2.5, 0.9, 0.9], 1, (z, y, x) => at(z, y, x) ? 10 : 0,
    (z, y, x) => at(z, y, x) ? 3 : 0)
  const out = spatialTransform(input, [3, 7, 7], rotationMatrix([Math.PI / 2, 0, 0]))
  const target = (1 * 7 + 5) * 7 + 5
  assert.deepEqual(findNonzero(out), [target])
  assert.equal(out.label[target], 3)
  assert.ok(Math.abs(out.image[target] - 10) < 1e-4)
  assert.equal(countDifferent(out.image, new Float32Array(out.image.length), 1e-4), 1)
  // About y by 90° (isotropic z-x plane): input (dz, dx) = (out dx, -out dz). Input offset (1, 0, 2) from the
  // centre (3, 3, 3) of a 7³ region <- output offset (-2, 0, 1), output voxel (1, 3, 4).
  const cube = makeInput([7, 7, 7], [1, 1, 1], 1, (z, y, x) => z === 4 && y === 3 && x === 5 ? 1 : 0,
    (z, y, x) => z === 4 && y === 3 && x === 5 ? 1 : 0)
  const turned = spatialTransform(cube, [7, 7, 7], rotationMatrix([0, Math.PI / 2, 0]))
  assert.deepEqual(findNonzero(turned), [(1 * 7 + 3) * 7 + 4])
  // Rotations act in mm. Spacing [1, 1, 2]: output offset (0, 0, 1) voxel = (0, 0, 2) mm <- input (0, -2, 0) mm
  // = (0, -2, 0) voxels. Input voxel (1, 2, 4) of a [3, 9, 9] region (centre (1, 4, 4)) lands on output
  // (1, 4, 5); output (1, 3 or 5, 5) sample input x = ∓0.5 voxel, half of it.
  const wide = makeInput([3, 9, 9], [1, 1, 2], 1, (z, y, x) => z === 1 && y === 2 && x === 4 ? 10 : 0)
  const physical = spatialTransform(wide, [3, 9, 9], rotationMatrix([Math.PI / 2, 0, 0]))
  const value = (z: number, y: number, x: number) => physical.image[(z * 9 + y) * 9 + x]
  assert.ok(Math.abs(value(1, 4, 5) - 10) < 1e-4, `centre ${value(1, 4, 5)}`)
  assert.ok(Math.abs(value(1, 3, 5) - 5) < 1e-4 && Math.abs(value(1, 5, 5) - 5) < 1e-4)
  assert.ok(Math.abs(physical.image.reduce((s, v) => s + v, 0) - 20) < 1e-3)
})

test('elastic displacement has standard deviation alphaMm and is smooth', () => {
  for (const spacing of [[1, 1, 1], [3, 0.7, 0.7]] as Vec3[]) {
    const field = randomDisplacement([64, 64, 64], spacing, 2, 10, makeRng(5))
    const v = field.values
    const mean = v.reduce((s, x) => s + x, 0) / v.length
    const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length)
    assert.ok(std > 1.4 && std < 2.6, `${spacing}: std ${std}`)
    // Neighbouring nodes (a few mm apart, well under sigma) differ much less than the field varies overall.
    let squares = 0
    for (let i = 0; i + 1 < v.length; i++) squares += (v[i + 1] - v[i]) ** 2
    assert.ok(Math.sqrt(squares / (v.length - 1)) < 0.6 * std, `${spacing}: field is rough`)
  }
})

test('intensity transforms never change labels and keep values finite', () => {
  const input = makeInput([20, 24, 24], [1, 1, 1], 2, (z, y, x, c) => c ? (x - 12) * 0.3 : Math.sin(z * 0.4) * 2 - 1,
    (z, y, x) => (x * 3 + y + z * 5) % 4 === 0 ? 255 : (x + y) % 3)
  const patch: Vec3 = [16, 20, 20]
  const crop = centerCrop(input, patch)
  for (let seed = 1; seed <= 5; seed++) {
    const out = augmentPatch(input, patch, allIntensity(), makeRng(seed))
    assert.ok(Buffer.from(out.label).equals(Buffer.from(crop.label)), `seed ${seed}: label changed`)
    assert.ok(out.image.every(Number.isFinite), `seed ${seed}: non-finite value`)
    assert.ok(countDifferent(out.image, crop.image, 1e-3) > out.image.length / 2, `seed ${seed}: image unchanged`)
  }
  // Degenerate input: a constant image stays finite.
  const flat = makeInput([8, 8, 8], [1, 1, 1], 1, () => 5, () => 1)
  const out = augmentPatch(flat, [8, 8, 8], allIntensity(), makeRng(9))
  assert.ok(out.image.every(Number.isFinite))
  assert.ok(out.label.every(l => l === 1))
  // Contrast keeps the original range.
  const contrast = noAugmentation()
  contrast.contrast = { probability: 1, range: [1.5, 2] }
  const stretched = augmentPatch(input, patch, contrast, makeRng(4))
  // Gamma, plain and inverted, keeps mean and standard deviation (nnU-Net's retain_stats) but changes values.
  for (const invert of [false, true]) {
    const rng = makeRng(11)
    const values = Float32Array.from({ length: 4000 }, () => gaussian(rng) * 3 + 1)
    const moments = (v: Float32Array) => {
      const mean = v.reduce((s, x) => s + x, 0) / v.length
      return [mean, Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length)]
    }
    const before = moments(values)
    const original = values.slice()
    adjustGamma(values, 1.4, invert)
    const after = moments(values)
    assert.ok(Math.abs(after[0] - before[0]) < 1e-3 && Math.abs(after[1] - before[1]) < 1e-3, `invert ${invert}`)
    assert.ok(countDifferent(values, original, 0.05) > 1000)
  }
  // Low resolution restricted to y and x leaves an image that varies only along z untouched.
  const layered = Float32Array.from({ length: 6 * 10 * 10 }, (_, i) => Math.floor(i / 100) ** 2)
  const copy = layered.slice()
  simulateLowResolution(layered, [6, 10, 10], [1, 0.5, 0.5])
  assert.deepEqual(layered, copy)
  simulateLowResolution(layered, [6, 10, 10], [0.5, 1, 1])
  assert.notDeepEqual(layered, copy)
  const first = (image: Float32Array) => image.subarray(0, 16 * 20 * 20)
  const [lo, hi] = [Math.min(...first(crop.image)), Math.max(...first(crop.image))]
  assert.ok(first(stretched.image).every(v => v >= lo && v <= hi))
})

test('default options for anisotropic spacing rotate only in-plane', () => {
  assert.deepEqual(defaultAugmentOptions([5, 0.8, 0.8]).rotation.maxDegrees, [180, 0, 0])
  assert.deepEqual(defaultAugmentOptions([1, 1, 1]).rotation.maxDegrees, [30, 30, 30])
  assert.deepEqual(defaultAugmentOptions([2, 0.8, 0.8]).rotation.maxDegrees, [30, 30, 30])
  assert.deepEqual(defaultAugmentOptions([5, 0.8, 0.8]).lowResolution.axes, [1, 2])
  // Channel 0 varies only along z, channel 1 only in-plane: in-plane rotations keep every output slice of
  // channel 0 constant and equal to its source slice while moving channel 1.
  const spacing: Vec3 = [5, 0.8, 0.8]
  const input = makeInput([12, 40, 40], spacing, 2, (z, y, x, c) => c ? y - 0.5 * x : z + 1, z => 1 + (z % 2))
  const options = noAugmentation()
  options.rotation = { ...defaultAugmentOptions(spacing).rotation, probability: 1 }
  const patch: Vec3 = [8, 24, 24]
  const crop = centerCrop(input, patch)
  const slice = 24 * 24
  for (let seed = 1; seed <= 6; seed++) {
    const out = augmentPatch(input, patch, options, makeRng(seed))
    for (let z = 0; z < 8; z++) {
      for (let i = z * slice; i < (z + 1) * slice; i++) {
        assert.ok(Math.abs(out.image[i] - (z + 3)) < 1e-4, `seed ${seed}: slice ${z} mixed with other slices`)
        assert.equal(out.label[i], 1 + ((z + 2) % 2))
      }
    }
    assert.ok(countDifferent(out.image.subarray(8 * slice), crop.image.subarray(8 * slice), 1e-3) > 4 * slice)
  }
})

test('timing of a 96³ patch with every spatial transform', () => {
  const input = makeInput([128, 128, 128], [1, 1, 1], 1, (z, y, x) => Math.sin(z * 0.1) + Math.cos(y * 0.13) + x * 0.01,
    (z, y, x) => (z + y + x) % 3)
  /** Median wall and CPU milliseconds of three runs (CPU time is what counts when the machine is busy). */
  const time = (options: AugmentOptions) => {
    const runs: [number, number][] = []
    for (let seed = 1; seed <= 3; seed++) {
      const [wall, cpu] = [performance.now(), process.cpuUsage()]
      augmentPatch(input, [96, 96, 96], options, makeRng(seed))
      const used = process.cpuUsage(cpu)
      runs.push([performance.now() - wall, (used.user + used.system) / 1000])
    }
    const median = (k: number) => runs.map(r => r[k]).sort((a, b) => a - b)[1].toFixed(0)
    return `${median(0)} ms wall (${median(1)} ms cpu)`
  }
  console.log(`augmentPatch 1x96³ from 128³: crop ${time(noAugmentation())}, all spatial ${time(allSpatial())}, `
    + `all spatial + intensity ${time(everything())} (medians of 3)`)
})
