/**
 * Spatial augmentation: rotation, zoom and elastic deformation combined into one map from output patch
 * voxels to continuous coordinates of the input region, then one resampling pass (trilinear for the image,
 * nearest neighbour for the label), plus centre cropping and mirroring.
 *
 * Layout: images are channels-first, z-slowest, x-fastest (index ((c*Z + z)*Y + y)*X + x); labels have the
 * same spatial layout. Shapes and spacings are in tensor order [z, y, x]; spacing is in mm.
 */
import { convolveAxis, factorAroundOne, gaussian, gaussianKernel, uniform, type Rng } from './common.js'

export type Vec3 = [number, number, number]

export interface AugmentInput {
  image: Float32Array
  label: Uint8Array
  channels: number
  shape: Vec3
  spacing: Vec3
}

export interface AugmentOutput {
  image: Float32Array
  label: Uint8Array
  shape: Vec3
}

export interface SpatialOptions {
  /** Rotation by angles drawn uniformly in ±maxDegrees about the z, y and x axes (the y-x, z-x and z-y planes). */
  rotation: { probability: number; maxDegrees: Vec3 }
  /** Isotropic zoom: objects appear `factor` times larger. Drawn below and above 1 equally often. */
  scaling: { probability: number; range: [number, number] }
  /** Smooth random displacement: per-component standard deviation alphaMm, smoothness length sigmaMm. */
  elastic: { probability: number; alphaMm: [number, number]; sigmaMm: [number, number] }
  /** Tensor axes (0 = z, 1 = y, 2 = x) that are each flipped with probability 0.5. */
  mirror: { axes: number[] }
}

/** Row-major 3x3 matrix acting on (z, y, x) column vectors. */
export type Mat3 = number[]

export function identityMatrix(): Mat3 {
  return [1, 0, 0, 0, 1, 0, 0, 0, 1]
}

export function multiplyMatrices(a: Mat3, b: Mat3): Mat3 {
  const m = new Array<number>(9).fill(0)
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      for (let k = 0; k < 3; k++) m[3 * i + j] += a[3 * i + k] * b[3 * k + j]
    }
  }
  return m
}

/**
 * Rotation by angles (radians) about the z, y and x axes, applied in the order x, then y, then z
 * (Rz·Ry·Rx). A rotation about the z axis turns the y-x plane: y' = cos·y − sin·x, x' = sin·y + cos·x.
 */
export function rotationMatrix([aboutZ, aboutY, aboutX]: Vec3): Mat3 {
  const [cz, sz, cy, sy, cx, sx] = [Math.cos(aboutZ), Math.sin(aboutZ), Math.cos(aboutY), Math.sin(aboutY),
    Math.cos(aboutX), Math.sin(aboutX)]
  const rz = [1, 0, 0, 0, cz, -sz, 0, sz, cz]
  const ry = [cy, 0, sy, 0, 1, 0, -sy, 0, cy]
  const rx = [cx, -sx, 0, sx, cx, 0, 0, 0, 1]
  return multiplyMatrices(rz, multiplyMatrices(ry, rx))
}

export function scalingMatrix(factor: number): Mat3 {
  return [factor, 0, 0, 0, factor, 0, 0, 0, factor]
}

/**
 * A displacement field in mm on a coarse grid over the output patch, interpolated trilinearly in between.
 * Node k of axis a sits on output voxel k * step[a].
 */
export interface DisplacementField {
  step: Vec3
  gridShape: Vec3
  /** Component-major [3 (dz, dy, dx), gz, gy, gx], in mm. */
  values: Float32Array
}

/**
 * Smooth random displacement for a patch: white noise on a coarse grid (nodes about sigma/2 apart, at most
 * every 8 voxels), Gaussian-smoothed with sigmaMm and scaled so each component has standard deviation alphaMm.
 */
