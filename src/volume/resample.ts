import { allocate, DType, Grid, Volume, scaledAxes, invert3, Vec3 } from './volume.js'

export type Interpolation = 'nearest' | 'linear'

export interface ResampleOptions {
  /** nearest for label maps, linear for images. */
  interpolation?: Interpolation
  /** Value for target voxels that fall outside the source. Default 0. */
  fill?: number
  /** Output data type; default: the source's for nearest, float32 for linear. */
  dtype?: DType
  /** Only target voxels where this (flat, on the target grid) is non-zero are sampled; the others get `fill`. */
  where?: ArrayLike<number>
}

/**
 * Resamples `src` onto `target` by world coordinates: each target voxel centre is mapped to the
 * source's continuous index and interpolated there. Never matches by index.
 */
export function resampleTo(src: Volume, target: Grid, opts: ResampleOptions = {}): Volume {
  const interpolation = opts.interpolation ?? 'linear'
  const fill = opts.fill ?? 0
  const dtype = opts.dtype ?? (interpolation === 'nearest' ? src.dtype : 'float32')
  const [nx, ny, nz] = target.shape
  const out = allocate(dtype, nx * ny * nz)
  // target index -> source continuous index is affine: M·ijk + t
  const toSrc = invert3(scaledAxes(src))
  const tgt = scaledAxes(target)
  const col = (d: number): Vec3 => toSrc.map((r) => r[0] * tgt[d][0] + r[1] * tgt[d][1] + r[2] * tgt[d][2]) as Vec3
  const ci = col(0), cj = col(1), ck = col(2)
  const o: Vec3 = [0, 1, 2].map((r) => target.origin[r] - src.origin[r]) as Vec3
  const t = toSrc.map((r) => r[0] * o[0] + r[1] * o[1] + r[2] * o[2]) as Vec3
  const sample = interpolation === 'nearest' ? nearestSampler(src, fill) : linearSampler(src, fill)
  const round = dtype.startsWith('float') ? (v: number) => v : Math.round
  const where = opts.where
  if (where && fill !== 0) out.fill(fill)
  let n = 0
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      let x = t[0] + cj[0] * j + ck[0] * k
      let y = t[1] + cj[1] * j + ck[1] * k
      let z = t[2] + cj[2] * j + ck[2] * k
      for (let i = 0; i < nx; i++) {
        if (!where || where[n]) out[n] = round(sample(x, y, z))
        n++
        x += ci[0]; y += ci[1]; z += ci[2]
      }
    }
  }
  return new Volume(out, [...target.shape], [...target.spacing], [...target.origin],
    target.axes.map((a) => [...a]) as Grid['axes'], { ...src.meta })
}

type Sampler = (x: number, y: number, z: number) => number

// Half a voxel of tolerance beyond the outer centres, plus rounding slack, counts as inside.
const EDGE = 0.5 + 1e-6

function nearestSampler(src: Volume, fill: number): Sampler {
  const [nx, ny, nz] = src.shape
  const d = src.data
  return (x, y, z) => {
    if (x < -EDGE || y < -EDGE || z < -EDGE || x > nx - 1 + EDGE || y > ny - 1 + EDGE || z > nz - 1 + EDGE) return fill
    const i = clamp(Math.round(x), nx), j = clamp(Math.round(y), ny), k = clamp(Math.round(z), nz)
    return d[i + nx * (j + ny * k)]
  }
}

function linearSampler(src: Volume, fill: number): Sampler {
  const [nx, ny, nz] = src.shape
  const d = src.data
  const sxy = nx * ny
  return (x, y, z) => {
    if (x < -EDGE || y < -EDGE || z < -EDGE || x > nx - 1 + EDGE || y > ny - 1 + EDGE || z > nz - 1 + EDGE) return fill
    // clamp to the outer voxel centres (edge replication within the half-voxel border)
    x = Math.min(Math.max(x, 0), nx - 1); y = Math.min(Math.max(y, 0), ny - 1); z = Math.min(Math.max(z, 0), nz - 1)
    const i0 = Math.min(Math.floor(x), nx - 2 < 0 ? 0 : nx - 2), j0 = Math.min(Math.floor(y), ny - 2 < 0 ? 0 : ny - 2), k0 = Math.min(Math.floor(z), nz - 2 < 0 ? 0 : nz - 2)
    const i1 = Math.min(i0 + 1, nx - 1), j1 = Math.min(j0 + 1, ny - 1), k1 = Math.min(k0 + 1, nz - 1)
    const fx = x - i0, fy = y - j0, fz = z - k0
    const a = k0 * sxy, b = k1 * sxy
    const c00 = d[i0 + nx * j0 + a] * (1 - fx) + d[i1 + nx * j0 + a] * fx
    const c10 = d[i0 + nx * j1 + a] * (1 - fx) + d[i1 + nx * j1 + a] * fx
    const c01 = d[i0 + nx * j0 + b] * (1 - fx) + d[i1 + nx * j0 + b] * fx
    const c11 = d[i0 + nx * j1 + b] * (1 - fx) + d[i1 + nx * j1 + b] * fx
    const c0 = c00 * (1 - fy) + c10 * fy
    const c1 = c01 * (1 - fy) + c11 * fy
    return c0 * (1 - fz) + c1 * fz
  }
}

function clamp(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i
}

/** A grid covering the same physical extent as `g` with new spacing (same axes and corner). */
export function gridWithSpacing(g: Grid, spacing: Vec3): Grid {
  const shape = [0, 1, 2].map((d) => Math.max(1, Math.round((g.shape[d] * g.spacing[d]) / spacing[d]))) as Vec3
  // keep the outer corner of the first voxel in place: origin moves by half the spacing change
  const origin = [...g.origin] as Vec3
  for (let d = 0; d < 3; d++) {
    const shift = (spacing[d] - g.spacing[d]) / 2
    for (let r = 0; r < 3; r++) origin[r] += shift * g.axes[d][r]
  }
  return { shape, spacing: [...spacing], origin, axes: g.axes.map((a) => [...a]) as Grid['axes'] }
}

/** Resample to new spacing over the same extent. */
export function resampleToSpacing(src: Volume, spacing: Vec3, opts: ResampleOptions = {}): Volume {
  return resampleTo(src, gridWithSpacing(src, spacing), opts)
}
