/**
 * Planning: target spacing (nnU-Net's rule and the node-size limit), network topology, the time-budget
 * choice (with a fake step timer), planDataset on tiny generated datasets (plans.json and the
 * preprocessed cache), and the preprocessing round trip with its world geometry.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { chooseConfiguration } from '../../src/plan/budget.js'
import { checkPlans, coarseSpacing, dataSpacing, type Fingerprint, type NetworkPlan, nodeLimitMm, planDataset, type Plans, topologyFor, type Triple, unetConfigFor } from '../../src/plan/index.js'
import { costProxy } from '../../src/plan/network.js'
import { readCacheHeader, readRegion } from '../../src/preprocess/cache.js'
import { preprocessCase, revertToLabels } from '../../src/preprocess/index.js'
import { type Axes, type Vec3, Volume } from '../../src/volume/volume.js'
import { tempDir } from '../helpers.js'
import { ANISOTROPIC_CASES, blobVolumes, ISOTROPIC_CASES, writeBlobDataset } from './blobs.js'

function fingerprint(o: Partial<Fingerprint> & Pick<Fingerprint, 'spacings' | 'median_spacing' | 'median_shape'>): Fingerprint {
  return {
    cases: o.spacings.length, shapes: o.spacings.map(() => o.median_shape), foreground_intensity: [],
    smallest_node_mm: null, median_node_mm: null, ...o,
  }
}

function close(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what)
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= tol, `${what}: [${actual.join(', ')}] vs [${expected.join(', ')}]`))
}

// ------------------------------------------------------------------------------------------- spacing

test('data spacing: the median per axis for isotropic-ish data', () => {
  const fp = fingerprint({
    spacings: [[1, 0.7, 0.7], [1.2, 0.8, 0.8], [0.8, 0.75, 0.75]], median_spacing: [1, 0.75, 0.75], median_shape: [300, 512, 512],
  })
  assert.deepEqual(dataSpacing(fp), [1, 0.75, 0.75])
})

test('data spacing: a strongly anisotropic axis with few slices takes the 10th percentile of its spacings (nnU-Net)', () => {
  // z spacings sorted: 2.5 3 3 4 5 5 5 5 5 6 -> median 5, 10th percentile at position 0.9: 2.5 + 0.9 * (3 - 2.5) = 2.95
  const z = [5, 5, 3, 6, 2.5, 5, 4, 5, 5, 3]
  const spacings = z.map((s) => [s, 0.8, 0.8] as Triple)
  const few = fingerprint({ spacings, median_spacing: [5, 0.8, 0.8], median_shape: [60, 512, 512] })
  close(dataSpacing(few), [2.95, 0.8, 0.8], 1e-9, 'thick slices, 60 of them')
  // many slices (200 * 3 > 512): the median stays
  const many = fingerprint({ spacings, median_spacing: [5, 0.8, 0.8], median_shape: [200, 512, 512] })
  assert.deepEqual(dataSpacing(many), [5, 0.8, 0.8])
  // not over 3x the finest axis (2.0 < 3 * 0.8): the median stays
  const mild = fingerprint({ spacings: z.map(() => [2, 0.8, 0.8] as Triple), median_spacing: [2, 0.8, 0.8], median_shape: [60, 512, 512] })
  assert.deepEqual(dataSpacing(mild), [2, 0.8, 0.8])
  // the 10th percentile (0.5 + 0.2 * 4.5 = 1.4) may not go finer than the other axes (1.5)
  const guard = fingerprint({ spacings: [[0.5, 1.5, 1.5], [5, 1.5, 1.5], [5, 1.5, 1.5]], median_spacing: [5, 1.5, 1.5], median_shape: [40, 300, 300] })
  assert.deepEqual(dataSpacing(guard), [1.5, 1.5, 1.5])
  // the coarse axis need not be z: x here
  const xThick = fingerprint({ spacings: [[0.8, 0.8, 4], [0.8, 0.8, 5], [0.8, 0.8, 6]], median_spacing: [0.8, 0.8, 5], median_shape: [400, 400, 50] })
  close(dataSpacing(xThick), [0.8, 0.8, 4.2], 1e-9, 'thick x')
})

test('node limit and coarse spacing: up to a third of the smallest node (at least a 5 mm node), never finer than the data', () => {
  const iso = { spacings: [[1, 0.75, 0.75]] as Triple[], median_spacing: [1, 0.75, 0.75] as Triple, median_shape: [300, 512, 512] as Triple }
  assert.equal(nodeLimitMm(fingerprint({ ...iso, smallest_node_mm: 9 })), 3)
  assert.equal(nodeLimitMm(fingerprint({ ...iso, smallest_node_mm: 3 })), 5 / 3)
  assert.equal(nodeLimitMm(fingerprint({ ...iso, smallest_node_mm: null })), 5 / 3)
  assert.deepEqual(coarseSpacing(fingerprint({ ...iso, smallest_node_mm: 9 })), [3, 3, 3])
  assert.deepEqual(coarseSpacing(fingerprint({ ...iso, smallest_node_mm: 3 })), [1.667, 1.667, 1.667])
  assert.deepEqual(coarseSpacing(fingerprint({ ...iso, smallest_node_mm: null })), [1.667, 1.667, 1.667])
  // a thick-slice axis coarser than the limit keeps the data spacing; in-plane goes to the limit (6 / 3 = 2 mm)
  const thick = fingerprint({ spacings: [[5, 0.8, 0.8]], median_spacing: [5, 0.8, 0.8], median_shape: [200, 512, 512], smallest_node_mm: 6 })
  assert.deepEqual(coarseSpacing(thick), [5, 2, 2])
  // property: over many fingerprints, data <= coarse <= max(data, limit) per axis
  let seed = 7
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
  for (let k = 0; k < 200; k++) {
    const median = [0.3 + 6 * rand(), 0.3 + 2 * rand(), 0.3 + 2 * rand()] as Triple
    const fp = fingerprint({
      spacings: [median, median.map((s) => s * (0.5 + rand())) as Triple, median.map((s) => s * (0.5 + rand())) as Triple],
      median_spacing: median, median_shape: [10 + Math.floor(300 * rand()), 512, 512], smallest_node_mm: rand() < 0.2 ? null : 1 + 30 * rand(),
    })
    const data = dataSpacing(fp), coarse = coarseSpacing(fp), limit = nodeLimitMm(fp)
    for (let a = 0; a < 3; a++) {
      assert.ok(coarse[a]! >= data[a]! - 5e-4, `coarse ${coarse} finer than data ${data}`)
      assert.ok(coarse[a]! <= Math.max(data[a]!, limit) + 5e-4, `coarse ${coarse} coarser than max(data ${data}, limit ${limit})`)
    }
  }
})

// ------------------------------------------------------------------------------------------- network

test('topology: an isotropic 64^3 patch at 1 mm halves every axis until 4 voxels', () => {
  const t = topologyFor([64, 64, 64], [1, 1, 1])
  assert.deepEqual(t.strides, [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]])
  assert.deepEqual(t.kernelSizes, Array(5).fill([3, 3, 3]))
  assert.deepEqual(t.totalStride, [16, 16, 16])
  const { config, patch } = unetConfigFor([64, 64, 64], [1, 1, 1], 32, 1, 2)
  assert.deepEqual(patch, [64, 64, 64])
  assert.deepEqual(config.features, [32, 64, 128, 256, 320])
  assert.deepEqual(config.strides, t.strides)
  assert.equal(config.deepSupervision, true)
})

test('topology: thick slices [16, 128, 128] at [5, 0.8, 0.8] mm wait on z and use kernel 1 on z while z is coarse', () => {
  // by hand: z (5 mm) is over twice the finest spacing until in-plane reaches 3.2 mm (two in-plane halvings);
  // then all axes halve while >= 4 voxels remain: z 16 -> 8 -> 4, y/x 128 -> ... -> 4 (six stages at most)
  const t = topologyFor([16, 128, 128], [5, 0.8, 0.8])
  assert.deepEqual(t.strides, [[1, 1, 1], [1, 2, 2], [1, 2, 2], [2, 2, 2], [2, 2, 2], [1, 2, 2]])
  // spacing per stage: 5/0.8 (k 1), 5/1.6 (k 1), 5/3.2 (3), 10/6.4 (3), 20/12.8 (3), 20/25.6 (3)
  assert.deepEqual(t.kernelSizes, [[1, 3, 3], [1, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]])
  assert.deepEqual(t.totalStride, [4, 32, 32])
  const exact = unetConfigFor([16, 128, 128], [5, 0.8, 0.8], 32, 1, 3)
  assert.deepEqual(exact.patch, [16, 128, 128])
  assert.deepEqual(exact.config.features, [32, 64, 128, 256, 320, 320])
  // a patch that does not divide is rounded up to a multiple of the total stride
  for (const [p, s] of [[[20, 100, 100], [5, 0.8, 0.8]], [[13, 37, 50], [3, 1, 1]], [[9, 48, 48], [4.2, 0.8, 0.8]], [[7, 7, 7], [1, 1, 1]]] as [Triple, Triple][]) {
    const { config, patch } = unetConfigFor(p, s, 16, 1, 2)
    const total = [0, 1, 2].map((a) => config.strides.reduce((q, st) => q * st[a]!, 1))
    patch.forEach((v, a) => {
      assert.equal(v % total[a]!, 0, `patch ${patch} for ${p} at ${s}: axis ${a} not divisible by total stride ${total}`)
      assert.ok(v >= p[a]!, `patch ${patch} smaller than asked ${p}`)
    })
  }
})

// ------------------------------------------------------------------------------------------- budget

/** A fake step timer: ms proportional to patch voxels x base features^2 x batch. */
function fakeTimer(calls: { patch: Triple; features: number }[], factor = 2e-6) {
  return async (network: NetworkPlan, patch: Triple, batch: number) => {
    calls.push({ patch: [...patch], features: network.config.features[0]! })
    return fakeMs(patch, network.config.features[0]!, batch, factor)
  }
}

