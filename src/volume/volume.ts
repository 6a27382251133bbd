/**
 * The one in-memory image type of nodal.
 *
 * Voxel data lives in a flat typed array with x fastest (index = x + nx*(y + ny*z)).
 * Geometry is in DICOM patient coordinates (LPS, millimetres):
 *   world(i,j,k) = origin + i*spacing[0]*axes[0] + j*spacing[1]*axes[1] + k*spacing[2]*axes[2]
 * where `origin` is the centre of voxel (0,0,0) and `axes[d]` is the LPS unit vector along voxel index d.
 * NIfTI's RAS convention is converted at the I/O boundary only (src/io).
 */

export type Vec3 = [number, number, number]
export type Axes = [Vec3, Vec3, Vec3]

export type VoxelArray =
  | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | Float32Array | Float64Array

export type DType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64'

export const ARRAY_OF_DTYPE = {
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
} as const

export function dtypeOf(data: VoxelArray): DType {
  for (const [name, ctor] of Object.entries(ARRAY_OF_DTYPE)) {
    if (data instanceof ctor) return name as DType
  }
  throw new Error(`unsupported voxel array ${(data as object).constructor.name}`)
}

export function allocate(dtype: DType, length: number): VoxelArray {
  return new ARRAY_OF_DTYPE[dtype](length)
}

/** Free-form facts carried with a volume (modality, series UID, SUV factor, ...). */
export interface VolumeMeta {
  modality?: string
  [key: string]: unknown
}

/** The geometry of a voxel grid, without data. */
export interface Grid {
  shape: Vec3
  spacing: Vec3
  origin: Vec3
  axes: Axes
}

export const IDENTITY_AXES: Axes = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]

export class Volume implements Grid {
  constructor(
    public data: VoxelArray,
    public shape: Vec3,
    public spacing: Vec3 = [1, 1, 1],
    public origin: Vec3 = [0, 0, 0],
    public axes: Axes = IDENTITY_AXES,
    public meta: VolumeMeta = {},
  ) {
    const n = shape[0] * shape[1] * shape[2]
    if (data.length !== n) throw new Error(`data length ${data.length} does not match shape ${shape.join('x')}`)
    if (spacing.some((s) => !(s > 0))) throw new Error(`spacing must be positive, got ${spacing.join(',')}`)
  }

  /** A zero-filled volume on a grid. */
  static zeros(grid: Grid, dtype: DType = 'float32', meta: VolumeMeta = {}): Volume {
    const n = grid.shape[0] * grid.shape[1] * grid.shape[2]
    return new Volume(allocate(dtype, n), [...grid.shape], [...grid.spacing], [...grid.origin], copyAxes(grid.axes), { ...meta })
  }

  get dtype(): DType { return dtypeOf(this.data) }
  get voxelCount(): number { return this.data.length }
  get grid(): Grid { return { shape: this.shape, spacing: this.spacing, origin: this.origin, axes: this.axes } }
  /** Volume of one voxel in mm³ (|det| of the scaled axes; axes are orthonormal in practice). */
  get voxelVolumeMm3(): number { return Math.abs(det3(scaledAxes(this))) }

  offset(i: number, j: number, k: number): number {
    return i + this.shape[0] * (j + this.shape[1] * k)
  }

  at(i: number, j: number, k: number): number { return this.data[this.offset(i, j, k)] }

  /** A volume with the same geometry and other data. */
  withData(data: VoxelArray, meta: VolumeMeta = this.meta): Volume {
    return new Volume(data, [...this.shape], [...this.spacing], [...this.origin], copyAxes(this.axes), { ...meta })
  }

  clone(): Volume { return this.withData(this.data.slice()) }

  indexToWorld(i: number, j: number, k: number): Vec3 { return indexToWorld(this, [i, j, k]) }
  worldToIndex(p: Vec3): Vec3 { return worldToIndex(this, p) }
}

export function copyAxes(a: Axes): Axes {
  return [[...a[0]], [...a[1]], [...a[2]]]
}

