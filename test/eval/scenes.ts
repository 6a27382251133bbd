/** Synthetic label maps for the evaluation tests: boxes and balls on small grids. */
import { Vec3, Volume } from '../../src/volume/volume.js'

export function emptyVolume(shape: Vec3, spacing: Vec3 = [1, 1, 1], origin: Vec3 = [0, 0, 0]): Volume {
  return new Volume(new Uint8Array(shape[0] * shape[1] * shape[2]), shape, spacing, origin)
}

/** Sets voxels lo..hi (inclusive) to `value`. */
export function paintBox(v: Volume, lo: Vec3, hi: Vec3, value = 1): Volume {
  for (let k = lo[2]; k <= hi[2]; k++) for (let j = lo[1]; j <= hi[1]; j++) for (let i = lo[0]; i <= hi[0]; i++) v.data[v.offset(i, j, k)] = value
  return v
}

/** Sets voxels whose centre lies within radiusMm of centre (voxel index) to `value`. */
export function paintBall(v: Volume, centre: Vec3, radiusMm: number, value = 1): Volume {
  const [nx, ny, nz] = v.shape
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const d2 = ((i - centre[0]) * v.spacing[0]) ** 2 + ((j - centre[1]) * v.spacing[1]) ** 2 + ((k - centre[2]) * v.spacing[2]) ** 2
    if (d2 <= radiusMm * radiusMm) v.data[v.offset(i, j, k)] = value
  }
  return v
}

export function binary(v: Volume, label = 1): Uint8Array {
  return Uint8Array.from(v.data, (x) => (x === label ? 1 : 0))
}

/** A small deterministic generator so random scenes are the same on every run. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}
