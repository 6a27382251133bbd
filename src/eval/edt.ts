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
  const { dist, pass } = planarPasses(feature, shape, spacing)
  // z lines: stride nx*ny
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) pass.run(dist, i + nx * j, nx * ny, nz, spacing[2])
  }
  return dist
}

/**
 * The same squared distances, only at the voxels `queries` (flat indices, ascending), in their order.
 * Exact like the full transform, but the last (z) pass runs only on the columns holding a query and
 * evaluates the envelope only there: the surface-distance metrics need nothing else.
 */
export function squaredDistancesAt(feature: ArrayLike<number>, shape: Vec3, spacing: Vec3, queries: Int32Array): Float64Array {
  const [nx, ny, nz] = shape
  const { dist, pass } = planarPasses(feature, shape, spacing)
  // queries grouped by column (i, j); within a column they stay in ascending k
  const columns = nx * ny
  const start = new Int32Array(columns + 1)
  for (const q of queries) start[(q % columns) + 1]++
  for (let c = 0; c < columns; c++) start[c + 1] += start[c]
  const fill = start.slice(0, columns)
  const byColumn = new Int32Array(queries.length)
  for (let m = 0; m < queries.length; m++) byColumn[fill[queries[m] % columns]++] = m
  const out = new Float64Array(queries.length)
  for (let c = 0; c < columns; c++) {
    if (start[c] === start[c + 1]) continue
    pass.envelope(dist, c, columns, nz, spacing[2])
    for (let r = start[c]; r < start[c + 1]; r++) {
      const m = byColumn[r]
      out[m] = pass.valueAt(Math.floor(queries[m] / columns))
    }
  }
  return out
}

/** Allocation, then the x pass (binary, two sweeps) and the y pass (envelope) of the transform. */
function planarPasses(feature: ArrayLike<number>, shape: Vec3, spacing: Vec3): { dist: Float32Array; pass: EnvelopePass } {
  const [nx, ny, nz] = shape
  const dist = new Float32Array(nx * ny * nz)
  for (let line = 0; line < ny * nz; line++) binaryRowPass(feature, dist, line * nx, nx, spacing[0])
  const pass = new EnvelopePass(Math.max(nx, ny, nz))
  // y lines: stride nx
  for (let k = 0; k < nz; k++) {
    for (let i = 0; i < nx; i++) pass.run(dist, i + nx * ny * k, nx, ny, spacing[1])
  }
  return { dist, pass }
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
  /** The line's values (f), the roots of the envelope's parabolas (v) and their boundaries (z). */
  private f: Float64Array
  private v: Int32Array
  private z: Float64Array
  /** Current envelope segment for valueAt, squared spacing, and whether the line had no finite value. */
  private k = 0
  private w = 1
  private empty = true

  constructor(maxLength: number) {
    this.f = new Float64Array(maxLength)
    this.v = new Int32Array(maxLength)
    this.z = new Float64Array(maxLength + 1)
  }

  /** Replaces data[start + t*stride], t < n, by its 1D squared distance transform along the line. */
  run(data: Float32Array, start: number, stride: number, n: number, spacing: number): void {
    this.envelope(data, start, stride, n, spacing)
    if (this.empty) return
    for (let q = 0, p = start; q < n; q++, p += stride) data[p] = this.valueAt(q)
  }

  /** Builds the lower envelope of the parabolas rooted at the line's finite values. */
  envelope(data: Float32Array, start: number, stride: number, n: number, spacing: number): void {
    const f = this.f, v = this.v, z = this.z
    let k = -1
    const w = spacing * spacing
    for (let q = 0, p = start; q < n; q++, p += stride) {
      const fq = data[p]
      f[q] = fq
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
    this.empty = k < 0
    this.w = w
    this.k = 0
  }

  /**
   * The envelope's value at position q: Infinity for a line without finite value. Successive calls
   * must come with non-decreasing q (the segment pointer only moves forward).
   */
  valueAt(q: number): number {
    if (this.empty) return Infinity
    const z = this.z
    let k = this.k
    while (z[k + 1] < q) k++
    this.k = k
    const r = this.v[k], d = q - r
    return this.w * d * d + this.f[r]
  }
}

/** Abscissa (index units) where the parabolas rooted at q and r meet. */
function intersection(f: Float64Array, w: number, q: number, r: number): number {
  return ((f[q] + w * q * q) - (f[r] + w * r * r)) / (2 * w * (q - r))
}
