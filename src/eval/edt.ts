import type { Vec3 } from '../volume/volume.js'

/**
 * Exact squared Euclidean distance transform on an anisotropic grid.
 *
 * For every voxel p: min over feature voxels q of Σ_d (spacing[d]·(p_d − q_d))², in mm².
 * Voxels where `feature` is non-zero get 0; with no feature voxel at all every value is Infinity.
 *
 * Method: Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled Functions", Theory of
 * Computing 8 (2012): the squared distance is separable, so three passes of the 1D lower envelope of
 * parabolas (x, then y, then z) give the exact result. Each parabola is weighted by the axis spacing,
 * which makes the transform exact for anisotropic voxels (same definition as scipy's
 * `distance_transform_edt(~feature, sampling=spacing)**2`).
 *
 * Values are stored as float32 (relative error ~1e-7); the envelope itself is computed in float64.
 */
export function squaredDistanceTransform(feature: ArrayLike<number>, shape: Vec3, spacing: Vec3): Float32Array {
  const [nx, ny, nz] = shape
  const dist = new Float32Array(nx * ny * nz)
  for (let line = 0; line < ny * nz; line++) binaryRowPass(feature, dist, line * nx, nx, spacing[0])
  const pass = new EnvelopePass(Math.max(nx, ny, nz))
  // y lines: stride nx
  for (let k = 0; k < nz; k++) {
    for (let i = 0; i < nx; i++) pass.run(dist, i + nx * ny * k, nx, ny, spacing[1])
  }
  // z lines: stride nx*ny
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) pass.run(dist, i + nx * j, nx * ny, nz, spacing[2])
  }
  return dist
}

/**
 * First pass on the binary input: along each x row, the squared distance to the nearest feature
 * voxel of that row (two sweeps), Infinity where the row has none.
 */
function binaryRowPass(feature: ArrayLike<number>, dist: Float32Array, start: number, n: number, spacing: number): void {
  let last = -Infinity
  for (let i = 0; i < n; i++) {
    if (feature[start + i]) last = i
    dist[start + i] = i - last
  }
  let next = Infinity
  const w = spacing * spacing
  for (let i = n - 1; i >= 0; i--) {
    if (feature[start + i]) next = i
    const d = Math.min(dist[start + i], next - i)
    dist[start + i] = d * d * w
  }
}

/** The 1D lower envelope pass with reusable buffers (no allocation per line). */
class EnvelopePass {
  private f: Float64Array
  private v: Int32Array
  private z: Float64Array

  constructor(maxLength: number) {
    this.f = new Float64Array(maxLength)
    this.v = new Int32Array(maxLength)
    this.z = new Float64Array(maxLength + 1)
  }

  /** Replaces data[start + t*stride], t < n, by its 1D squared distance transform along the line. */
  run(data: Float32Array, start: number, stride: number, n: number, spacing: number): void {
    const f = this.f, v = this.v, z = this.z
    let finite = 0
    for (let t = 0, p = start; t < n; t++, p += stride) {
      const value = data[p]
      f[t] = value
      if (value !== Infinity) finite++
    }
    if (finite === 0) return
    const w = spacing * spacing
    // build the envelope from the finite parabolas only
    let k = -1
    for (let q = 0; q < n; q++) {
      const fq = f[q]
      if (fq === Infinity) continue
      if (k < 0) {
        k = 0; v[0] = q; z[0] = -Infinity; z[1] = Infinity
        continue
      }
      // pop parabolas hidden by the new one (z[0] = -Infinity stops the loop)
      let s = intersection(f, w, q, v[k])
      while (s <= z[k]) {
        k--
        s = intersection(f, w, q, v[k])
      }
      k++
      v[k] = q; z[k] = s; z[k + 1] = Infinity
    }
    k = 0
    for (let q = 0, p = start; q < n; q++, p += stride) {
      while (z[k + 1] < q) k++
      const d = q - v[k]
      data[p] = w * d * d + f[v[k]]
    }
  }
}

/** Abscissa (index units) where the parabolas rooted at q and r meet. */
function intersection(f: Float64Array, w: number, q: number, r: number): number {
  return ((f[q] + w * q * q) - (f[r] + w * r * r)) / (2 * w * (q - r))
}
