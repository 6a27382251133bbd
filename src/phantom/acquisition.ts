/**
 * What the scanner does to the painted object: blur by its point spread function, noise, and for
 * PET a coarser grid of its own. Gaussian blurs are separable (one pass per axis over typed arrays).
 */
import { Grid, Vec3, Volume, IDENTITY_AXES } from '../volume/volume.js'
import { Rng } from './random.js'

/** In-place separable Gaussian blur; sigma in voxels per axis (an axis with sigma < 0.05 is skipped). */
export function gaussianBlur(data: Float32Array, shape: Vec3, sigma: Vec3): void {
  const [nx, ny, nz] = shape
  const strides = [1, nx, nx * ny]
  for (let axis = 0; axis < 3; axis++) {
    if (sigma[axis] < 0.05 || shape[axis] < 2) continue
    const kernel = gaussianKernel(sigma[axis])
    const radius = (kernel.length - 1) / 2
    const n = shape[axis], stride = strides[axis]
    const line = new Float32Array(n + 2 * radius)
    const lines = (nx * ny * nz) / n
    for (let l = 0; l < lines; l++) {
      // start offset of line l: enumerate all voxels with index 0 along this axis
      let start: number
      if (axis === 0) start = l * nx
      else if (axis === 1) start = (l % nx) + Math.floor(l / nx) * nx * ny
      else start = l
      for (let t = 0; t < n; t++) line[t + radius] = data[start + t * stride]
      for (let t = 0; t < radius; t++) {
        line[t] = line[radius] // replicate edges
        line[n + radius + t] = line[n + radius - 1]
      }
      for (let t = 0; t < n; t++) {
        let acc = 0
        for (let q = 0; q < kernel.length; q++) acc += kernel[q] * line[t + q]
        data[start + t * stride] = acc
      }
    }
  }
}

export function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma))
  const k = new Float32Array(2 * radius + 1)
  let sum = 0
  for (let t = -radius; t <= radius; t++) sum += (k[t + radius] = Math.exp((-t * t) / (2 * sigma * sigma)))
  for (let t = 0; t < k.length; t++) k[t] /= sum
  return k
}

/** A table of standard normal values; indexed by random bits it gives fast, seeded Gaussian noise. */
const NORMAL_TABLE = (() => {
  const rng = new Rng(0x5eed)
  const table = new Float32Array(1 << 16)
  for (let t = 0; t < table.length; t++) table[t] = rng.normal()
  return table
})()

/** Gaussian noise with standard deviation 1 after smoothing by `sigma` voxels (correlated like CT noise). */
export function correlatedNoise(rng: Rng, shape: Vec3, sigma: Vec3): Float32Array {
  const n = shape[0] * shape[1] * shape[2]
  const noise = new Float32Array(n)
  for (let v = 0; v < n; v += 2) {
    const bits = (rng.next() * 4294967296) >>> 0
    noise[v] = NORMAL_TABLE[bits & 0xffff]
    if (v + 1 < n) noise[v + 1] = NORMAL_TABLE[bits >>> 16]
  }
  gaussianBlur(noise, shape, sigma)
  // a Gaussian blur scales white noise's sd by sqrt(sum of squared weights) per axis
  let gain = 1
  for (let d = 0; d < 3; d++) {
    if (sigma[d] < 0.05 || shape[d] < 2) continue
    gain *= Math.sqrt(gaussianKernel(sigma[d]).reduce((s, w) => s + w * w, 0))
  }
  for (let v = 0; v < n; v++) noise[v] /= gain
  return noise
}

export interface CtAcquisition { psf_fwhm_mm: number; noise_hu: number; texture_hu: number }