/** Columns of the index->world matrix: axes[d] * spacing[d]. */
export function scaledAxes(g: Grid): Axes {
  return [0, 1, 2].map((d) => g.axes[d].map((v) => v * g.spacing[d])) as Axes
}

export function indexToWorld(g: Grid, ijk: Vec3): Vec3 {
  const out: Vec3 = [g.origin[0], g.origin[1], g.origin[2]]
  for (let d = 0; d < 3; d++) {
    const s = ijk[d] * g.spacing[d]
    for (let r = 0; r < 3; r++) out[r] += s * g.axes[d][r]
  }
  return out
}

/** Continuous voxel index of a world point (works for non-orthogonal axes too). */
export function worldToIndex(g: Grid, p: Vec3): Vec3 {
  const inv = invert3(scaledAxes(g))
  const d: Vec3 = [p[0] - g.origin[0], p[1] - g.origin[1], p[2] - g.origin[2]]
  return mulMatVec(inv, d)
}

/**
 * 4x4 index->world affine in LPS, row-major: world = A · [i,j,k,1].
 * Column d of the upper 3x3 is axes[d]*spacing[d].
 */
export function affineLPS(g: Grid): number[][] {
  const m = scaledAxes(g)
  return [
    [m[0][0], m[1][0], m[2][0], g.origin[0]],
    [m[0][1], m[1][1], m[2][1], g.origin[1]],
    [m[0][2], m[1][2], m[2][2], g.origin[2]],
    [0, 0, 0, 1],
  ]
}

/** Inverse of affineLPS: spacing, axes and origin from a 4x4 (or its upper 3x4). */
export function gridFromAffine(shape: Vec3, a: number[][]): Grid {
  const spacing = [0, 1, 2].map((d) => Math.hypot(a[0][d], a[1][d], a[2][d])) as Vec3
  const axes = [0, 1, 2].map((d) => [0, 1, 2].map((r) => a[r][d] / spacing[d])) as Axes
  return { shape, spacing, origin: [a[0][3], a[1][3], a[2][3]], axes }
}

// ---- small 3x3 helpers; matrices are given as three column vectors ----

export function det3(c: Axes): number {
  const [a, b, d] = c
  return a[0] * (b[1] * d[2] - b[2] * d[1]) - b[0] * (a[1] * d[2] - a[2] * d[1]) + d[0] * (a[1] * b[2] - a[2] * b[1])
}

/** Inverse of the matrix whose columns are c; returned as rows. */
export function invert3(c: Axes): Axes {
  const det = det3(c)
  if (Math.abs(det) < 1e-12) throw new Error('singular voxel axes')
  const [a, b, d] = c
  // rows of the inverse are the cross products of the other two columns over det
  const r0 = cross(b, d), r1 = cross(d, a), r2 = cross(a, b)
  return [r0.map((v) => v / det), r1.map((v) => v / det), r2.map((v) => v / det)] as Axes
}

export function mulMatVec(rows: Axes, v: Vec3): Vec3 {
  return rows.map((r) => r[0] * v[0] + r[1] * v[1] + r[2] * v[2]) as Vec3
}

export function dot(a: Vec3, b: Vec3): number { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2] }
export function cross(u: Vec3, v: Vec3): Vec3 {
  return [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]
}
export function normalize(v: Vec3): Vec3 {
  const n = Math.hypot(v[0], v[1], v[2])
  return [v[0] / n, v[1] / n, v[2] / n]
}

/** True when two grids describe the same voxels (within tol mm / tol in direction cosines). */
export function sameGrid(a: Grid, b: Grid, tol = 1e-4): boolean {
  if (a.shape.some((s, i) => s !== b.shape[i])) return false
  const close = (x: number, y: number) => Math.abs(x - y) <= tol * Math.max(1, Math.abs(x), Math.abs(y))
  return a.spacing.every((s, i) => close(s, b.spacing[i])) &&
    a.origin.every((o, i) => close(o, b.origin[i])) &&
    a.axes.every((ax, d) => ax.every((v, r) => Math.abs(v - b.axes[d][r]) <= tol))
}