function fakeMs(patch: Triple, features: number, batch: number, factor = 2e-6): number {
  return patch[0] * patch[1] * patch[2] * features * features * batch * factor
}

const BUDGET_FP = fingerprint({
  spacings: [[2, 0.8, 0.8]], median_spacing: [2, 0.8, 0.8], median_shape: [150, 400, 400], smallest_node_mm: 6,
})

function budgetOptions(minIterations: number, timeStep: ReturnType<typeof fakeTimer>) {
  return { minutes: 10, threads: 1, minIterations, batch: 2, inChannels: 1, numClasses: 2, networkName: 'unet', timeStep }
}

test('budget: the most preferred candidate when everything fits; measured and predicted step times recorded', async () => {
  const calls: { patch: Triple; features: number }[] = []
  const choice = await chooseConfiguration(BUDGET_FP, budgetOptions(1, fakeTimer(calls)))
  const first = choice.candidates[0]!
  assert.deepEqual(first.spacing, [2, 0.8, 0.8])
  assert.equal(first.base_features, 32)
  assert.deepEqual(choice.patch, first.patch)
  assert.deepEqual(choice.spacing, [2, 0.8, 0.8])
  assert.equal(choice.network.config.features[0], 32)
  const ms = fakeMs(first.patch, 32, 2)
  assert.equal(choice.stepMs, ms)
  assert.equal(choice.expectedIterations, Math.floor((10 * 60_000 * 0.85) / ms))
  assert.equal(first.step_ms, Math.round(ms))
  // the cheapest candidate is coarse with 8 base features; it is always timed (calibration)
  const last = choice.candidates.at(-1)!
  assert.deepEqual(last.spacing, [2, 2, 2])
  assert.equal(last.base_features, 8)
  assert.equal(last.step_ms, Math.round(fakeMs(last.patch, 8, 2)))
  // each timed candidate once, and only those carry step_ms
  assert.ok(calls.length <= 3, `${calls.length} candidates timed`)
  assert.equal(choice.candidates.filter((c) => c.step_ms !== null).length, calls.length)
  for (const c of choice.candidates) {
    assert.ok(c.predicted_step_ms > 0)
    if (c.step_ms !== null) assert.equal(c.step_ms, Math.round(fakeMs(c.patch, c.base_features, 2)))
  }
  // no candidate listed twice
  const keys = choice.candidates.map((c) => JSON.stringify([c.spacing, c.patch, c.base_features]))
  assert.equal(new Set(keys).size, keys.length, `duplicate candidates: ${keys.join(' ')}`)
  // preference order: data spacing first, then coarse
  const coarseFrom = choice.candidates.findIndex((c) => c.spacing[1] === 2)
  assert.ok(choice.candidates.slice(0, coarseFrom).every((c) => c.spacing[1] === 0.8) && choice.candidates.slice(coarseFrom).every((c) => c.spacing[1] === 2))
})