/** Blur, noise and quantisation of a CT: returns HU as int16. */
export function acquireCt(rng: Rng, ct: Float32Array, grid: Grid, acq: CtAcquisition): Int16Array {
  const [hx, hy, hz] = grid.spacing
  // parenchymal texture: a smooth random field of a few HU over soft tissue (not air or lung)
  const texture = correlatedNoise(rng, grid.shape, [2.5 / hx, 2.5 / hy, 2.5 / hz])
  for (let v = 0; v < ct.length; v++) if (ct[v] > -300) ct[v] += acq.texture_hu * texture[v]
  const sigmaMm = acq.psf_fwhm_mm / 2.3548
  // along z the painted partial volume already integrates the slice; add a little slice-profile blur
  gaussianBlur(ct, grid.shape, [sigmaMm / hx, sigmaMm / hy, 0.25])
  const noise = correlatedNoise(rng, grid.shape, [0.7, 0.7, 0])
  const out = new Int16Array(ct.length)
  for (let v = 0; v < ct.length; v++) {
    const hu = Math.round(ct[v] + acq.noise_hu * noise[v])
    out[v] = hu < -1024 ? -1024 : hu > 3071 ? 3071 : hu
  }
  return out
}

export interface PetAcquisition { spacing_mm: number; psf_fwhm_mm: number }

/**
 * PET from an activity map on the CT grid: averaged down to about 2 mm, blurred by the PET point
 * spread, sampled on the PET's own coarser grid (its own origin and extent), then given
 * count-dependent noise. Returns the PET volume in SUV on its native grid.
 */
export function acquirePet(rng: Rng, activity: Float32Array, ctGrid: Grid, acq: PetAcquisition): Volume {
  const factor = ctGrid.spacing.map((h) => Math.max(1, Math.round(2 / h))) as Vec3
  const coarse = boxDownsample(activity, ctGrid, factor)
  const sigmaMm = Math.hypot(acq.psf_fwhm_mm / 2.3548, acq.spacing_mm / 2.3548)
  gaussianBlur(coarse.data as Float32Array, coarse.shape, coarse.spacing.map((h) => sigmaMm / h) as Vec3)
  // the PET field of view covers the CT's, with its own voxel size and a sub-voxel shift
  const s = acq.spacing_mm
  const extent = ctGrid.shape.map((n, d) => n * ctGrid.spacing[d])
  const shape = extent.map((e) => Math.ceil(e / s) + 1) as Vec3
  const ctCentre = ctGrid.shape.map((n, d) => ctGrid.origin[d] + ((n - 1) * ctGrid.spacing[d]) / 2)
  const origin = shape.map((n, d) => ctCentre[d] - ((n - 1) * s) / 2 + rng.uniform(-0.5, 0.5) * s) as Vec3
  const pet = sampleClamped(coarse, { shape, spacing: [s, s, s], origin, axes: IDENTITY_AXES })
  const data = pet.data as Float32Array
  for (let v = 0; v < data.length; v++) {
    const x = data[v]
    const noisy = x + 0.12 * Math.sqrt(Math.max(x, 0)) * rng.normal()
    data[v] = noisy > 0 ? noisy : 0
  }
  pet.meta = { modality: 'PT', units: 'SUVbw' }
  return pet
}

/** Mean of each block of factor[0] x factor[1] x factor[2] voxels, on a grid with matching geometry. */
function boxDownsample(data: Float32Array, grid: Grid, factor: Vec3): Volume {
  const shape = grid.shape.map((n, d) => Math.floor(n / factor[d])) as Vec3
  const [nx, ny] = grid.shape
  const [mx, my, mz] = shape
  const out = new Float32Array(mx * my * mz)
  const [fx, fy, fz] = factor
  for (let k = 0; k < mz * fz; k++) {
    const ok = Math.floor(k / fz)
    for (let j = 0; j < my * fy; j++) {
      const row = mx * (Math.floor(j / fy) + my * ok)
      let n = nx * (j + ny * k)
      for (let i = 0; i < mx * fx; i++, n++) out[row + Math.floor(i / fx)] += data[n]
    }
  }
  const inv = 1 / (fx * fy * fz)
  for (let v = 0; v < out.length; v++) out[v] *= inv
  const spacing = grid.spacing.map((h, d) => h * factor[d]) as Vec3
  const origin = grid.origin.map((o, d) => o + ((factor[d] - 1) * grid.spacing[d]) / 2) as Vec3
  return new Volume(out, shape, spacing, origin, IDENTITY_AXES)
}

