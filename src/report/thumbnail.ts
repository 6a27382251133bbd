import { PNG } from 'pngjs'
import type { SliceSnapshot } from '../eval/snapshot.js'

const TARGET_PX = 200
const TRUTH = [40, 210, 70], PREDICTION = [240, 60, 60], BOTH = [250, 220, 40]

/**
 * An axial thumbnail as a PNG: the image (CT soft-tissue window, level 40 / width 400 HU, when given)
 * or a dark background, with the ground-truth contour in green, the prediction's in red, yellow where
 * they coincide. Upscaled by nearest neighbour with square millimetres, so shapes are not distorted.
 */
export function thumbnailPng(s: SliceSnapshot): Buffer {
  const mm = Math.min(s.pixelMm[0], s.pixelMm[1])
  const zoom = TARGET_PX / Math.max(s.width * s.pixelMm[0], s.height * s.pixelMm[1]) * mm
  const fx = Math.max(1, zoom * s.pixelMm[0] / mm), fy = Math.max(1, zoom * s.pixelMm[1] / mm)
  const width = Math.round(s.width * fx), height = Math.round(s.height * fy)
  const source = (x: number, y: number) => Math.min(s.width - 1, Math.floor(x / fx)) + s.width * Math.min(s.height - 1, Math.floor(y / fy))
  const png = new PNG({ width, height })
  const inside = (mask: Uint8Array, x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && mask[source(x, y)] === 1
  const onContour = (mask: Uint8Array, x: number, y: number) =>
    inside(mask, x, y) && (!inside(mask, x - 1, y) || !inside(mask, x + 1, y) || !inside(mask, x, y - 1) || !inside(mask, x, y + 1))
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const n = source(x, y)
      const grey = s.image ? Math.round(255 * Math.min(1, Math.max(0, (s.image[n] - (40 - 200)) / 400))) : 40
      const t = onContour(s.gt, x, y), p = onContour(s.pred, x, y)
      const rgb = t && p ? BOTH : t ? TRUTH : p ? PREDICTION : [grey, grey, grey]
      const o = 4 * (x + width * y)
      png.data[o] = rgb[0]; png.data[o + 1] = rgb[1]; png.data[o + 2] = rgb[2]; png.data[o + 3] = 255
    }
  }
  return PNG.sync.write(png)
}

export function pngDataUri(png: Buffer): string {
  return `data:image/png;base64,${png.toString('base64')}`
}