export function randomDisplacement(patchShape: Vec3, spacing: Vec3, alphaMm: number, sigmaMm: number,
  rng: Rng): DisplacementField {
  const sigma = Math.max(sigmaMm, 1e-3)
  const step = spacing.map(s => Math.min(8, Math.max(1, Math.round(sigma / (2 * s))))) as Vec3
  const gridShape = patchShape.map((n, a) => Math.max(2, Math.ceil((n - 1) / step[a]) + 1)) as Vec3
  const kernels = spacing.map((s, a) => gaussianKernel(sigma / (s * step[a])))
  const radius = kernels.map(k => (k.length - 1) / 2)
  const padded = gridShape.map((n, a) => n + 2 * radius[a]) as Vec3
  // Smoothed unit white noise has variance sum(w²) over the separable kernel; undo that.
  const variance = kernels.reduce((v, k) => v * k.reduce((s, w) => s + w * w, 0), 1)
  const gain = alphaMm / Math.sqrt(variance)
  const nodes = gridShape[0] * gridShape[1] * gridShape[2]
  const values = new Float32Array(3 * nodes)
  const noise = new Float32Array(padded[0] * padded[1] * padded[2])
  for (let comp = 0; comp < 3; comp++) {
    for (let i = 0; i < noise.length; i++) noise[i] = gaussian(rng)
    for (let a = 0; a < 3; a++) convolveAxis(noise, padded, a, kernels[a])
    let o = comp * nodes
    for (let z = 0; z < gridShape[0]; z++) {
      for (let y = 0; y < gridShape[1]; y++) {
        const row = ((z + radius[0]) * padded[1] + y + radius[1]) * padded[2] + radius[2]
        for (let x = 0; x < gridShape[2]; x++) values[o++] = gain * noise[row + x]
      }
    }
  }
  return { step, gridShape, values }
}

export interface SpatialDraw {
  matrix: Mat3
  displacement?: DisplacementField
}

/** Draws rotation, zoom and elastic deformation; null when none was drawn (then the patch is just cropped). */
export function drawSpatialTransform(options: SpatialOptions, patchShape: Vec3, spacing: Vec3,
  rng: Rng): SpatialDraw | null {
  let matrix: Mat3 | null = null
  if (rng() < options.rotation.probability) {
    const angles = options.rotation.maxDegrees.map(d => uniform(rng, [-d, d]) * Math.PI / 180) as Vec3
    matrix = rotationMatrix(angles)
  }
  if (rng() < options.scaling.probability) {
    // Objects `zoom` times larger means sampling the input at coordinates divided by `zoom`.
    const zoom = factorAroundOne(rng, options.scaling.range)
    matrix = multiplyMatrices(matrix ?? identityMatrix(), scalingMatrix(1 / zoom))
  }
  let displacement: DisplacementField | undefined
  if (rng() < options.elastic.probability) {
    const { alphaMm, sigmaMm } = options.elastic
    displacement = randomDisplacement(patchShape, spacing, uniform(rng, alphaMm), uniform(rng, sigmaMm), rng)
  }
  if (matrix === null && displacement === undefined) return null
  return { matrix: matrix ?? identityMatrix(), displacement }
}

/** Offset of the centred patch inside the region along one axis (negative when the region is smaller). */
function cropOffset(region: number, patch: number): number {
  return Math.floor((region - patch) / 2)
}

function checkInput(input: AugmentInput, patchShape: Vec3): void {
  const [z, y, x] = input.shape
  if (input.image.length !== input.channels * z * y * x || input.label.length !== z * y * x) {
    throw new RangeError(`augment: image/label lengths ${input.image.length}/${input.label.length} do not match `
      + `${input.channels} channel(s) of ${input.shape.join('x')}`)
  }
  if (!patchShape.every(n => Number.isInteger(n) && n >= 1)) {
    throw new RangeError(`augment: bad patch shape ${patchShape.join('x')}`)
  }
}

/** Value used for image voxels outside the region: each channel's minimum over the region. */
function channelMinima(input: AugmentInput): Float64Array {
  const volume = input.label.length
  const minima = new Float64Array(input.channels)
  for (let c = 0; c < input.channels; c++) {
    let m = Infinity
    const end = (c + 1) * volume
    for (let i = c * volume; i < end; i++) if (input.image[i] < m) m = input.image[i]
    minima[c] = volume > 0 ? m : 0
  }
  return minima
}