test('budget: picks the most preferred candidate whose measured time buys minIterations', async () => {
  const budgetMs = 10 * 60_000 * 0.85
  const probe = await chooseConfiguration(BUDGET_FP, budgetOptions(1, fakeTimer([])))
  const times = probe.candidates.map((c) => fakeMs(c.patch, c.base_features, 2))
  // thresholds half-way (in log) between the candidates' iteration counts, so each makes a different choice
  const counts = [...new Set(times.map((t) => budgetMs / t))].sort((a, b) => a - b)
  let distinct = 0
  for (let k = 0; k + 1 < counts.length; k++) {
    const minIterations = Math.round(Math.sqrt(counts[k]! * counts[k + 1]!))
    const expected = times.findIndex((t) => budgetMs / t >= minIterations)
    const calls: { patch: Triple; features: number }[] = []
    const choice = await chooseConfiguration(BUDGET_FP, budgetOptions(minIterations, fakeTimer(calls)))
    const want = probe.candidates[expected]!
    assert.deepEqual([choice.spacing, choice.patch, choice.network.config.features[0]], [want.spacing, want.patch, want.base_features], `minIterations ${minIterations}`)
    assert.ok(choice.expectedIterations >= minIterations)
    const recorded = choice.candidates[expected]!
    assert.equal(recorded.step_ms, Math.round(times[expected]!), 'the chosen candidate was timed')
    assert.equal(recorded.fits, true)
    // every more preferred candidate was predicted or measured not to fit
    for (const c of choice.candidates.slice(0, expected)) assert.ok(c.step_ms === null ? !c.fits : budgetMs / c.step_ms < minIterations * 1.01, JSON.stringify(c))
    distinct++
  }
  assert.ok(distinct >= 4, `only ${distinct} distinct choices`)
})

