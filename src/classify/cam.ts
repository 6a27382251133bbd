/**
 * Class-activation maps as ONNX Runtime returns them (Σ_k w_ck F_k at the classifier's last feature
 * resolution) turned into what a reader looks at: ReLU, trilinear upsampling to the patch (half-pixel
 * centres, as libtorch's interpolate with align_corners=false), scaled to [0, 1]; then laid onto the scan's
 * grid by world coordinates as one overlay volume for all nodes (the maximum where patches overlap).
 */
import { resampleTo } from '../volume/resample.js'
import { type Grid, indexToWorld, type Vec3, Volume, worldToIndex } from '../volume/volume.js'

/** Upsamples one [d, h, w] map (x fastest) to size³, ReLU first, then scales it to [0, 1]. */
export function camOnPatch(raw: Float32Array, dims: [number, number, number], size: number): Float32Array {
  const [d, h, w] = dims
  const out = new Float32Array(size ** 3)
  const axis = (n: number) => Array.from({ length: size }, (_, o) => {
    const x = Math.min(Math.max((o + 0.5) * (n / size) - 0.5, 0), n - 1)
    const lo = Math.floor(x)
    return { lo, hi: Math.min(lo + 1, n - 1), t: x - lo }
  })
  const az = axis(d), ay = axis(h), ax = axis(w)
  const at = (z: number, y: number, x: number) => Math.max(0, raw[x + w * (y + h * z)]!)
  let n = 0, low = Infinity, high = -Infinity
  for (const z of az) {
    for (const y of ay) {
      for (const x of ax) {
        const c00 = at(z.lo, y.lo, x.lo) * (1 - x.t) + at(z.lo, y.lo, x.hi) * x.t
        const c01 = at(z.lo, y.hi, x.lo) * (1 - x.t) + at(z.lo, y.hi, x.hi) * x.t
        const c10 = at(z.hi, y.lo, x.lo) * (1 - x.t) + at(z.hi, y.lo, x.hi) * x.t
        const c11 = at(z.hi, y.hi, x.lo) * (1 - x.t) + at(z.hi, y.hi, x.hi) * x.t
        const v = (c00 * (1 - y.t) + c01 * y.t) * (1 - z.t) + (c10 * (1 - y.t) + c11 * y.t) * z.t
        out[n++] = v
        if (v < low) low = v
        if (v > high) high = v
      }
    }
  }
  const range = high - low
  for (let i = 0; i < out.length; i++) out[i] = range > 0 ? (out[i]! - low) / range : 0
  return out
}

/** Lays each patch's map onto `like`'s grid (only over the voxels the patch covers), keeping the maximum. */
export function camOverlay(like: Grid, patches: { map: Float32Array; grid: Grid }[]): Volume {
  const overlay = Volume.zeros(like, 'float32', { description: 'stage-2 class-activation map' })
  const [nx, ny] = like.shape
  for (const p of patches) {
    const box = indexBox(like, p.grid)
    if (!box) continue
    const [lo, hi] = box
    const shape: Vec3 = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1]
    const sub: Grid = { shape, spacing: like.spacing, origin: overlay.indexToWorld(lo[0], lo[1], lo[2]), axes: like.axes }
    const source = new Volume(p.map, [...p.grid.shape], [...p.grid.spacing], [...p.grid.origin], p.grid.axes)
    const values = resampleTo(source, sub, { interpolation: 'linear', fill: 0 }).data
    let n = 0
    for (let k = lo[2]; k <= hi[2]; k++) {
      for (let j = lo[1]; j <= hi[1]; j++) {
        for (let i = lo[0]; i <= hi[0]; i++, n++) {
          const v = i + nx * (j + ny * k)
          if (values[n]! > overlay.data[v]!) overlay.data[v] = values[n]!
        }
      }
    }
  }
  return overlay
}

/** Voxel index bounds of `like` that a patch grid's corners span, clipped to `like`; null when outside. */
function indexBox(like: Grid, patch: Grid): [Vec3, Vec3] | null {
  const corners: Vec3[] = []
  for (const a of [0, patch.shape[0] - 1]) {
    for (const b of [0, patch.shape[1] - 1]) {
      for (const c of [0, patch.shape[2] - 1]) {
        corners.push(worldToIndex(like, indexToWorld(patch, [a, b, c])))
      }
    }
  }
  const lo = [0, 1, 2].map((d) => Math.max(0, Math.floor(Math.min(...corners.map((c) => c[d]!))))) as Vec3
  const hi = [0, 1, 2].map((d) => Math.min(like.shape[d]! - 1, Math.ceil(Math.max(...corners.map((c) => c[d]!))))) as Vec3
  return lo.every((l, d) => l <= hi[d]!) ? [lo, hi] : null
}
