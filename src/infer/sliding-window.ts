/**
 * Sliding-window prediction over a whole volume: the one predictor that training validation (libtorch),
 * `nodal predict` (ONNX Runtime) and the browser viewer (onnxruntime-web) share. It knows nothing about the
 * engine: the network is a PatchPredictor, an async function from a batch of patches to class logits. This
 * file imports nothing from Node or from an inference engine, so it bundles for the browser as it is.
 *
 * Layout: channels first, `((c*Z + z)*Y + y)*X + x`; shapes are [Z, Y, X]; patches [B, C, pz, py, px].
 *
 * Choices (and why):
 * - Tiles overlap by about `overlap` of the patch (see tileStarts) and each tile's output is weighted by a
 *   gaussian importance map (nnU-Net, Isensee et al. 2021), because a network sees least context at the
 *   borders of its patch and predicts worst there.
 * - Averaging is done on probabilities: every tile's logits (and every mirrored pass's) go through a softmax
 *   first, then the gaussian-weighted mean is taken. Probabilities are bounded, so one tile with extreme
 *   logits at its edge cannot outvote its neighbours, the TTA mean is the usual mean of predictive
 *   distributions, the reported disagreement is the variance of the very values that are averaged, and a
 *   skipped tile contributes an honest "background = 1" rather than an invented logit. (nnU-Net v2 averages
 *   logits, which saves one softmax per pass; here the softmax per pass is needed for the disagreement anyway.)
 * - An axis shorter than the patch is padded, centred, with the channel's minimum (for CT: air, the same
 *   thing that lies outside the body), never with 0, which in Hounsfield units is water. The padding is
 *   virtual: tiles are filled from the volume row by row, so no padded copy of the volume is made and the
 *   output is cropped back implicitly.
 * - Mirror TTA runs per tile (all 2^n subsets of mirrorAxes on the same tile, the output flipped back), so
 *   only the final accumulators (K·Z·Y·X probabilities, one Z·Y·X weight map and, with TTA, one Z·Y·X
 *   disagreement map) are volume-sized. The disagreement is the population variance across passes of the
 *   foreground probability within each tile, gaussian-averaged across overlapping tiles like the
 *   probabilities; where one tile covers a voxel it is exactly the variance across passes.
 */
import { NodalError } from '../errors.js'

/** Runs a batch of patches [B, C, pz, py, px] and returns class logits [B, K, pz, py, px]. */
export type PatchPredictor = (batch: Float32Array, batchSize: number) => Promise<Float32Array>

export interface SlidingWindowOptions {
  patch: [number, number, number]
  channels: number
  classes: number
  /** Target fraction of the patch shared by neighbouring tiles, in [0, 1); default 0.5. */
  overlap?: number
  /** Tiles per predictor call, default 2. */
  batchSize?: number
  /**
   * Importance weighting sigma = scale * patch size, default 0.125 (nnU-Net); weights are normalised to a
   * peak of 1 and tiny values clamped to the smallest non-zero weight so borders still count. Infinity gives
   * uniform weights.
   */
  gaussianSigmaScale?: number
  /** Test-time augmentation: run also mirrored along each subset of these axes (0, 1, 2) and average; default none. */
  mirrorAxes?: number[]
  /** A tile is skipped when every voxel of channel 0 is below this value (air); its output is background. Default: no skipping. */
  skipBelow?: number
  onProgress?: (done: number, total: number) => void
}

export interface SlidingWindowResult {
  /**
   * Softmax probabilities [K, Z, Y, X] (float32): the gaussian-weighted mean over tiles and the plain mean
   * over TTA passes of each pass's softmax (see the file comment for why probabilities, not logits).
   */
  probabilities: Float32Array
  /** With mirrorAxes: per-voxel variance across TTA passes of the foreground probability (1 - P(background)) [Z,Y,X]; else null. */
  disagreement: Float32Array | null
  tiles: number
  skippedTiles: number
}

type Vec3 = [number, number, number]

/**
 * Evenly spaced tile starts covering [0, size): the first is 0, the last size - patch. The number of steps is
 * the one whose spacing comes nearest the target step patch·(1 − overlap) (so the actual overlap may be a
 * little more or less than asked), but never so few that tiles would leave a gap. size <= patch gives [0].
 */