test('budget: small images cap the patches; no candidate is listed (or timed) twice', async () => {
  // a 24 x 48 x 48 image at 4 x 3 x 3 mm: several ladder rungs become the same image-sized patch
  const small = fingerprint({ spacings: [[4, 3, 3]], median_spacing: [4, 3, 3], median_shape: [24, 48, 48], smallest_node_mm: 6 })
  const calls: { patch: Triple; features: number }[] = []
  const choice = await chooseConfiguration(small, { ...budgetOptions(1, fakeTimer(calls)), minutes: 1 })
  const keys = choice.candidates.map((c) => JSON.stringify([c.spacing, c.patch, c.base_features]))
  assert.equal(new Set(keys).size, keys.length, `duplicate candidates: ${keys.join(' ')}`)
  const timed = calls.map((c) => JSON.stringify([c.patch, c.features]))
  assert.equal(new Set(timed).size, timed.length, `timed twice: ${timed.join(' ')}`)
  assert.deepEqual(choice.patch, [24, 48, 48])
})

test('budget: falls back to the cheapest candidate when nothing fits', async () => {
  const calls: { patch: Triple; features: number }[] = []
  const choice = await chooseConfiguration(BUDGET_FP, budgetOptions(1e9, fakeTimer(calls)))
  const last = choice.candidates.at(-1)!
  assert.deepEqual([choice.spacing, choice.patch, choice.network.config.features[0]], [last.spacing, last.patch, 8])
  assert.ok(choice.candidates.every((c) => !c.fits))
  assert.equal(choice.stepMs, fakeMs(last.patch, 8, 2))
  assert.ok(choice.expectedIterations < 1e9)
  assert.ok(calls.length <= 2, `${calls.length} timings when nothing can fit`)
})

