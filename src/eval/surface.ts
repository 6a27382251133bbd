import { boundingBoxWhere } from '../volume/crop.js'
import type { Vec3 } from '../volume/volume.js'

/**
 * Surface (boundary) voxels of a binary mask: mask voxels with at least one of their 6 face
 * neighbours outside the mask. Voxels on the edge of the grid count as surface (outside the grid is
 * outside the mask), as scipy's binary_erosion with border_value=0 does in MONAI's get_mask_edges.
 * Returns the flat indices in scan order. An empty mask has an empty surface.
 */
export function surfaceVoxels(mask: ArrayLike<number>, shape: Vec3): Int32Array {
  const [nx, ny, nz] = shape
  const sxy = nx * ny
  const out: number[] = []
  let n = 0
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        if (!mask[n]) continue
        if (i === 0 || j === 0 || k === 0 || i === nx - 1 || j === ny - 1 || k === nz - 1 ||
          !mask[n - 1] || !mask[n + 1] || !mask[n - nx] || !mask[n + nx] || !mask[n - sxy] || !mask[n + sxy]) {
          out.push(n)
        }
      }
    }
  }
  return Int32Array.from(out)
}

/** Inclusive voxel-index box [min, max] of the voxels non-zero in either mask, or null. */
export function unionBox(a: ArrayLike<number>, b: ArrayLike<number>, shape: Vec3): [Vec3, Vec3] | null {
  return boundingBoxWhere(shape, (n) => a[n] !== 0 || b[n] !== 0)
}

/** Copies the box [lo, hi] (inclusive) of a mask into a new 0/1 array of the box's shape. */
export function cropMask(mask: ArrayLike<number>, shape: Vec3, lo: Vec3, hi: Vec3): Uint8Array {
  const [nx, ny] = shape
  const bx = hi[0] - lo[0] + 1, by = hi[1] - lo[1] + 1, bz = hi[2] - lo[2] + 1
  const out = new Uint8Array(bx * by * bz)
  let m = 0
  for (let k = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      let n = lo[0] + nx * (lo[1] + j + ny * (lo[2] + k))
      for (let i = 0; i < bx; i++, n++, m++) out[m] = mask[n] ? 1 : 0
    }
  }
  return out
}