export function tileStarts(size: number, patch: number, overlap: number): number[] {
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(patch) || patch < 1) {
    throw new NodalError('bad-argument', `tileStarts: size ${size} and patch ${patch} must be positive integers`)
  }
  if (!(overlap >= 0 && overlap < 1)) throw new NodalError('bad-argument', `tileStarts: overlap ${overlap} must be in [0, 1)`)
  if (size <= patch) return [0]
  const span = size - patch
  const target = patch * (1 - overlap)
  const steps = Math.max(1, Math.round(span / target), Math.ceil(span / patch))
  const starts: number[] = []
  for (let i = 0; i <= steps; i++) starts.push(Math.round((i * span) / steps))
  return starts
}

/**
 * Gaussian importance map over a patch [pz, py, px] (flattened, x fastest): centred at (p − 1)/2 on each axis
 * (so it is exactly symmetric), sigma = sigmaScale · p per axis, normalised to a peak of 1; values that would
 * underflow float32 are raised to the smallest remaining weight so that every voxel of a tile counts a little.
 */
export function gaussianImportance(patch: [number, number, number], sigmaScale: number): Float32Array {
  for (const p of patch) {
    if (!Number.isInteger(p) || p < 1) throw new NodalError('bad-argument', `gaussianImportance: patch [${patch}] must be positive integers`)
  }
  if (!(sigmaScale > 0)) throw new NodalError('bad-argument', `gaussianImportance: sigma scale ${sigmaScale} must be > 0`)
  // Per-axis factors exp(−d²/2σ²); the 3D map is their product. Each peaks at 1 (or just under for even sizes).
  const factors = patch.map((p) => {
    const sigma = sigmaScale * p
    const centre = (p - 1) / 2
    const f = new Float64Array(p)
    for (let i = 0; i < p; i++) f[i] = Number.isFinite(sigma) ? Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma)) : 1
    return f
  })
  const [fz, fy, fx] = factors as [Float64Array, Float64Array, Float64Array]
  const [pz, py, px] = patch
  const peak = fz[Math.floor((pz - 1) / 2)]! * fy[Math.floor((py - 1) / 2)]! * fx[Math.floor((px - 1) / 2)]!
  const out = new Float32Array(pz * py * px)
  const smallestNormal = 1.1754943508222875e-38
  let smallest = Infinity
  for (let z = 0, i = 0; z < pz; z++) {
    for (let y = 0; y < py; y++) {
      const zy = (fz[z]! * fy[y]!) / peak
      for (let x = 0; x < px; x++, i++) {
        const w = Math.fround(zy * fx[x]!)
        out[i] = w
        if (w >= smallestNormal && w < smallest) smallest = w
      }
    }
  }
  for (let i = 0; i < out.length; i++) if (out[i]! < smallestNormal) out[i] = smallest
  return out
}

/** Where a tile lies: its origin in volume coordinates (may be negative when padded) and the patch-local range inside the volume. */
interface TileRegion {
  origin: Vec3
  lo: Vec3
  hi: Vec3
}

/** Every subset of the mirror axes, the empty one (no flip) first. */
function mirrorSets(axes: number[] | undefined): boolean[][] {
  const unique = [...new Set(axes ?? [])]
  for (const a of unique) {
    if (a !== 0 && a !== 1 && a !== 2) throw new NodalError('bad-argument', `slidingWindow: mirror axis ${a} is not one of 0, 1, 2`)
  }
  unique.sort()
  const sets: boolean[][] = []
  for (let mask = 0; mask < 1 << unique.length; mask++) {
    const flip = [false, false, false]
    unique.forEach((a, bit) => { if (mask & (1 << bit)) flip[a] = true })
    sets.push(flip)
  }
  return sets
}

/** Copies n patches of `channels` channels from src to dst, flipped along the axes marked in `flip` (an involution). */
function flipInto(src: Float32Array, dst: Float32Array, n: number, channels: number, patch: Vec3, flip: boolean[]): void {
  const [pz, py, px] = patch
  const [fz, fy, fx] = flip
  for (let bc = 0; bc < n * channels; bc++) {
    for (let z = 0; z < pz; z++) {
      const sz = fz ? pz - 1 - z : z
      for (let y = 0; y < py; y++) {
        const sy = fy ? py - 1 - y : y
        const d = ((bc * pz + z) * py + y) * px
        const s = ((bc * pz + sz) * py + sy) * px
        if (fx) for (let x = 0, r = s + px - 1; x < px; x++, r--) dst[d + x] = src[r]!
        else dst.set(src.subarray(s, s + px), d)
      }
    }
  }
}