test('budget: with step times exactly linear in the cost proxy, predictions equal the step times', async () => {
  const factor = 3e-7
  const choice = await chooseConfiguration(BUDGET_FP, {
    ...budgetOptions(1, fakeTimer([])),
    timeStep: async (network: NetworkPlan, patch: Triple, batch: number) => 5 + factor * costProxy(network.config, patch) * batch,
  })
  for (const c of choice.candidates) {
    const config = unetConfigFor(c.patch, c.spacing, c.base_features, 1, 2).config
    assert.ok(Math.abs(c.predicted_step_ms - (5 + factor * costProxy(config, c.patch) * 2)) <= 1, JSON.stringify(c))
  }
})

// ------------------------------------------------------------------------------------------- planDataset

/** numpy's linear quantile of the integers 0..n-1: q (n - 1). */
function quantileOfRange(n: number, q: number): number {
  return q * (n - 1)
}

function sphereDiameter(mm3: number): number {
  return Math.cbrt((6 * mm3) / Math.PI)
}

function totalStride(plans: Plans): Triple {
  return [0, 1, 2].map((a) => plans.network.config.strides.reduce((p, s) => p * s[a]!, 1)) as Triple
}

test('planDataset on three tiny CT cases: plans.json, CT normalisation from the foreground percentiles, the cache and readRegion', async () => {
  const tmp = tempDir()
  try {
    const root = join(tmp.path, 'Dataset001_blobs')
    const n = writeBlobDataset(root, ISOTROPIC_CASES)
    assert.equal(n, 136 + 219 + 228)
    const timings: Triple[] = []
    const { plans, path } = await planDataset({
      dataset: root, minutes: 1, minIterations: 1, threads: 1,
      timeStep: async (_network, patch) => { timings.push(patch); return 1 },
    })
    assert.equal(path, join(root, 'nodal', 'plans.json'))
    const onDisk = JSON.parse(readFileSync(path, 'utf8')) as Plans
    assert.deepEqual(onDisk, plans)
    checkPlans(onDisk, path)
    assert.equal(onDisk.format, 'nodal-plans')
    assert.equal(onDisk.version, 1)
    assert.equal(onDisk.axis_order, 'zyx')
    assert.deepEqual(onDisk.dataset.channels, ['CT'])
    assert.deepEqual(onDisk.dataset.labels, { background: 0, benign_node: 1, malignant_node: 2 })
    assert.equal(onDisk.dataset.ignore_label, null)
    assert.equal(onDisk.dataset.root, '..')
    // fingerprint, in [z, y, x]
    assert.equal(onDisk.fingerprint.cases, 3)
    assert.deepEqual(onDisk.fingerprint.spacings, [[1.5, 1, 1], [1.5, 1, 1], [1.5, 1, 1]])
    assert.deepEqual(onDisk.fingerprint.median_shape, [12, 24, 24])
    // components (26-connected boxes) of 18, 27, 36, 48, 100, 144, 210 voxels of 1.5 mm3; 5th percentile at position 0.3
    const d = [18, 27].map((v) => sphereDiameter(v * 1.5))
    assert.equal(onDisk.fingerprint.smallest_node_mm, Math.round((d[0]! + 0.3 * (d[1]! - d[0]!)) * 100) / 100)
    // everything fits a 1 ms step: the most preferred candidate, the data (median) spacing
    assert.deepEqual(onDisk.target_spacing, [1.5, 1, 1])
    // CT: clip to the foreground 0.5 / 99.5 percentiles of 0..n-1, z-score with their mean and (population) std
    const norm = onDisk.channels[0]!.normalization
    assert.equal(norm.scheme, 'ct')
    if (norm.scheme !== 'ct') return
    close(norm.clip, [quantileOfRange(n, 0.005), quantileOfRange(n, 0.995)], 1e-9, 'clip')
    close(norm.clip, [2.91, 579.09], 1e-9, 'clip by hand (n = 583)')
    close([norm.mean, norm.std], [(n - 1) / 2, Math.sqrt((n * n - 1) / 12)], 1e-6, 'mean, std')
    // patch: image-sized (12 x 24 x 24 voxels < 128 mm), divisible by the network's total stride
    assert.deepEqual(onDisk.patch_size, [12, 24, 24])
    assert.deepEqual(totalStride(onDisk), [2, 4, 4])
    onDisk.patch_size.forEach((p, a) => assert.equal(p % totalStride(onDisk)[a]!, 0))
    assert.equal(onDisk.budget.min_iterations, 1)
    assert.equal(onDisk.budget.measured_step_ms, 1)
    assert.ok(timings.length >= 1 && timings.length <= 3)
    // the cache: header, float32 image [C, Z, Y, X] and uint8 label [Z, Y, X] per case
    const cache = join(root, 'nodal', onDisk.preprocessed)
    let first = 0
    for (const c of ISOTROPIC_CASES) {
      const header = readCacheHeader(cache, c.name)
      assert.deepEqual(header.shape, [12, 24, 24])
      assert.deepEqual(header.spacing, [1.5, 1, 1])
      assert.equal(header.channels, 1)
      assert.equal(statSync(join(cache, `${c.name}.image.f32`)).size, 12 * 24 * 24 * 4)
      assert.equal(statSync(join(cache, `${c.name}.label.u8`)).size, 12 * 24 * 24)
      assert.deepEqual(header.labels, [0, 1, 2])
      assert.deepEqual(header.components.map((k) => [k.label, k.voxels]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!),
        c.boxes.map((b) => [b.label, b.size[0] * b.size[1] * b.size[2]]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!))
      // readRegion over the edges: voxels inside match the normalised source, outside take the pad value / label 0
      const source = blobVolumes(c, first)
      first = source.next
      const pad = -7
      const expectImage = (x: number, y: number, z: number) => {
        const v = source.image.at(x, y, z)
        return Math.fround((Math.min(Math.max(v, norm.clip[0]), norm.clip[1]) - norm.mean) / norm.std)
      }
      for (const region of [
        { start: [-2, -3, -4], size: [5, 6, 7] }, { start: [10, 20, 21], size: [4, 6, 6] },
        { start: [3, -1, 5], size: [2, 30, 3] }, { start: [12, 0, 0], size: [2, 2, 2] }, { start: [-5, -5, -5], size: [3, 3, 3] },
      ] as { start: Triple; size: Triple }[]) {
        const r = readRegion(cache, header, region, [pad])
        const [rz, ry, rx] = region.size
        assert.equal(r.image.length, rz * ry * rx)
        for (let z = 0; z < rz; z++) for (let y = 0; y < ry; y++) for (let x = 0; x < rx; x++) {
          const [sz, sy, sx] = [region.start[0] + z, region.start[1] + y, region.start[2] + x]
          const inside = sz >= 0 && sz < 12 && sy >= 0 && sy < 24 && sx >= 0 && sx < 24
          const at = (z * ry + y) * rx + x
          const where = `${c.name} region ${JSON.stringify(region)} voxel z${sz} y${sy} x${sx}`
          assert.equal(r.label[at], inside ? source.label.at(sx, sy, sz) : 0, where)
          if (inside) assert.ok(Math.abs(r.image[at]! - expectImage(sx, sy, sz)) < 1e-5, `${where}: ${r.image[at]} vs ${expectImage(sx, sy, sz)}`)
          else assert.equal(r.image[at], pad, where)
        }
      }
    }
    assert.ok(!existsSync(`${cache}.tmp-${process.pid}`))
  } finally {
    tmp.cleanup()
  }
})