function allocateOutput(channels: number, patchShape: Vec3): AugmentOutput {
  const volume = patchShape[0] * patchShape[1] * patchShape[2]
  return { image: new Float32Array(channels * volume), label: new Uint8Array(volume), shape: [...patchShape] }
}

/** The patch of `patchShape` centred on the region, untransformed; outside the region: channel minimum, label 0. */
export function centerCrop(input: AugmentInput, patchShape: Vec3): AugmentOutput {
  checkInput(input, patchShape)
  const [Z, Y, X] = input.shape
  const [PZ, PY, PX] = patchShape
  const out = allocateOutput(input.channels, patchShape)
  const [oz, oy, ox] = [cropOffset(Z, PZ), cropOffset(Y, PY), cropOffset(X, PX)]
  const x0 = Math.max(0, -ox)
  const x1 = Math.min(PX, X - ox)
  const padded = oz < 0 || oy < 0 || ox < 0
  const minima = padded ? channelMinima(input) : null
  const volume = PZ * PY * PX
  if (minima) for (let c = 0; c < input.channels; c++) out.image.fill(minima[c], c * volume, (c + 1) * volume)
  if (x1 <= x0) return out
  for (let z = Math.max(0, -oz); z < Math.min(PZ, Z - oz); z++) {
    for (let y = Math.max(0, -oy); y < Math.min(PY, Y - oy); y++) {
      const src = ((z + oz) * Y + y + oy) * X + ox
      const dst = (z * PY + y) * PX
      out.label.set(input.label.subarray(src + x0, src + x1), dst + x0)
      for (let c = 0; c < input.channels; c++) {
        const s = src + c * Z * Y * X
        out.image.set(input.image.subarray(s + x0, s + x1), dst + c * volume + x0)
      }
    }
  }
  return out
}

/** Per-axis node index and weight of every output voxel for interpolating a displacement grid. */
function gridTable(length: number, step: number, nodes: number): { node: Int32Array; weight: Float64Array } {
  const node = new Int32Array(length)
  const weight = new Float64Array(length)
  for (let i = 0; i < length; i++) {
    const t = i / step
    node[i] = Math.min(Math.floor(t), nodes - 2)
    weight[i] = t - node[i]
  }
  return { node, weight }
}

/**
 * Trilinear interpolation of a displacement grid at output voxels, in output voxel units: `setRow` interpolates
 * bilinearly in z and y at every node along x, `at` then only interpolates along x.
 */
class DisplacementSampler {
  private readonly tables: { node: Int32Array; weight: Float64Array }[]
  private readonly row: Float64Array
  private readonly inverseSpacing: number[]

  constructor(private readonly field: DisplacementField, patchShape: Vec3, spacing: Vec3) {
    this.tables = patchShape.map((n, a) => gridTable(n, field.step[a], field.gridShape[a]))
    this.row = new Float64Array(3 * field.gridShape[2])
    this.inverseSpacing = spacing.map(s => 1 / s)
  }

  setRow(z: number, y: number): void {
    const [gz, gy, gx] = this.field.gridShape
    const v = this.field.values
    const [kz, wz] = [this.tables[0].node[z], this.tables[0].weight[z]]
    const [ky, wy] = [this.tables[1].node[y], this.tables[1].weight[y]]
    for (let comp = 0; comp < 3; comp++) {
      const i00 = ((comp * gz + kz) * gy + ky) * gx
      const i01 = i00 + gx
      const i10 = i00 + gy * gx
      const i11 = i10 + gx
      for (let i = 0; i < gx; i++) {
        const near = (1 - wy) * v[i00 + i] + wy * v[i01 + i]
        const far = (1 - wy) * v[i10 + i] + wy * v[i11 + i]
        this.row[comp * gx + i] = ((1 - wz) * near + wz * far) * this.inverseSpacing[comp]
      }
    }
  }

