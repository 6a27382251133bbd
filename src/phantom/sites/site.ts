/** What every body site provides: its default field of view and a painter that returns node stations. */
import { Vec3 } from '../../volume/volume.js'
import { Canvas, Section, insetProfile } from '../canvas.js'
import { Rng } from '../random.js'
import { Palette, Tissue, TissueClass } from '../tissues.js'

export const SITES = ['neck', 'axilla', 'chest', 'abdomen', 'pelvis'] as const
export type SiteName = (typeof SITES)[number]

/** A lymph-node station: where nodes of this group sit, in LPS mm of the phantom's frame. */
export interface Station {
  /** Name as radiologists use it: cervical level, IASLC station, iliac group, ... */
  name: string
  anchor: Vec3
  /** Half-range (mm) of the random offset from the anchor along x, y, z. */
  spread: Vec3
}

export interface SiteContext {
  canvas: Canvas
  rng: Rng
  tissue: Palette
}

export interface SiteModel {
  name: SiteName
  /** Default field of view (mm) along x, y, z, centred on the phantom frame's origin. */
  fov: Vec3
  /** Paints the anatomy and returns the node stations. */
  paint(ctx: SiteContext): Station[]
}

/** A body outline that changes along z, with skin, subcutaneous fat and a muscle layer inside it. */
export function paintBodyWall(ctx: SiteContext, body: Section[], fatMm: number, muscleMm: number): Section[] {
  const { canvas, tissue } = ctx
  canvas.paint({ kind: 'profile', sections: body }, tissue.skin)
  canvas.paint({ kind: 'profile', sections: insetProfile(body, 2) }, tissue.fat)
  const muscle = insetProfile(body, 2 + fatMm)
  canvas.paint({ kind: 'profile', sections: muscle }, tissue.muscle)
  return insetProfile(body, 2 + fatMm + muscleMm)
}

/** The scanner table under the patient: a carbon-fibre shell (bright rim) around a foam core. */
export function paintTable(ctx: SiteContext, body: Section[]): void {
  const back = Math.max(...body.map((s) => s.cy + s.ryPost)) + 12
  const [z0, z1] = [body[0].z, body[body.length - 1].z]
  const slab = (rx: number, ry: number): Section[] => [z0, z1].map((z) => ({ z, cx: 0, cy: back, rx, ryAnt: ry, ryPost: ry }))
  const table = { ...ctx.tissue.soft, pet: 0, mr: 0, cls: TissueClass.Air }
  ctx.canvas.paint({ kind: 'profile', sections: slab(230, 7) }, { ...table, ct: 200 })
  ctx.canvas.paint({ kind: 'profile', sections: slab(222, 5) }, { ...table, ct: -850 })
}

/** A vertebra at height z: body (cortex and marrow), canal with CSF, spinous process and laminae. */
export function paintVertebra(ctx: SiteContext, x: number, y: number, z: number, r: number, height: number): void {
  const { canvas, tissue } = ctx
  const half = height / 2
  canvas.paint({ kind: 'ellipsoid', centre: [x, y, z], radii: [r, r * 0.85, half] }, tissue.cortex)
  canvas.paint({ kind: 'ellipsoid', centre: [x, y, z], radii: [r - 2, r * 0.85 - 2, half - 1] }, tissue.marrow)
  const canalY = y + r * 0.85 + r * 0.5
  canvas.paint({ kind: 'capsule', a: [x - r * 0.6, canalY + r * 0.2, z], b: [x - r * 0.25, canalY + r * 0.9, z], ra: r * 0.18, rb: r * 0.22 }, tissue.cortex)
  canvas.paint({ kind: 'capsule', a: [x + r * 0.6, canalY + r * 0.2, z], b: [x + r * 0.25, canalY + r * 0.9, z], ra: r * 0.18, rb: r * 0.22 }, tissue.cortex)
  canvas.paint({ kind: 'capsule', a: [x, canalY + r * 0.9, z], b: [x, canalY + r * 1.9, z - r * 0.5], ra: r * 0.16, rb: r * 0.12 }, tissue.cortex)
  canvas.paint({ kind: 'capsule', a: [x - r * 0.7, canalY, z], b: [x - r * 1.5, canalY + r * 0.2, z], ra: r * 0.16, rb: r * 0.14 }, tissue.cortex)
  canvas.paint({ kind: 'capsule', a: [x + r * 0.7, canalY, z], b: [x + r * 1.5, canalY + r * 0.2, z], ra: r * 0.16, rb: r * 0.14 }, tissue.cortex)
}

/** A spinal column over [z0, z1]: vertebrae, discs and the CSF-filled canal. */
export function paintSpine(ctx: SiteContext, x: number, y: number, z0: number, z1: number, r: number, level: number): void {
  const { canvas, tissue } = ctx
  const canalY = y + r * 0.85 + r * 0.5
  canvas.paint({ kind: 'capsule', a: [x, y, z0 - level], b: [x, y, z1 + level], ra: r * 0.95, rb: r * 0.95 }, tissue.disc)
  for (let z = z0 - level; z <= z1 + level; z += level) paintVertebra(ctx, x, y, z, r, level * 0.78)
  canvas.paint({ kind: 'capsule', a: [x, canalY, z0 - level], b: [x, canalY, z1 + level], ra: r * 0.5, rb: r * 0.5 }, tissue.csf)
}

/** A bowel loop along a path: enhancing wall, then fluid, gas or stool (positive contrast if given). */
export function paintBowel(ctx: SiteContext, path: Vec3[], radius: number, content: 'fluid' | 'gas' | 'stool'): void {
  const { canvas, tissue } = ctx
  const fill = content === 'fluid' ? tissue.bowelFluid : content === 'gas' ? tissue.bowelGas : tissue.stool
  canvas.paintTube(path, path.map(() => radius), tissue.bowelWall)
  canvas.paintTube(path, path.map(() => radius - 2.5), fill)
}

/** A solid organ as an ellipsoid. */
export function paintOrgan(ctx: SiteContext, centre: Vec3, radii: Vec3, t: Tissue, axes?: [Vec3, Vec3, Vec3]): void {
  ctx.canvas.paint({ kind: 'ellipsoid', centre, radii, axes }, t)
}