/** Trilinear sampling of an axis-aligned volume at another axis-aligned grid, clamping at the edges. */
function sampleClamped(src: Volume, target: Grid): Volume {
  const [sx, sy] = src.shape
  const d = src.data
  const [tx, ty, tz] = target.shape
  const out = new Float32Array(tx * ty * tz)
  const coord = (axis: number, t: number) => {
    const c = (target.origin[axis] + t * target.spacing[axis] - src.origin[axis]) / src.spacing[axis]
    const max = src.shape[axis] - 1
    const x = c < 0 ? 0 : c > max ? max : c
    const i0 = Math.min(Math.floor(x), Math.max(0, max - 1))
    return { i0, i1: Math.min(i0 + 1, max), f: x - i0 }
  }
  const cx = Array.from({ length: tx }, (_, t) => coord(0, t))
  let n = 0
  for (let k = 0; k < tz; k++) {
    const z = coord(2, k)
    for (let j = 0; j < ty; j++) {
      const y = coord(1, j)
      const r00 = sx * (y.i0 + sy * z.i0), r10 = sx * (y.i1 + sy * z.i0), r01 = sx * (y.i0 + sy * z.i1), r11 = sx * (y.i1 + sy * z.i1)
      for (let i = 0; i < tx; i++) {
        const { i0, i1, f } = cx[i]
        const a = (d[r00 + i0] * (1 - f) + d[r00 + i1] * f) * (1 - y.f) + (d[r10 + i0] * (1 - f) + d[r10 + i1] * f) * y.f
        const b = (d[r01 + i0] * (1 - f) + d[r01 + i1] * f) * (1 - y.f) + (d[r11 + i0] * (1 - f) + d[r11 + i1] * f) * y.f
        out[n++] = a * (1 - z.f) + b * z.f
      }
    }
  }
  return new Volume(out, [...target.shape], [...target.spacing], [...target.origin], IDENTITY_AXES)
}

export interface MrAcquisition { psf_fwhm_mm: number; noise: number; bias: Vec3 }

/** T2-weighted MR: blur, a smooth receive-coil bias field, and Rician noise; int16 signal. */
export function acquireMr(rng: Rng, mr: Float32Array, grid: Grid, acq: MrAcquisition): Int16Array {
  const [hx, hy] = grid.spacing
  const sigmaMm = acq.psf_fwhm_mm / 2.3548
  gaussianBlur(mr, grid.shape, [sigmaMm / hx, sigmaMm / hy, 0.3])
  const [nx, ny, nz] = grid.shape
  const n1 = correlatedNoise(rng, grid.shape, [0.5, 0.5, 0])
  const n2 = correlatedNoise(rng, grid.shape, [0.5, 0.5, 0])
  const out = new Int16Array(mr.length)
  let v = 0
  for (let k = 0; k < nz; k++) {
    const z = (2 * k) / Math.max(1, nz - 1) - 1
    for (let j = 0; j < ny; j++) {
      const y = (2 * j) / Math.max(1, ny - 1) - 1
      for (let i = 0; i < nx; i++, v++) {
        const x = (2 * i) / Math.max(1, nx - 1) - 1
        const bias = 1 + acq.bias[0] * x + acq.bias[1] * y + acq.bias[2] * (x * x + y * y + 0.5 * z * z - 0.8)
        const s = mr[v] * bias
        const re = s + acq.noise * n1[v], im = acq.noise * n2[v]
        out[v] = Math.min(32767, Math.round(Math.sqrt(re * re + im * im)))
      }
    }
  }
  return out
}
