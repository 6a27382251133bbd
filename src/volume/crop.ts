import { allocate, Vec3, Volume, indexToWorld } from './volume.js'

/**
 * Crops and/or pads by voxel index: the result covers indices [start, start+shape) of `vol`,
 * where start may be negative and the end may pass the edge (padding with `fill`).
 * World geometry is kept: the new origin is the world position of index `start`.
 */
export function cropOrPad(vol: Volume, start: Vec3, shape: Vec3, fill = 0): Volume {
  const [nx, ny, nz] = vol.shape
  const [ox, oy, oz] = shape
  const out = allocate(vol.dtype, ox * oy * oz)
  if (fill !== 0) out.fill(fill)
  const x0 = Math.max(0, -start[0]), x1 = Math.min(ox, nx - start[0])
  for (let k = 0; k < oz; k++) {
    const sk = k + start[2]
    if (sk < 0 || sk >= nz) continue
    for (let j = 0; j < oy; j++) {
      const sj = j + start[1]
      if (sj < 0 || sj >= ny || x1 <= x0) continue
      const srcRow = nx * (sj + ny * sk) + start[0]
      const dstRow = ox * (j + oy * k)
      out.set(vol.data.subarray(srcRow + x0, srcRow + x1), dstRow + x0)
    }
  }
  const origin = indexToWorld(vol, start)
  return new Volume(out, [...shape], [...vol.spacing], origin, vol.axes.map((a) => [...a]) as Volume['axes'], { ...vol.meta })
}

/** Bounding box [min, max] (inclusive voxel indices) of voxels where `pred` holds, or null. */
export function boundingBox(vol: Volume, pred: (v: number) => boolean = (v) => v !== 0): [Vec3, Vec3] | null {
  const data = vol.data
  return boundingBoxWhere(vol.shape, (n) => pred(data[n]))
}

/** Grows the inclusive box [lo, hi] to hold voxel (i, j, k). */
export function extendBox(lo: Vec3, hi: Vec3, i: number, j: number, k: number): void {
  if (i < lo[0]) lo[0] = i
  if (i > hi[0]) hi[0] = i
  if (j < lo[1]) lo[1] = j
  if (j > hi[1]) hi[1] = j
  if (k < lo[2]) lo[2] = k
  if (k > hi[2]) hi[2] = k
}

/** Bounding box [min, max] (inclusive voxel indices) of the flat indices n where `inside(n)` holds, or null. */
export function boundingBoxWhere(shape: Vec3, inside: (n: number) => boolean): [Vec3, Vec3] | null {
  const [nx, ny, nz] = shape
  const lo: Vec3 = [nx, ny, nz], hi: Vec3 = [-1, -1, -1]
  let n = 0
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        if (inside(n)) extendBox(lo, hi, i, j, k)
      }
    }
  }
  return hi[0] < 0 ? null : [lo, hi]
}
