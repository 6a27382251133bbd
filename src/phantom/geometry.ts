/** Small vector helpers and curve builders for painting anatomy (all in LPS millimetres). */
import { Vec3 } from '../volume/volume.js'
import { Canvas } from './canvas.js'
import { Rng } from './random.js'
import { Tissue } from './tissues.js'

export const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
export const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
export const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s]
export const len = (a: Vec3): number => Math.hypot(a[0], a[1], a[2])
export const unit = (a: Vec3): Vec3 => scale(a, 1 / (len(a) || 1))
export const crossV = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
export const dotV = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2]

/** An orthonormal frame whose first axis is `dir`. */
export function frameAlong(dir: Vec3): [Vec3, Vec3, Vec3] {
  const d = unit(dir)
  const helper: Vec3 = Math.abs(d[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0]
  const p = unit(crossV(d, helper))
  return [d, p, crossV(d, p)]
}

/** A smooth curve through control points (Catmull-Rom), `perSegment` samples between each pair. */
export function smoothCurve(points: Vec3[], perSegment = 6): Vec3[] {
  if (points.length < 3) return points
  const out: Vec3[] = []
  for (let s = 0; s + 1 < points.length; s++) {
    const p0 = points[Math.max(0, s - 1)], p1 = points[s], p2 = points[s + 1], p3 = points[Math.min(points.length - 1, s + 2)]
    for (let q = 0; q < perSegment; q++) {
      const t = q / perSegment, t2 = t * t, t3 = t2 * t
      out.push([0, 1, 2].map((d) =>
        0.5 * (2 * p1[d] + (-p0[d] + p2[d]) * t + (2 * p0[d] - 5 * p1[d] + 4 * p2[d] - p3[d]) * t2 + (-p0[d] + 3 * p1[d] - 3 * p2[d] + p3[d]) * t3)) as Vec3)
    }
  }
  out.push(points[points.length - 1])
  return out
}

/** A vessel (or airway) along smooth control points, radius interpolated from r0 to r1. */
export function paintVessel(canvas: Canvas, control: Vec3[], r0: number, r1: number, tissue: Tissue): Vec3[] {
  const path = smoothCurve(control)
  const radii = path.map((_, i) => r0 + ((r1 - r0) * i) / Math.max(1, path.length - 1))
  canvas.paintTube(path, radii, tissue)
  return path
}

export interface Branch { path: Vec3[]; radius: number }

/**
 * A branching vessel tree grown from a root: each branch wanders a little, then splits in two
 * thinner children (Murray-like radius ratio) until the radius drops below `minRadius`.
 * `inside` keeps the tree within a region (a branch stops where it would leave it).
 */
export function growTree(rng: Rng, root: Vec3, dir: Vec3, radius: number, minRadius: number, segment: number,
  inside: (p: Vec3) => boolean): Branch[] {
  const branches: Branch[] = []
  const grow = (start: Vec3, heading: Vec3, r: number) => {
    if (r < minRadius || branches.length > 400) return
    const path: Vec3[] = [start]
    let p = start, h = unit(heading)
    const steps = 3 + rng.int(0, 2)
    for (let s = 0; s < steps; s++) {
      // wander a little; near the region's border, try a few other headings before stopping
      let q: Vec3 | null = null
      for (let attempt = 0; attempt < 4 && !q; attempt++) {
        const spread = 0.25 + 0.35 * attempt
        const next = unit(add(h, [rng.gauss(0, spread), rng.gauss(0, spread), rng.gauss(0, spread)]))
        const candidate = add(p, scale(next, (segment * r) / 3))
        if (inside(candidate)) { q = candidate; h = next }
      }
      if (!q) break
      path.push(q)
      p = q
    }
    if (path.length < 2) return
    branches.push({ path, radius: r })
    const [, a, b] = frameAlong(h)
    const spin = rng.uniform(0, Math.PI)
    const side = add(scale(a, Math.cos(spin)), scale(b, Math.sin(spin)))
    grow(p, add(h, scale(side, 0.7)), r * rng.uniform(0.7, 0.82))
    grow(p, sub(h, scale(side, 0.7)), r * rng.uniform(0.62, 0.78))
  }
  grow(root, dir, radius)
  return branches
}

export function paintBranches(canvas: Canvas, branches: Branch[], tissue: Tissue): void {
  for (const b of branches) canvas.paintTube(b.path, b.path.map(() => b.radius), tissue)
}

/**
 * A bowel loop: a random walk that turns smoothly and stays inside an ellipse region (it turns back
 * toward the centre near the border). Returns the centreline.
 */
export function bowelPath(rng: Rng, start: Vec3, steps: number, stepMm: number, centre: Vec3, radii: Vec3): Vec3[] {
  const pts: Vec3[] = [start]
  let h = unit([rng.gauss(0, 1), rng.gauss(0, 1), rng.gauss(0, 0.6)])
  let p = start
  for (let s = 0; s < steps; s++) {
    const rel = [0, 1, 2].map((d) => (p[d] - centre[d]) / radii[d]) as Vec3
    const out = len(rel)
    const pull: Vec3 = out > 0.75 ? scale(unit(rel), -(out - 0.6) * 2) : [0, 0, 0]
    h = unit(add(add(h, [rng.gauss(0, 0.45), rng.gauss(0, 0.45), rng.gauss(0, 0.3)]), pull))
    p = add(p, scale(h, stepMm))
    pts.push(p)
  }
  return smoothCurve(pts, 3)
}