/**
 * Softmax over `classes` planes of `voxels` values: src[srcOffset + k·voxels + v] → dst[dstOffset + k·voxels + v].
 * Stable (the per-voxel maximum is subtracted); `scratch` holds `voxels` floats.
 */
function softmaxInto(src: Float32Array, srcOffset: number, dst: Float32Array, dstOffset: number, classes: number, voxels: number, scratch: Float32Array): void {
  if (classes === 2) { // one exp per voxel: p1 = 1 / (1 + e^(l0 − l1)), stable for any logits
    for (let v = 0, a = srcOffset, b = srcOffset + voxels, d = dstOffset; v < voxels; v++, a++, b++, d++) {
      const p1 = 1 / (1 + Math.exp(src[a]! - src[b]!))
      dst[d] = 1 - p1
      dst[d + voxels] = p1
    }
    return
  }
  scratch.set(src.subarray(srcOffset, srcOffset + voxels))
  for (let k = 1; k < classes; k++) {
    const o = srcOffset + k * voxels
    for (let v = 0; v < voxels; v++) if (src[o + v]! > scratch[v]!) scratch[v] = src[o + v]!
  }
  for (let k = 0; k < classes; k++) {
    const s = srcOffset + k * voxels
    const d = dstOffset + k * voxels
    for (let v = 0; v < voxels; v++) dst[d + v] = Math.exp(src[s + v]! - scratch[v]!)
  }
  scratch.set(dst.subarray(dstOffset, dstOffset + voxels))
  for (let k = 1; k < classes; k++) {
    const d = dstOffset + k * voxels
    for (let v = 0; v < voxels; v++) scratch[v] = scratch[v]! + dst[d + v]!
  }
  for (let k = 0; k < classes; k++) {
    const d = dstOffset + k * voxels
    for (let v = 0; v < voxels; v++) dst[d + v] = dst[d + v]! / scratch[v]!
  }
}

/**
 * Adds one TTA pass's probabilities [K, voxels] to a tile's pass sum (or sets it, for the first pass) and
 * its foreground probability 1 − P(background) to the running sum and sum of squares.
 */
function addPass(probabilities: Float32Array, sum: Float32Array, offset: number, first: boolean, foreground: Float64Array, squares: Float64Array, at: number, voxels: number): void {
  if (first) sum.set(probabilities, offset)
  else for (let i = 0; i < probabilities.length; i++) sum[offset + i] += probabilities[i]!
  for (let v = 0; v < voxels; v++) {
    const f = 1 - probabilities[v]!
    foreground[at + v] += f
    squares[at + v] += f * f
  }
}

function checkOptions(volume: Float32Array, shape: Vec3, options: SlidingWindowOptions): void {
  const problems: string[] = []
  const positive = (v: number) => Number.isInteger(v) && v >= 1
  if (shape.length !== 3 || !shape.every(positive)) problems.push(`shape [${shape}] must be 3 positive integers`)
  if (options.patch.length !== 3 || !options.patch.every(positive)) problems.push(`patch [${options.patch}] must be 3 positive integers`)
  if (!positive(options.channels)) problems.push(`channels ${options.channels} must be a positive integer`)
  if (!(Number.isInteger(options.classes) && options.classes >= 2)) problems.push(`classes ${options.classes} must be an integer >= 2 (softmax output, background first)`)
  if (options.batchSize !== undefined && !positive(options.batchSize)) problems.push(`batchSize ${options.batchSize} must be a positive integer`)
  if (problems.length === 0 && volume.length !== options.channels * shape[0] * shape[1] * shape[2]) {
    problems.push(`volume has ${volume.length} values, expected ${options.channels}×${shape.join('×')}`)
  }
  if (problems.length) throw new NodalError('bad-argument', `slidingWindow: ${problems.join('; ')}`)
}

/**
 * Predicts a whole volume [C, Z, Y, X] patch by patch and stitches the class probabilities [K, Z, Y, X].
 * Predictor calls are made one at a time (awaited), each with at most batchSize patches.
 */