test('planDataset on thick-slice cases: z takes the 10th percentile of the slice spacings, kernel 1 on z first, cache on that grid', async () => {
  const tmp = tempDir()
  try {
    const root = join(tmp.path, 'Dataset002_thick')
    writeBlobDataset(root, ANISOTROPIC_CASES)
    const { plans } = await planDataset({ dataset: root, minutes: 1, minIterations: 1, threads: 1, timeStep: async () => 1 })
    // slices 4, 5, 6 mm (median 5 > 3 x 0.8; 8 slices x 3 < 48): 10th percentile 4 + 0.2 x (5 - 4) = 4.2
    close(plans.fingerprint.median_spacing, [5, 0.8, 0.8], 1e-6, 'median spacing')
    close(plans.target_spacing, [4.2, 0.8, 0.8], 1e-6, 'target spacing')
    const { strides, kernelSizes } = plans.network.config
    assert.deepEqual(strides[1], [1, 2, 2], 'z is not downsampled first')
    assert.deepEqual(kernelSizes[0], [1, 3, 3])
    assert.deepEqual(kernelSizes[1], [1, 3, 3])
    const total = totalStride(plans)
    plans.patch_size.forEach((p, a) => assert.equal(p % total[a]!, 0, `patch ${plans.patch_size} vs total stride ${total}`))
    // patch: z the image's 8 x 5 / 4.2 -> 9 voxels rounded up to the z stride, in-plane the whole 48
    assert.equal(plans.patch_size[0], Math.ceil(9 / total[0]) * total[0])
    assert.deepEqual(plans.patch_size.slice(1), [48, 48])
    const cache = join(root, 'nodal', plans.preprocessed)
    // 8 slices of 4, 5, 6 mm at 4.2 mm: round(32 / 4.2) = 8, round(40 / 4.2) = 10, round(48 / 4.2) = 11
    ANISOTROPIC_CASES.forEach((c, i) => {
      const header = readCacheHeader(cache, c.name)
      const z = [8, 10, 11][i]!
      assert.deepEqual(header.shape, [z, 48, 48])
      close(header.spacing, [4.2, 0.8, 0.8], 1e-6, 'cache spacing (NIfTI stores float32)')
      assert.equal(statSync(join(cache, `${c.name}.image.f32`)).size, z * 48 * 48 * 4)
      assert.equal(statSync(join(cache, `${c.name}.label.u8`)).size, z * 48 * 48)
      // both boxes survive the resampling
      assert.deepEqual(header.labels, [0, 1, 2])
    })
  } finally {
    tmp.cleanup()
  }
})

