import type { Volume } from '../volume/volume.js'
import { labelMask } from './label-metrics.js'

/** One axial slice around the disagreement of a case, cropped, for a thumbnail. */
export interface SliceSnapshot {
  slice: number
  width: number
  height: number
  /** Pixel size in mm along width and height (voxel spacing x, y). */
  pixelMm: [number, number]
  pred: Uint8Array
  gt: Uint8Array
  /** Image intensities of the same pixels, or null without an image. */
  image: Float32Array | null
}

const MARGIN = 10

/**
 * The axial slice (voxel axis z) where prediction and ground truth disagree on most voxels (over the
 * evaluated labels together), or with the most ground truth when they agree everywhere, cropped to
 * both masks plus a margin. Null when both are empty.
 */
export function snapshotWorstSlice(pred: Volume, gt: Volume, labels: number[], image: Volume | null): SliceSnapshot | null {
  const [nx, ny, nz] = gt.shape
  const predMask = labelMask(pred.data, labels), gtMask = labelMask(gt.data, labels)
  let best = -1, bestScore = 0
  for (let k = 0; k < nz; k++) {
    let disagree = 0, truth = 0
    for (let n = k * nx * ny; n < (k + 1) * nx * ny; n++) {
      const p = predMask[n], g = gtMask[n]
      if (p !== g) disagree++
      if (g) truth++
    }
    const score = disagree * 1e9 + truth
    if (score > bestScore) { best = k; bestScore = score }
  }
  if (best < 0) return null
  let x0 = nx, y0 = ny, x1 = -1, y1 = -1
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const n = i + nx * (j + ny * best)
      if (!predMask[n] && !gtMask[n]) continue
      x0 = Math.min(x0, i); x1 = Math.max(x1, i); y0 = Math.min(y0, j); y1 = Math.max(y1, j)
    }
  }
  x0 = Math.max(0, x0 - MARGIN); y0 = Math.max(0, y0 - MARGIN)
  x1 = Math.min(nx - 1, x1 + MARGIN); y1 = Math.min(ny - 1, y1 + MARGIN)
  const width = x1 - x0 + 1, height = y1 - y0 + 1
  const snap: SliceSnapshot = {
    slice: best, width, height, pixelMm: [gt.spacing[0], gt.spacing[1]],
    pred: new Uint8Array(width * height), gt: new Uint8Array(width * height), image: image ? new Float32Array(width * height) : null,
  }
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const n = x0 + i + nx * (y0 + j + ny * best)
      snap.pred[i + width * j] = predMask[n]
      snap.gt[i + width * j] = gtMask[n]
      if (snap.image && image) snap.image[i + width * j] = image.data[n]
    }
  }
  return snap
}