export async function slidingWindow(volume: Float32Array, shape: [number, number, number], predict: PatchPredictor, options: SlidingWindowOptions): Promise<SlidingWindowResult> {
  checkOptions(volume, shape, options)
  const patch = options.patch.slice() as Vec3
  const [Z, Y, X] = shape
  const [pz, py, px] = patch
  const C = options.channels
  const K = options.classes
  const overlap = options.overlap ?? 0.5
  const batchSize = options.batchSize ?? 2
  const importance = gaussianImportance(patch, options.gaussianSigmaScale ?? 0.125)
  const passes = mirrorSets(options.mirrorAxes)
  const M = passes.length
  const tta = M > 1
  const skipBelow = options.skipBelow

  const volumeVoxels = Z * Y * X
  const patchVoxels = pz * py * px

  // Centred virtual padding of axes shorter than the patch.
  const offsets = shape.map((s, a) => (s < patch[a]! ? Math.floor((patch[a]! - s) / 2) : 0)) as Vec3
  const padValues = new Float32Array(C)
  if (shape.some((s, a) => s < patch[a]!)) {
    for (let c = 0; c < C; c++) {
      let min = Infinity
      const base = c * volumeVoxels
      for (let i = 0; i < volumeVoxels; i++) if (volume[base + i]! < min) min = volume[base + i]!
      padValues[c] = Number.isFinite(min) ? min : 0
    }
  }

  const starts = shape.map((s, a) => tileStarts(Math.max(s, patch[a]!), patch[a]!, overlap)) as [number[], number[], number[]]
  const regions: TileRegion[] = []
  for (const tz of starts[0]) {
    for (const ty of starts[1]) {
      for (const tx of starts[2]) {
        const origin: Vec3 = [tz - offsets[0], ty - offsets[1], tx - offsets[2]]
        regions.push({
          origin,
          lo: origin.map((o) => Math.max(0, -o)) as Vec3,
          hi: origin.map((o, a) => Math.min(patch[a]!, shape[a]! - o)) as Vec3,
        })
      }
    }
  }
  const total = regions.length

  // The only volume-sized buffers.
  const accumulated = new Float32Array(K * volumeVoxels)
  const weights = new Float32Array(volumeVoxels)
  const disagreement = tta ? new Float32Array(volumeVoxels) : null

  // Per-batch buffers.
  const inputs = new Float32Array(batchSize * C * patchVoxels)
  const flippedInputs = tta ? new Float32Array(inputs.length) : null
  const alignedLogits = tta ? new Float32Array(batchSize * K * patchVoxels) : null
  const tileProbabilities = new Float32Array(batchSize * K * patchVoxels) // sum over passes
  const passProbabilities = tta ? new Float32Array(K * patchVoxels) : null
  const foregroundSum = tta ? new Float64Array(batchSize * patchVoxels) : null
  const foregroundSquares = tta ? new Float64Array(batchSize * patchVoxels) : null
  const scratch = new Float32Array(patchVoxels)

  function isAir(region: TileRegion, threshold: number): boolean {
    const { origin, lo, hi } = region
    for (let z = lo[0]; z < hi[0]; z++) {
      for (let y = lo[1]; y < hi[1]; y++) {
        const row = ((origin[0] + z) * Y + origin[1] + y) * X + origin[2]
        for (let x = row + lo[2], end = row + hi[2]; x < end; x++) if (!(volume[x]! < threshold)) return false
      }
    }
    return true
  }

  function extract(region: TileRegion, slot: number): void {
    const { origin, lo, hi } = region
    for (let c = 0; c < C; c++) {
      const pad = padValues[c]!
      for (let z = 0; z < pz; z++) {
        for (let y = 0; y < py; y++) {
          const d = ((slot * C + c) * pz + z) * py * px + y * px
          if (z < lo[0] || z >= hi[0] || y < lo[1] || y >= hi[1]) {
            inputs.fill(pad, d, d + px)
            continue
          }
          const s = ((c * Z + origin[0] + z) * Y + origin[1] + y) * X + origin[2]
          if (lo[2] > 0) inputs.fill(pad, d, d + lo[2])
          inputs.set(volume.subarray(s + lo[2], s + hi[2]), d + lo[2])
          if (hi[2] < px) inputs.fill(pad, d + hi[2], d + px)
        }
      }
    }
  }

  /** Adds one tile's pass-summed probabilities (scaled by 1/M) and disagreement, gaussian-weighted. */
  function accumulate(region: TileRegion, slot: number): void {
    const { origin, lo, hi } = region
    const scale = 1 / M
    const probabilityBase = slot * K * patchVoxels
    for (let z = lo[0]; z < hi[0]; z++) {
      for (let y = lo[1]; y < hi[1]; y++) {
        const local = (z * py + y) * px
        const global = ((origin[0] + z) * Y + origin[1] + y) * X + origin[2]
        for (let x = lo[2]; x < hi[2]; x++) weights[global + x] = weights[global + x]! + importance[local + x]!
        for (let k = 0; k < K; k++) {
          const g = k * volumeVoxels + global
          const p = probabilityBase + k * patchVoxels + local
          for (let x = lo[2]; x < hi[2]; x++) accumulated[g + x] = accumulated[g + x]! + importance[local + x]! * tileProbabilities[p + x]! * scale
        }
        if (disagreement) {
          const f = slot * patchVoxels + local
          for (let x = lo[2]; x < hi[2]; x++) {
            const mean = foregroundSum![f + x]! * scale
            const variance = Math.max(0, foregroundSquares![f + x]! * scale - mean * mean)
            disagreement[global + x] = disagreement[global + x]! + importance[local + x]! * variance
          }
        }
      }
    }
  }

  /** A skipped tile: background probability 1, no disagreement. */
  function accumulateBackground(region: TileRegion): void {
    const { origin, lo, hi } = region
    for (let z = lo[0]; z < hi[0]; z++) {
      for (let y = lo[1]; y < hi[1]; y++) {
        const local = (z * py + y) * px
        const global = ((origin[0] + z) * Y + origin[1] + y) * X + origin[2]
        for (let x = lo[2]; x < hi[2]; x++) {
          weights[global + x] = weights[global + x]! + importance[local + x]!
          accumulated[global + x] = accumulated[global + x]! + importance[local + x]!
        }
      }
    }
  }

  async function runBatch(batch: TileRegion[]): Promise<void> {
    const n = batch.length
    batch.forEach((region, slot) => extract(region, slot))
    const inputLength = n * C * patchVoxels
    const outputLength = n * K * patchVoxels
    if (foregroundSum) {
      foregroundSum.fill(0, 0, n * patchVoxels)
      foregroundSquares!.fill(0, 0, n * patchVoxels)
    }
    for (let pass = 0; pass < M; pass++) {
      const flip = passes[pass]!
      const mirrored = flip.some((f) => f)
      let feed = inputs.subarray(0, inputLength)
      if (mirrored) {
        flipInto(inputs, flippedInputs!, n, C, patch, flip)
        feed = flippedInputs!.subarray(0, inputLength)
      }
      let logits = await predict(feed, n)
      if (!(logits instanceof Float32Array) || logits.length !== outputLength) {
        throw new NodalError('bad-prediction', `slidingWindow: the predictor returned ${logits?.length} values for ${n} patches, expected ${n}×${K}×${patch.join('×')} = ${outputLength}`)
      }
      if (mirrored) {
        flipInto(logits, alignedLogits!, n, K, patch, flip)
        logits = alignedLogits!
      }
      for (let slot = 0; slot < n; slot++) {
        const offset = slot * K * patchVoxels
        if (!tta) {
          softmaxInto(logits, offset, tileProbabilities, offset, K, patchVoxels, scratch)
          continue
        }
        softmaxInto(logits, offset, passProbabilities!, 0, K, patchVoxels, scratch)
        addPass(passProbabilities!, tileProbabilities, offset, pass === 0, foregroundSum!, foregroundSquares!, slot * patchVoxels, patchVoxels)
      }
    }
    batch.forEach((region, slot) => accumulate(region, slot))
  }

  let done = 0
  let skipped = 0
  let pending: TileRegion[] = []
  for (const region of regions) {
    if (skipBelow !== undefined && isAir(region, skipBelow)) {
      accumulateBackground(region)
      skipped++
      options.onProgress?.(++done, total)
      continue
    }
    pending.push(region)
    if (pending.length === batchSize) {
      await runBatch(pending)
      done += pending.length
      pending = []
      options.onProgress?.(done, total)
    }
  }
  if (pending.length) {
    await runBatch(pending)
    done += pending.length
    options.onProgress?.(done, total)
  }

  // Normalise in place: the accumulators become the result.
  for (let k = 0; k < K; k++) {
    const o = k * volumeVoxels
    for (let v = 0; v < volumeVoxels; v++) accumulated[o + v] = accumulated[o + v]! / weights[v]!
  }
  if (disagreement) for (let v = 0; v < volumeVoxels; v++) disagreement[v] = disagreement[v]! / weights[v]!
  return { probabilities: accumulated, disagreement, tiles: total, skippedTiles: skipped }
}