// ------------------------------------------------------------------------------------------- preprocess round trip

function ballLabels(shape: Vec3, spacing: Vec3, origin: Vec3, axes?: Axes): Volume {
  const [nx, ny, nz] = shape
  const data = new Uint8Array(nx * ny * nz)
  const balls = [{ c: [13, 15, 9], r: 6.5, label: 1 }, { c: [28, 25, 11], r: 4.5, label: 2 }, { c: [30, 10, 6], r: 3.2, label: 1 }]
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    for (const b of balls) {
      if ((i - b.c[0]!) ** 2 + (j - b.c[1]!) ** 2 + (k - b.c[2]!) ** 2 <= b.r * b.r) data[i + nx * (j + ny * k)] = b.label
    }
  }
  return new Volume(data, shape, spacing, origin, axes)
}

const ZSCORE_PLAN = (spacing: Triple) => ({ target_spacing: spacing, channels: [{ name: 'T2', normalization: { scheme: 'zscore' as const } }] })

test('preprocessCase -> revertToLabels: labels come back except near boundaries, on the source grid', () => {
  const shape: Vec3 = [40, 40, 20]
  const label = ballLabels(shape, [1, 1, 1], [10, -20, 5])
  const image = label.withData(Float32Array.from(label.data, (v) => 100 * v + 3))
  const pre = preprocessCase([image], ZSCORE_PLAN([2, 2, 2]), label)
  assert.deepEqual(pre.shape, [10, 20, 20])
  assert.deepEqual(pre.spacing, [2, 2, 2])
  assert.equal(pre.image.length, 10 * 20 * 20)
  // one-hot "probabilities" of the resampled labels, reverted to the source grid
  const n = pre.label!.length
  const probabilities = new Float32Array(3 * n)
  pre.label!.forEach((v, i) => { probabilities[v * n + i] = 1 })
  const { labels, confidence } = revertToLabels(pre.record, probabilities, 3)
  assert.deepEqual(labels.shape, shape)
  assert.deepEqual(labels.origin, [10, -20, 5])
  assert.deepEqual(confidence.shape, shape)
  let same = 0, foreground = 0, foregroundSame = 0
  const [nx, ny, nz] = shape
  const nearBoundary = (i: number, j: number, k: number) => {
    const v = label.at(i, j, k)
    for (let dk = -2; dk <= 2; dk++) for (let dj = -2; dj <= 2; dj++) for (let di = -2; di <= 2; di++) {
      const a = i + di, b = j + dj, c = k + dk
      if (a >= 0 && a < nx && b >= 0 && b < ny && c >= 0 && c < nz && label.at(a, b, c) !== v) return true
    }
    return false
  }
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const a = label.at(i, j, k), b = labels.at(i, j, k)
    if (a === b) same++
    else assert.ok(nearBoundary(i, j, k), `voxel ${i},${j},${k}: ${a} came back as ${b}, away from any boundary`)
    if (a !== 0) {
      foreground++
      if (a === b) foregroundSame++
    }
  }
  assert.ok(same / label.data.length >= 0.95, `${same} of ${label.data.length} voxels agree`)
  assert.ok(foregroundSame / foreground >= 0.8, `${foregroundSame} of ${foreground} labelled voxels come back`)
  // the image was resampled by the same geometry: label 2's ball centre is bright on the target grid
  const centre = pre.image[(Math.round((11 - 0.5) / 2) * 20 + Math.round((25 - 0.5) / 2)) * 20 + Math.round((28 - 0.5) / 2)]!
  assert.ok(centre > 1, `ball centre ${centre} after z-score`)
})

