/**
 * Filling planar contours on a voxel grid, the way planning systems read an RT Structure Set: all
 * contours of one ROI on one slice together, with the even-odd rule (a loop inside another is a hole,
 * a loop inside a hole an island). A voxel is inside when its centre is.
 */
import type { Loop } from './trace.js'

/**
 * Toggles the voxels of slice `k` (row length nx, ny rows) whose centres lie inside `loop`. Applying it
 * to every loop of a slice gives the even-odd fill of all of them.
 */
export function toggleInside(out: Uint8Array, nx: number, ny: number, k: number, loop: Loop): void {
  const base = k * nx * ny
  const n = loop.length
  let jMin = Infinity, jMax = -Infinity
  for (const [, y] of loop) { jMin = Math.min(jMin, y); jMax = Math.max(jMax, y) }
  const crossings: number[] = []
  for (let j = Math.max(0, Math.ceil(jMin)); j <= Math.min(ny - 1, Math.floor(jMax)); j++) {
    crossings.length = 0
    for (let m = 0; m < n; m++) {
      const [x0, y0] = loop[m], [x1, y1] = loop[(m + 1) % n]
      // half-open in y, so a vertex exactly on the row is counted once and horizontal edges never
      if ((y0 <= j && j < y1) || (y1 <= j && j < y0)) crossings.push(x0 + ((j - y0) * (x1 - x0)) / (y1 - y0))
    }
    crossings.sort((a, b) => a - b)
    for (let c = 0; c + 1 < crossings.length; c += 2) {
      const from = Math.max(0, Math.ceil(crossings[c]))
      const to = Math.min(nx - 1, Math.ceil(crossings[c + 1]) - 1)
      const row = base + nx * j
      for (let i = from; i <= to; i++) out[row + i] ^= 1
    }
  }
}
