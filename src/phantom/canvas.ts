/**
 * The voxel canvas a phantom is painted on: one float image per modality plus a tissue-class map,
 * on an axis-aligned LPS grid. Shapes are painted in order with anti-aliased edges: the coverage of
 * a voxel is estimated from its signed distance to the surface over the voxel's width along the
 * surface normal, which gives partial volume at edges (thick slices blur edges more along z).
 */
import { Grid, Vec3, IDENTITY_AXES } from '../volume/volume.js'
import { Tissue, TissueClass } from './tissues.js'

export interface Ellipsoid {
  kind: 'ellipsoid'
  centre: Vec3
  radii: Vec3
  /** Unit vectors of the ellipsoid's own axes in LPS (radii[d] runs along axes[d]); identity if absent. */
  axes?: [Vec3, Vec3, Vec3]
}

/** A tube segment with rounded ends; the radius changes linearly from a to b. */
export interface Capsule {
  kind: 'capsule'
  a: Vec3
  b: Vec3
  ra: number
  rb: number
}

/** One axial cross-section of a profile: an ellipse with different anterior and posterior half-depths. */
export interface Section {
  z: number
  cx: number
  cy: number
  rx: number
  ryAnt: number
  ryPost: number
}

/** An elliptic cylinder whose section changes along z (body outline, cavities), linear between sections. */
export interface Profile {
  kind: 'profile'
  sections: Section[]
}

export type Shape = Ellipsoid | Capsule | Profile

export class Canvas {
  readonly grid: Grid
  readonly ct: Float32Array
  readonly pet: Float32Array | null
  readonly mr: Float32Array | null
  readonly tissue: Uint8Array

  constructor(shape: Vec3, spacing: Vec3, origin: Vec3, channels: { pet: boolean; mr: boolean }) {
    this.grid = { shape, spacing, origin, axes: IDENTITY_AXES }
    const n = shape[0] * shape[1] * shape[2]
    this.ct = new Float32Array(n).fill(-1000)
    this.pet = channels.pet ? new Float32Array(n) : null
    this.mr = channels.mr ? new Float32Array(n) : null
    this.tissue = new Uint8Array(n)
  }

  paint(shape: Shape, tissue: Tissue): void {
    if (shape.kind === 'ellipsoid') this.paintEllipsoid(shape, tissue)
    else if (shape.kind === 'capsule') this.paintCapsule(shape, tissue)
    else this.paintProfile(shape, tissue)
  }

  /** Paints a polyline tube (one capsule per segment). */
  paintTube(points: Vec3[], radii: number[], tissue: Tissue): void {
    for (let s = 0; s + 1 < points.length; s++) {
      this.paintCapsule({ kind: 'capsule', a: points[s], b: points[s + 1], ra: radii[s], rb: radii[s + 1] }, tissue)
    }
  }

  /** Mixes a tissue into voxel n with coverage a (0..1). */
  blend(n: number, a: number, t: Tissue): void {
    if (a <= 0) return
    if (a > 1) a = 1
    this.ct[n] += (t.ct - this.ct[n]) * a
    if (this.pet) this.pet[n] += (t.pet - this.pet[n]) * a
    if (this.mr) this.mr[n] += (t.mr - this.mr[n]) * a
    if (a >= 0.5) this.tissue[n] = t.cls
  }

  /** Inclusive index range along axis d covering world coordinates [lo, hi], or null if outside. */
  indexRange(d: number, lo: number, hi: number): [number, number] | null {
    const h = this.grid.spacing[d], o = this.grid.origin[d], n = this.grid.shape[d]
    const a = Math.max(0, Math.floor((lo - o) / h)), b = Math.min(n - 1, Math.ceil((hi - o) / h))
    return a > b ? null : [a, b]
  }

  private paintEllipsoid(e: Ellipsoid, t: Tissue): void {
    const [hx, hy, hz] = this.grid.spacing
    const [ox, oy, oz] = this.grid.origin
    const [nx, ny] = this.grid.shape
    const [u, v, w] = e.axes ?? IDENTITY_AXES
    const [r0, r1, r2] = e.radii
    const [cx, cy, cz] = e.centre
    const margin = Math.max(hx, hy, hz)
    const ext = [0, 1, 2].map((d) => Math.hypot(u[d] * r0, v[d] * r1, w[d] * r2) + margin)
    const ri = this.indexRange(0, cx - ext[0], cx + ext[0])
    const rj = this.indexRange(1, cy - ext[1], cy + ext[1])
    const rk = this.indexRange(2, cz - ext[2], cz + ext[2])
    if (!ri || !rj || !rk) return
    for (let k = rk[0]; k <= rk[1]; k++) {
      const pz = oz + k * hz - cz
      for (let j = rj[0]; j <= rj[1]; j++) {
        const py = oy + j * hy - cy
        let n = ri[0] + nx * (j + ny * k)
        for (let i = ri[0]; i <= ri[1]; i++, n++) {
          const px = ox + i * hx - cx
          const s0 = (px * u[0] + py * u[1] + pz * u[2]) / r0
          const s1 = (px * v[0] + py * v[1] + pz * v[2]) / r1
          const s2 = (px * w[0] + py * w[1] + pz * w[2]) / r2
          const g = Math.sqrt(s0 * s0 + s1 * s1 + s2 * s2)
          if (g < 1e-9) { this.blend(n, 1, t); continue }
          // gradient of g in world coordinates (times g, which cancels below)
          const l0 = s0 / r0, l1 = s1 / r1, l2 = s2 / r2
          const gx = l0 * u[0] + l1 * v[0] + l2 * w[0]
          const gy = l0 * u[1] + l1 * v[1] + l2 * w[1]
          const gz = l0 * u[2] + l1 * v[2] + l2 * w[2]
          const width = (Math.abs(gx) * hx + Math.abs(gy) * hy + Math.abs(gz) * hz) / g
          this.blend(n, 0.5 - (g - 1) / width, t)
        }
      }
    }
  }