  /** Component `comp` (0 = z, 1 = y, 2 = x) of the displacement at voxel x of the current row. */
  at(comp: number, x: number): number {
    const k = comp * this.field.gridShape[2] + this.tables[2].node[x]
    const w = this.tables[2].weight[x]
    return (1 - w) * this.row[k] + w * this.row[k + 1]
  }
}

/**
 * Writes output voxels from continuous input coordinates: label by nearest neighbour (0 outside the region),
 * image channels by trilinear interpolation (the channel's minimum outside the region).
 */
class Resampler {
  private readonly Z: number
  private readonly Y: number
  private readonly X: number
  private readonly channels: number
  private readonly inVolume: number
  private readonly outVolume: number
  private readonly fill: Float64Array

  constructor(private readonly input: AugmentInput, private readonly out: AugmentOutput) {
    ;[this.Z, this.Y, this.X] = input.shape
    this.channels = input.channels
    this.inVolume = input.label.length
    this.outVolume = out.label.length
    this.fill = channelMinima(input)
  }

  /** Output voxel `i` from input position (z, y, x) = (u, v, t). */
  sample(i: number, u: number, v: number, t: number): void {
    const nz = Math.floor(u + 0.5)
    const ny = Math.floor(v + 0.5)
    const nx = Math.floor(t + 0.5)
    if (nz >= 0 && nz < this.Z && ny >= 0 && ny < this.Y && nx >= 0 && nx < this.X) {
      this.out.label[i] = this.input.label[(nz * this.Y + ny) * this.X + nx]
    }
    const z0 = Math.floor(u)
    const y0 = Math.floor(v)
    const x0 = Math.floor(t)
    if (z0 >= 0 && z0 + 1 < this.Z && y0 >= 0 && y0 + 1 < this.Y && x0 >= 0 && x0 + 1 < this.X) {
      this.interior(i, z0, y0, x0, u - z0, v - y0, t - x0)
    } else if (z0 >= -1 && z0 < this.Z && y0 >= -1 && y0 < this.Y && x0 >= -1 && x0 < this.X) {
      for (let c = 0; c < this.channels; c++) {
        this.out.image[c * this.outVolume + i] = this.border(c, z0, y0, x0, u - z0, v - y0, t - x0)
      }
    } else {
      for (let c = 0; c < this.channels; c++) this.out.image[c * this.outVolume + i] = this.fill[c]
    }
  }

  /** Trilinear sample when all 8 neighbours lie inside the region. */
  private interior(i: number, z0: number, y0: number, x0: number, fz: number, fy: number, fx: number): void {
    const X = this.X
    const image = this.input.image
    const YX = this.Y * X
    const w000 = (1 - fz) * (1 - fy) * (1 - fx)
    const w001 = (1 - fz) * (1 - fy) * fx
    const w010 = (1 - fz) * fy * (1 - fx)
    const w011 = (1 - fz) * fy * fx
    const w100 = fz * (1 - fy) * (1 - fx)
    const w101 = fz * (1 - fy) * fx
    const w110 = fz * fy * (1 - fx)
    const w111 = fz * fy * fx
    let j = (z0 * this.Y + y0) * X + x0
    for (let c = 0; c < this.channels; c++, j += this.inVolume) {
      this.out.image[c * this.outVolume + i] = w000 * image[j] + w001 * image[j + 1] + w010 * image[j + X]
        + w011 * image[j + X + 1] + w100 * image[j + YX] + w101 * image[j + YX + 1]
        + w110 * image[j + YX + X] + w111 * image[j + YX + X + 1]
    }
  }

  /** Trilinear sample of channel `c` where some of the 8 neighbours lie outside the region. */
  private border(c: number, z0: number, y0: number, x0: number, fz: number, fy: number, fx: number): number {
    let sum = 0
    for (let dz = 0; dz < 2; dz++) {
      const z = z0 + dz
      const wz = dz ? fz : 1 - fz
      for (let dy = 0; dy < 2; dy++) {
        const y = y0 + dy
        const wzy = wz * (dy ? fy : 1 - fy)
        for (let dx = 0; dx < 2; dx++) {
          const x = x0 + dx
          const w = wzy * (dx ? fx : 1 - fx)
          const inside = z >= 0 && z < this.Z && y >= 0 && y < this.Y && x >= 0 && x < this.X
          sum += w * (inside ? this.input.image[c * this.inVolume + (z * this.Y + y) * this.X + x] : this.fill[c])
        }
      }
    }
    return sum
  }
}