test('target grid keeps the physical corner: origin shifts by (new - old) / 2 along each axis direction', () => {
  const shape: Vec3 = [40, 40, 20]
  // x axis flipped: the shift along x goes the other way in world coordinates
  const axes: Axes = [[-1, 0, 0], [0, 1, 0], [0, 0, 1]]
  const label = ballLabels(shape, [1, 1, 1], [10, -20, 5], axes)
  const pre = preprocessCase([label.withData(new Float32Array(label.data.length))], ZSCORE_PLAN([2, 2, 2]), label)
  const g = pre.record.targetGrid
  close(g.origin, [10 - 0.5, -20 + 0.5, 5 + 0.5], 1e-9, 'origin at 2 mm')
  assert.deepEqual(g.shape, [20, 20, 10])
  assert.deepEqual(g.axes, axes)
  // corner of voxel 0: origin - spacing / 2 along each axis, the same on both grids
  const corner = (o: number[], s: number[]) => [o[0]! + s[0]! / 2, o[1]! - s[1]! / 2, o[2]! - s[2]! / 2]
  close(corner(g.origin, g.spacing), corner(label.origin, label.spacing), 1e-9, 'corner')
  // [z, y, x] = [3, 2, 2] mm: z moves by 1 mm, y by 0.5, x by 0.5 (against the flipped axis)
  const anisotropic = preprocessCase([label.withData(new Float32Array(label.data.length))], ZSCORE_PLAN([3, 2, 2]), label)
  close(anisotropic.record.targetGrid.origin, [9.5, -19.5, 6], 1e-9, 'origin at 2 x 2 x 3 mm')
  assert.deepEqual(anisotropic.record.targetGrid.spacing, [2, 2, 3])
  assert.deepEqual(anisotropic.shape, [7, 20, 20])
  // the same spacing keeps the grid as it is
  const same = preprocessCase([label.withData(new Float32Array(label.data.length))], ZSCORE_PLAN([1, 1, 1]), label)
  assert.deepEqual(same.record.targetGrid.origin, [10, -20, 5])
  assert.deepEqual(same.label, label.data)
})