  private paintCapsule(c: Capsule, t: Tissue): void {
    const [hx, hy, hz] = this.grid.spacing
    const [ox, oy, oz] = this.grid.origin
    const [nx, ny] = this.grid.shape
    const r = Math.max(c.ra, c.rb) + Math.max(hx, hy, hz)
    const ri = this.indexRange(0, Math.min(c.a[0], c.b[0]) - r, Math.max(c.a[0], c.b[0]) + r)
    const rj = this.indexRange(1, Math.min(c.a[1], c.b[1]) - r, Math.max(c.a[1], c.b[1]) + r)
    const rk = this.indexRange(2, Math.min(c.a[2], c.b[2]) - r, Math.max(c.a[2], c.b[2]) + r)
    if (!ri || !rj || !rk) return
    const abx = c.b[0] - c.a[0], aby = c.b[1] - c.a[1], abz = c.b[2] - c.a[2]
    const len2 = abx * abx + aby * aby + abz * abz || 1e-12
    for (let k = rk[0]; k <= rk[1]; k++) {
      const pz = oz + k * hz - c.a[2]
      for (let j = rj[0]; j <= rj[1]; j++) {
        const py = oy + j * hy - c.a[1]
        let n = ri[0] + nx * (j + ny * k)
        for (let i = ri[0]; i <= ri[1]; i++, n++) {
          const px = ox + i * hx - c.a[0]
          let s = (px * abx + py * aby + pz * abz) / len2
          s = s < 0 ? 0 : s > 1 ? 1 : s
          const vx = px - s * abx, vy = py - s * aby, vz = pz - s * abz
          const dist = Math.sqrt(vx * vx + vy * vy + vz * vz)
          const radius = c.ra + s * (c.rb - c.ra)
          if (dist < 1e-9) { this.blend(n, 1, t); continue }
          const width = (Math.abs(vx) * hx + Math.abs(vy) * hy + Math.abs(vz) * hz) / dist
          this.blend(n, 0.5 - (dist - radius) / width, t)
        }
      }
    }
  }

  private paintProfile(p: Profile, t: Tissue): void {
    const [hx, hy, hz] = this.grid.spacing
    const [ox, oy, oz] = this.grid.origin
    const [nx, ny, nz] = this.grid.shape
    const secs = p.sections
    const zLo = secs[0].z, zHi = secs[secs.length - 1].z
    for (let k = 0; k < nz; k++) {
      const z = oz + k * hz
      // coverage of the slice by the profile's z extent (partial volume at its ends)
      const zCover = Math.min(0.5 + (z - zLo) / hz, 0.5 + (zHi - z) / hz, 1)
      if (zCover <= 0) continue
      const s = sectionAt(secs, z)
      // how fast the section grows along z, so sloping surfaces (shoulders) get partial volume too
      const below = sectionAt(secs, z - hz / 2), above = sectionAt(secs, z + hz / 2)
      const slope = Math.max(Math.abs(above.rx - below.rx) / s.rx, Math.abs(above.ryAnt - below.ryAnt) / s.ryAnt, Math.abs(above.ryPost - below.ryPost) / s.ryPost)
      const ri = this.indexRange(0, s.cx - s.rx - hx, s.cx + s.rx + hx)
      const rj = this.indexRange(1, s.cy - s.ryAnt - hy, s.cy + s.ryPost + hy)
      if (!ri || !rj) continue
      for (let j = rj[0]; j <= rj[1]; j++) {
        const dy = oy + j * hy - s.cy
        const ry = dy < 0 ? s.ryAnt : s.ryPost
        const sy = dy / ry
        let n = ri[0] + nx * (j + ny * k)
        for (let i = ri[0]; i <= ri[1]; i++, n++) {
          const sx = (ox + i * hx - s.cx) / s.rx
          const g = Math.sqrt(sx * sx + sy * sy)
          if (g < 1e-9) { this.blend(n, zCover, t); continue }
          const width = (Math.abs(sx / s.rx) * hx + Math.abs(sy / ry) * hy) / g + g * slope
          const a = 0.5 - (g - 1) / width
          this.blend(n, a < zCover ? a : zCover, t)
        }
      }
    }
  }
}

/** The profile's section at height z (linear between the given sections, clamped at the ends). */
export function sectionAt(secs: Section[], z: number): Section {
  if (z <= secs[0].z) return secs[0]
  for (let s = 1; s < secs.length; s++) {
    if (z <= secs[s].z) {
      const a = secs[s - 1], b = secs[s], f = (z - a.z) / (b.z - a.z)
      const mix = (x: number, y: number) => x + (y - x) * f
      return { z, cx: mix(a.cx, b.cx), cy: mix(a.cy, b.cy), rx: mix(a.rx, b.rx), ryAnt: mix(a.ryAnt, b.ryAnt), ryPost: mix(a.ryPost, b.ryPost) }
    }
  }
  return secs[secs.length - 1]
}

/** Shrinks (or grows, with negative inset) every section of a profile by `inset` mm. */
export function insetProfile(secs: Section[], inset: number): Section[] {
  return secs.map((s) => ({
    ...s,
    rx: Math.max(1, s.rx - inset),
    ryAnt: Math.max(1, s.ryAnt - inset),
    ryPost: Math.max(1, s.ryPost - inset),
  }))
}