/**
 * Resamples the region into a patch. `matrix` maps an output offset from the patch centre (in mm) to an
 * offset from the region centre (in mm); `displacement` (mm, over the output patch) is added to the output
 * offset before the matrix. The region centre is the centre of centerCrop's window, so the identity matrix
 * reproduces centerCrop exactly. Image: trilinear, outside the region the channel's minimum; label: nearest
 * neighbour, outside 0.
 */
export function spatialTransform(input: AugmentInput, patchShape: Vec3, matrix: Mat3,
  displacement?: DisplacementField): AugmentOutput {
  checkInput(input, patchShape)
  const [PZ, PY, PX] = patchShape
  const s = input.spacing
  // Voxel-space matrix: A = S⁻¹ M S with S = diag(spacing).
  const [a0, a1, a2, a3, a4, a5, a6, a7, a8] = matrix.map((m, k) => m * s[k % 3] / s[Math.floor(k / 3)])
  const [pz, py, px] = [(PZ - 1) / 2, (PY - 1) / 2, (PX - 1) / 2]
  const [cz, cy, cx] = input.shape.map((n, a) => cropOffset(n, patchShape[a]) + (patchShape[a] - 1) / 2)
  const out = allocateOutput(input.channels, patchShape)
  const resampler = new Resampler(input, out)
  const elastic = displacement ? new DisplacementSampler(displacement, patchShape, s) : null
  let i = 0
  for (let z = 0; z < PZ; z++) {
    for (let y = 0; y < PY; y++) {
      elastic?.setRow(z, y)
      for (let x = 0; x < PX; x++, i++) {
        let dz = z - pz
        let dy = y - py
        let dx = x - px
        if (elastic) {
          dz += elastic.at(0, x)
          dy += elastic.at(1, x)
          dx += elastic.at(2, x)
        }
        resampler.sample(i, cz + a0 * dz + a1 * dy + a2 * dx, cy + a3 * dz + a4 * dy + a5 * dx,
          cx + a6 * dz + a7 * dy + a8 * dx)
      }
    }
  }
  return out
}

/** Reverses `data` (viewed as [outer, n, inner]) along its middle dimension, in place. */
function reverseMiddle(data: Float32Array | Uint8Array, outer: number, n: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner
    for (let i = 0; i < n >> 1; i++) {
      const a = base + i * inner
      const b = base + (n - 1 - i) * inner
      for (let k = 0; k < inner; k++) {
        const tmp = data[a + k]
        data[a + k] = data[b + k]
        data[b + k] = tmp
      }
    }
  }
}

/** Flips image (all channels) and label together along tensor axis 0 (z), 1 (y) or 2 (x), in place. */
export function flipAxis(patch: AugmentOutput, axis: number): void {
  const [Z, Y, X] = patch.shape
  const n = patch.shape[axis]
  const inner = axis === 0 ? Y * X : axis === 1 ? X : 1
  const spatialOuter = Z * Y * X / (n * inner)
  const channels = patch.image.length / (Z * Y * X)
  reverseMiddle(patch.image, channels * spatialOuter, n, inner)
  reverseMiddle(patch.label, spatialOuter, n, inner)
}

/** Flips each of `axes` with probability 0.5 (one draw per listed axis, in order). */
export function randomMirror(patch: AugmentOutput, axes: readonly number[], rng: Rng): void {
  for (const axis of axes) {
    if (axis !== 0 && axis !== 1 && axis !== 2) throw new RangeError(`augment: mirror axis ${axis} is not 0, 1 or 2`)
    if (rng() < 0.5) flipAxis(patch, axis)
  }
}
