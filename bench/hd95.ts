/**
 * HD95 on a 512×512×300 pair (0.8 × 0.8 × 2 mm): two large, shifted and dented ellipsoids whose
 * bounding box covers most of the grid, so the distance transforms run over ~40 M voxels each.
 * Prints the wall and CPU time of the whole surface-distance computation (surfaces, two exact EDTs
 * restricted to the masks' box and the query columns, sorting) and, for comparison in the same run,
 * the time of the plain approach: two exact transforms of the whole grid.
 * Run: npx tsc -p tsconfig.json && node dist/bench/hd95.js
 */
import { averageSymmetricSurfaceDistance, hausdorffDistance, hausdorffDistance95, surfaceDistances } from '../src/eval/surface-distance.js'
import { squaredDistanceTransform } from '../src/eval/edt.js'
import { surfaceVoxels } from '../src/eval/surface.js'
import type { Vec3 } from '../src/volume/volume.js'

const shape: Vec3 = [512, 512, 300]
const spacing: Vec3 = [0.8, 0.8, 2]

function ellipsoid(centre: Vec3, radii: Vec3, dent: number): Uint8Array {
  const [nx, ny, nz] = shape
  const mask = new Uint8Array(nx * ny * nz)
  let n = 0
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        const x = (i - centre[0]) / radii[0], y = (j - centre[1]) / radii[1], z = (k - centre[2]) / radii[2]
        const r = x * x + y * y + z * z
        mask[n] = r <= 1 - dent * Math.max(0, x) * Math.max(0, z) ? 1 : 0
      }
    }
  }
  return mask
}

const gt = ellipsoid([256, 256, 150], [200, 180, 120], 0)
const pred = ellipsoid([262, 250, 146], [195, 185, 118], 0.6)
const t1 = performance.now(), c1 = process.cpuUsage()
const d = surfaceDistances(pred, gt, shape, spacing)
const hd95 = hausdorffDistance95(d)
const ms = performance.now() - t1, used = process.cpuUsage(c1), cpuMs = (used.user + used.system) / 1000
console.log(`grid ${shape.join('x')} at ${spacing.join('x')} mm, surfaces ${d.predSurfaceVoxels} + ${d.gtSurfaceVoxels} voxels`)
console.log(`HD95 ${hd95?.toFixed(3)} mm (HD ${hausdorffDistance(d)?.toFixed(3)}, ASSD ${averageSymmetricSurfaceDistance(d)?.toFixed(3)}) in ${(ms / 1000).toFixed(2)} s wall, ${(cpuMs / 1000).toFixed(2)} s CPU, one thread`)

// comparison: the two whole-grid transforms a direct implementation would run
const t2 = performance.now()
for (const mask of [gt, pred]) squaredDistanceTransform(surfaceMask(mask), shape, spacing)
console.log(`comparison: two exact EDTs over the whole grid (no box, no query restriction; surface extraction included) took ${((performance.now() - t2) / 1000).toFixed(2)} s`)

function surfaceMask(mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(mask.length)
  for (const n of surfaceVoxels(mask, shape)) out[n] = 1
  return out
}
