/**
 * Size of a node as radiologists report it (RECIST 1.1 for lymph nodes): on the axial slice where
 * the node's cross-section is largest, the long axis is its greatest diameter and the short axis its
 * greatest width perpendicular to that. Both are measured on the union of the voxels' squares (the
 * caliper widths of the pixelated cross-section), so a digitised disc of diameter D measures D to
 * within one voxel, without the one-voxel shrink of centre-to-centre distances.
 *
 * "Axial" is the voxel axis closest to the patient's superior direction; the other two axes span the
 * slice (scaled by their spacing; oblique in-plane axes are handled since the hull is built in mm).
 */
import { boundingBox } from './crop.js'
import { Vec3, Volume, indexToWorld } from './volume.js'

export interface NodeMeasurement {
  voxels: number
  volume_ml: number
  /** LPS centroid of the node's voxels, mm. */
  centre_mm: Vec3
  short_axis_mm: number
  long_axis_mm: number
  /** Index along the slice axis of the slice measured. */
  axial_slice: number
  /** Inclusive voxel index bounds [min, max]. */
  bbox: [Vec3, Vec3]
}

export function measureAllNodes(instances: Volume): Map<number, NodeMeasurement> {
  const ids = new Set<number>()
  for (let n = 0; n < instances.data.length; n++) if (instances.data[n] !== 0) ids.add(instances.data[n])
  const out = new Map<number, NodeMeasurement>()
  for (const id of [...ids].sort((a, b) => a - b)) out.set(id, measureNode(instances, id)!)
  return out
}

export function measureNode(instances: Volume, id: number): NodeMeasurement | null {
  const box = boundingBox(instances, (v) => v === id)
  if (!box) return null
  const sliceAxis = superiorAxis(instances)
  const [u, v] = [0, 1, 2].filter((d) => d !== sliceAxis)
  const [nx, ny] = instances.shape
  const stride = [1, nx, nx * ny]
  let voxels = 0
  const centreIdx: Vec3 = [0, 0, 0]
  const points = new Map<number, number[]>() // slice index -> in-plane voxel (iu, iv) pairs
  for (let k = box[0][2]; k <= box[1][2]; k++) {
    for (let j = box[0][1]; j <= box[1][1]; j++) {
      for (let i = box[0][0]; i <= box[1][0]; i++) {
        if (instances.data[i + stride[1] * j + stride[2] * k] !== id) continue
        voxels++
        centreIdx[0] += i; centreIdx[1] += j; centreIdx[2] += k
        const ijk = [i, j, k]
        const s = ijk[sliceAxis]
        if (!points.has(s)) points.set(s, [])
        points.get(s)!.push(ijk[u], ijk[v])
      }
    }
  }
  let best = { long: 0, short: 0, slice: box[0][sliceAxis] }
  for (const [slice, pts] of points) {
    const m = crossSectionAxes(pts, instances, u, v)
    if (m.long > best.long || (m.long === best.long && m.short > best.short)) best = { ...m, slice }
  }
  return {
    voxels,
    volume_ml: (voxels * instances.voxelVolumeMm3) / 1000,
    centre_mm: indexToWorld(instances, centreIdx.map((c) => c / voxels) as Vec3),
    short_axis_mm: best.short,
    long_axis_mm: best.long,
    axial_slice: best.slice,
    bbox: box,
  }
}

/** The voxel axis whose direction is closest to the patient's S axis. */
export function superiorAxis(vol: Volume): number {
  let best = 0
  for (let d = 1; d < 3; d++) if (Math.abs(vol.axes[d][2]) > Math.abs(vol.axes[best][2])) best = d
  return best
}

/**
 * Long and short axis (mm) of one slice's voxel set. Voxel centres are put in mm in the slice plane;
 * the long axis is the diameter of their convex hull and the short axis the hull's width
 * perpendicular to it. Each is then lengthened by the voxel's own size along that direction
 * (sqrt((u·du)² + (v·dv)²) for spacings du, dv), since a centre-to-centre distance misses half a
 * voxel at each end: a line of n voxels measures n·spacing, and a digitised disc its diameter.
 */
function crossSectionAxes(pairs: number[], vol: Volume, u: number, v: number): { long: number; short: number } {
  // in-plane basis: the two voxel axes scaled by spacing, expressed in an orthonormal 2D frame
  const eu = vol.axes[u].map((c) => c * vol.spacing[u]) as Vec3
  const ev = vol.axes[v].map((c) => c * vol.spacing[v]) as Vec3
  const lenU = Math.hypot(...eu)
  const e1 = eu.map((c) => c / lenU)
  const evOnE1 = ev[0] * e1[0] + ev[1] * e1[1] + ev[2] * e1[2]
  const evPerp = Math.hypot(ev[0] - evOnE1 * e1[0], ev[1] - evOnE1 * e1[1], ev[2] - evOnE1 * e1[2])
  const centres: [number, number][] = []
  for (let p = 0; p < pairs.length; p += 2) centres.push([pairs[p] * lenU + pairs[p + 1] * evOnE1, pairs[p + 1] * evPerp])
  const hull = convexHull(centres)
  let long = 0, dir: [number, number] = [1, 0]
  for (let a = 0; a < hull.length; a++) {
    for (let b = a + 1; b < hull.length; b++) {
      const d = Math.hypot(hull[a][0] - hull[b][0], hull[a][1] - hull[b][1])
      if (d > long) {
        long = d
        dir = [(hull[b][0] - hull[a][0]) / d, (hull[b][1] - hull[a][1]) / d]
      }
    }
  }
  const perp: [number, number] = [-dir[1], dir[0]]
  let lo = Infinity, hi = -Infinity
  for (const [x, y] of hull) {
    const w = perp[0] * x + perp[1] * y
    if (w < lo) lo = w
    if (w > hi) hi = w
  }
  // the voxel's size along unit direction d (in-plane voxel axes are orthogonal in practice)
  const lenV = Math.hypot(...ev)
  const voxelExtent = (d: [number, number]) => Math.hypot(d[0] * lenU, d[1] * lenV)
  return { long: long + voxelExtent(dir), short: hi - lo + voxelExtent(perp) }
}

/** Andrew's monotone chain; returns hull vertices counter-clockwise, without repeating the first. */
export function convexHull(points: [number, number][]): [number, number][] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1])
  if (pts.length < 3) return pts
  const crossZ = (o: number[], a: number[], b: number[]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
  const lower: [number, number][] = [], upper: [number, number][] = []
  for (const p of pts) {
    while (lower.length >= 2 && crossZ(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop()
    lower.push(p)
  }
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]
    while (upper.length >= 2 && crossZ(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop()
    upper.push(p)
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1))
}
