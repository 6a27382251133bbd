/**
 * Lymph nodes as radiology describes them, and their placement in fat at their stations.
 *
 * Benign: ovoid (short/long axis ratio mostly < 0.6), short axis mostly < 10 mm, homogeneous soft
 * tissue, some with a fatty hilum, low FDG uptake. Malignant: mostly enlarged (short axis >= 10 mm)
 * and rounder, some necrotic, lobulated or with a blurred border where tumour breaks the capsule,
 * some in touching clusters; and a share of small malignant nodes that look benign on CT but take
 * up FDG.
 */
import { Vec3 } from '../volume/volume.js'
import { Canvas } from './canvas.js'
import { add, crossV, dotV, scale, unit } from './geometry.js'
import { Rng } from './random.js'
import { Station } from './sites/site.js'
import { nodeTissue, Palette, Tissue, TissueClass } from './tissues.js'

export type NodeClass = 'benign' | 'malignant'

export interface NodeDesign {
  cls: NodeClass
  station: string
  centre: Vec3
  /** Semi-axes (mm) along `axes`. */
  radii: Vec3
  axes: [Vec3, Vec3, Vec3]
  /** Necrotic core as a fraction of the radii; 0 when the node is not necrotic. */
  necrosis: number
  fattyHilum: boolean
  /** Bulges of a lobulated margin: direction in the node's own frame and relative height. */
  lobes: { dir: Vec3; amp: number }[]
  /** Width (mm) of the blurred border of extracapsular spread; 0 for an intact capsule. */
  capsuleBreach: number
  /** Cluster number shared by touching malignant nodes, or null. */
  cluster: number | null
  tissue: Tissue
}

/** The phantom's node mask: instance id per voxel and the coverage that won it. */
export class NodeMasks {
  readonly instances: Uint16Array
  private readonly cover: Float32Array
  constructor(voxels: number) {
    this.instances = new Uint16Array(voxels)
    this.cover = new Float32Array(voxels)
  }
  claim(n: number, id: number, a: number): void {
    if (a >= 0.5 && a > this.cover[n]) {
      this.instances[n] = id
      this.cover[n] = a
    }
  }
}

/** Size and look of one node of a class; position and station are set by placement. */
export function designNode(rng: Rng, cls: NodeClass, tissue: Palette, small = false): NodeDesign {
  const enlarged = cls === 'malignant' && !small
  let shortD: number, ratio: number
  if (cls === 'benign') {
    shortD = Math.min(11.5, Math.max(3, Math.exp(rng.gauss(Math.log(6), 0.3))))
    ratio = rng.chance(0.85) ? rng.uniform(0.35, 0.6) : rng.uniform(0.6, 0.8)
  } else if (enlarged) {
    shortD = 10 + 18 * rng.next() ** 1.6
    ratio = rng.uniform(0.7, 1)
  } else {
    shortD = rng.uniform(5, 9.5)
    ratio = rng.uniform(0.5, 0.85)
  }
  const longD = shortD / ratio
  const ccD = cls === 'benign' ? rng.uniform(shortD, longD * 1.1) : shortD * rng.uniform(0.9, 1.4)
  // long axis in the axial plane at a random angle, tilted a little out of it; the short axis stays
  // as close to the axial plane as the tilt allows, so the axial section shows the short axis
  const angle = rng.uniform(0, Math.PI)
  const longAxis = unit([Math.cos(angle), Math.sin(angle), rng.gauss(0, 0.12)])
  const ccAxis = unit(crossV(longAxis, [-Math.sin(angle), Math.cos(angle), 0]))
  const shortAxis = unit(crossV(ccAxis, longAxis))
  const necrosis = enlarged && rng.chance(0.2 + 0.02 * (shortD - 10)) ? rng.uniform(0.35, 0.65) : 0
  const lobes = enlarged && rng.chance(0.45)
    ? Array.from({ length: rng.int(3, 5) }, () => ({ dir: rng.direction(), amp: rng.uniform(0.1, 0.25) }))
    : []
  const capsuleBreach = enlarged && rng.chance(0.3) ? rng.uniform(2, 4) : 0
  const ct = cls === 'benign' ? rng.uniform(30, 55) : rng.uniform(35, 70)
  const suv = cls === 'benign' ? rng.uniform(0.8, 2.5) : enlarged ? rng.uniform(4, 15) : rng.uniform(3, 9)
  const mr = cls === 'benign' ? rng.uniform(330, 420) : rng.uniform(420, 540)
  return {
    cls, station: '', centre: [0, 0, 0], radii: [longD / 2, shortD / 2, ccD / 2], axes: [longAxis, shortAxis, ccAxis],
    necrosis, fattyHilum: cls === 'benign' && shortD >= 5 && rng.chance(0.45), lobes, capsuleBreach, cluster: null,
    tissue: nodeTissue(ct, suv, mr),
  }
}

/** Distance from the centre to the (smooth) surface along unit direction d. */
export function supportRadius(node: NodeDesign, d: Vec3): number {
  let s = 0
  for (let a = 0; a < 3; a++) s += (dotV(d, node.axes[a]) / node.radii[a]) ** 2
  return 1 / Math.sqrt(s)
}

/**
 * True when the node, grown by a margin, lies wholly inside the image and over fat (or over the
 * other nodes of its own cluster): never on a vessel, bone, organ, muscle, lung or bowel.
 */
export function fitsInFat(canvas: Canvas, node: NodeDesign, allowNodes: boolean): boolean {
  const margin = 1.5 + node.capsuleBreach
  const grow = 1 + Math.max(0, ...node.lobes.map((l) => l.amp))
  const radii = node.radii.map((r) => r * grow + margin) as Vec3
  const { shape, spacing, origin } = canvas.grid
  const [u, v, w] = node.axes
  const [cx, cy, cz] = node.centre
  const range: [number, number][] = []
  for (let d = 0; d < 3; d++) {
    const ext = Math.hypot(u[d] * radii[0], v[d] * radii[1], w[d] * radii[2])
    const lo = Math.floor((node.centre[d] - ext - origin[d]) / spacing[d]), hi = Math.ceil((node.centre[d] + ext - origin[d]) / spacing[d])
    if (lo < 2 || hi > shape[d] - 3) return false
    range.push([lo, hi])
  }
  const [nx, ny] = shape
  const tissue = canvas.tissue
  for (let k = range[2][0]; k <= range[2][1]; k++) {
    const pz = origin[2] + k * spacing[2] - cz
    for (let j = range[1][0]; j <= range[1][1]; j++) {
      const py = origin[1] + j * spacing[1] - cy
      let n = range[0][0] + nx * (j + ny * k)
      for (let i = range[0][0]; i <= range[0][1]; i++, n++) {
        const px = origin[0] + i * spacing[0] - cx
        const s0 = (px * u[0] + py * u[1] + pz * u[2]) / radii[0]
        const s1 = (px * v[0] + py * v[1] + pz * v[2]) / radii[1]
        const s2 = (px * w[0] + py * w[1] + pz * w[2]) / radii[2]
        if (s0 * s0 + s1 * s1 + s2 * s2 > 1) continue
        const t = tissue[n]
        if (t !== TissueClass.Fat && !(allowNodes && t === TissueClass.Node)) return false
      }
    }
  }
  return true
}

/**
 * Paints a node into every channel and claims its voxels (coverage >= 0.5) in the instance mask.
 * Coverage comes from the signed distance to the (lobulated) ellipsoid over the voxel's width along
 * the normal; a breached capsule widens that transition in the image only, never in the mask.
 */
export function paintNode(canvas: Canvas, masks: NodeMasks, id: number, node: NodeDesign, tissue: Palette): void {
  const { shape, spacing, origin } = canvas.grid
  const [hx, hy, hz] = spacing
  const [nx, ny] = shape
  const [u, v, w] = node.axes
  const [r0, r1, r2] = node.radii
  const [cx, cy, cz] = node.centre
  const grow = 1 + Math.max(0, ...node.lobes.map((l) => l.amp))
  const margin = node.capsuleBreach + 2 * Math.max(hx, hy, hz)
  const range: [number, number][] = []
  for (let d = 0; d < 3; d++) {
    const ext = Math.hypot(u[d] * r0, v[d] * r1, w[d] * r2) * grow + margin
    range.push([Math.max(0, Math.floor((node.centre[d] - ext - origin[d]) / spacing[d])), Math.min(shape[d] - 1, Math.ceil((node.centre[d] + ext - origin[d]) / spacing[d]))])
  }
  const lobes = node.lobes
  for (let k = range[2][0]; k <= range[2][1]; k++) {
    const pz = origin[2] + k * hz - cz
    for (let j = range[1][0]; j <= range[1][1]; j++) {
      const py = origin[1] + j * hy - cy
      let n = range[0][0] + nx * (j + ny * k)
      for (let i = range[0][0]; i <= range[0][1]; i++, n++) {
        const px = origin[0] + i * hx - cx
        const q0 = px * u[0] + py * u[1] + pz * u[2], q1 = px * v[0] + py * v[1] + pz * v[2], q2 = px * w[0] + py * w[1] + pz * w[2]
        const s0 = q0 / r0, s1 = q1 / r1, s2 = q2 / r2
        let g = Math.sqrt(s0 * s0 + s1 * s1 + s2 * s2)
        if (g < 1e-9) { canvas.blend(n, 1, node.tissue); masks.claim(n, id, 1); continue }
        if (lobes.length > 0) {
          const ql = Math.sqrt(q0 * q0 + q1 * q1 + q2 * q2)
          let f = 1
          for (const lobe of lobes) {
            const c = (q0 * lobe.dir[0] + q1 * lobe.dir[1] + q2 * lobe.dir[2]) / ql
            if (c > 0) f += lobe.amp * c * c * c
          }
          g /= f
        }
        const l0 = s0 / r0, l1 = s1 / r1, l2 = s2 / r2
        const gx = l0 * u[0] + l1 * v[0] + l2 * w[0], gy = l0 * u[1] + l1 * v[1] + l2 * w[1], gz = l0 * u[2] + l1 * v[2] + l2 * w[2]
        const gradLen = Math.sqrt(gx * gx + gy * gy + gz * gz) / g
        const distance = (g - 1) / gradLen
        const voxelWidth = (Math.abs(gx) * hx + Math.abs(gy) * hy + Math.abs(gz) * hz) / (g * gradLen)
        const a = 0.5 - distance / voxelWidth
        masks.claim(n, id, a)
        const aImage = node.capsuleBreach > 0 ? 0.5 - distance / Math.max(voxelWidth, node.capsuleBreach) : a
        canvas.blend(n, Math.min(aImage, 1), node.tissue)
      }
    }
  }
  const inner = (f: Vec3, offset: Vec3, t: Tissue) => canvas.paint({
    kind: 'ellipsoid', centre: add(node.centre, add(add(scale(u, offset[0]), scale(v, offset[1])), scale(w, offset[2]))),
    radii: [r0 * f[0], r1 * f[1], r2 * f[2]], axes: node.axes,
  }, { ...t, cls: TissueClass.Node })
  if (node.necrosis > 0) {
    const necrotic = { ct: node.tissue.ct - 30 - 10 * Math.min(1, node.necrosis), pet: 0.6, mr: 850, cls: TissueClass.Node }
    inner([node.necrosis, node.necrosis, node.necrosis], [0.1 * r0, 0.08 * r1, 0], necrotic)
  }
  if (node.fattyHilum) inner([0.4, 0.42, 0.5], [0, 0.55 * r1, 0], tissue.fat)
}

export interface PlacedNode extends NodeDesign { id: number }

/**
 * Designs and places a case's nodes: for each, a station is drawn and positions near its anchor are
 * tried until the node fits in fat; a node that fits nowhere is shrunk, then dropped.
 * Enlarged malignant nodes sometimes bring touching neighbours (a cluster).
 */
export function placeNodes(rng: Rng, canvas: Canvas, stations: Station[], tissue: Palette, counts: { benign: number; malignant: number }): PlacedNode[] {
  const wanted: NodeDesign[] = []
  for (let b = 0; b < counts.benign; b++) wanted.push(designNode(rng, 'benign', tissue))
  for (let m = 0; m < counts.malignant; m++) wanted.push(designNode(rng, 'malignant', tissue, rng.chance(0.3)))
  const placed: PlacedNode[] = []
  let clusters = 0
  for (const design of wanted) {
    const node = tryPlace(rng, canvas, stations, design)
    if (!node) continue
    placed.push(commit(canvas, node, placed.length + 1))
    const enlarged = node.cls === 'malignant' && node.radii[1] >= 5
    if (enlarged && rng.chance(0.3)) {
      const cluster = ++clusters
      placed[placed.length - 1].cluster = cluster
      const extra = rng.int(1, 3)
      for (let e = 0; e < extra; e++) {
        const neighbour = placeTouching(rng, canvas, placed.filter((p) => p.cluster === cluster), designNode(rng, 'malignant', tissue))
        if (neighbour) placed.push(commit(canvas, { ...neighbour, cluster }, placed.length + 1))
      }
    }
  }
  return placed
}

/**
 * Marks a placed node's voxels as Node in the tissue map so later nodes keep out of it
 * (the caller restores the anatomy's tissue map before painting the nodes).
 */
function commit(canvas: Canvas, node: NodeDesign, id: number): PlacedNode {
  const { centre, radii, axes } = node
  const grow = 1 + Math.max(0, ...node.lobes.map((l) => l.amp))
  markEllipsoid(canvas, centre, radii.map((r) => r * grow + node.capsuleBreach) as Vec3, axes)
  return { ...node, id }
}

function markEllipsoid(canvas: Canvas, centre: Vec3, radii: Vec3, axes: [Vec3, Vec3, Vec3]): void {
  const { shape, spacing, origin } = canvas.grid
  const [nx, ny] = shape
  const range: [number, number][] = []
  for (let d = 0; d < 3; d++) {
    const ext = Math.hypot(axes[0][d] * radii[0], axes[1][d] * radii[1], axes[2][d] * radii[2])
    range.push([Math.max(0, Math.floor((centre[d] - ext - origin[d]) / spacing[d])), Math.min(shape[d] - 1, Math.ceil((centre[d] + ext - origin[d]) / spacing[d]))])
  }
  for (let k = range[2][0]; k <= range[2][1]; k++) {
    for (let j = range[1][0]; j <= range[1][1]; j++) {
      for (let i = range[0][0]; i <= range[0][1]; i++) {
        const p: Vec3 = [origin[0] + i * spacing[0] - centre[0], origin[1] + j * spacing[1] - centre[1], origin[2] + k * spacing[2] - centre[2]]
        let s = 0
        for (let a = 0; a < 3; a++) s += (dotV(p, axes[a]) / radii[a]) ** 2
        if (s <= 1) canvas.tissue[i + nx * (j + ny * k)] = TissueClass.Node
      }
    }
  }
}

function tryPlace(rng: Rng, canvas: Canvas, stations: Station[], design: NodeDesign): NodeDesign | null {
  // an enlarged node stays enlarged (short axis >= 10 mm) while shrinking to fit, or is dropped
  const minShort = design.radii[1] >= 5 ? 5 : 1.5
  let node = design
  // big nodes need many more tries to find a gap between vessels wide enough
  const attempts = design.radii[1] >= 5 ? 300 : 80
  for (let shrink = 0; shrink < 4; shrink++) {
    for (let attempt = 0; attempt < attempts; attempt++) {
      const station = rng.pick(stations)
      // a big node's centre sits farther from the anchor's vessels
      const reach = 1 + node.radii[1] / 10
      const centre = station.anchor.map((a, d) => a + rng.uniform(-reach, reach) * station.spread[d]) as Vec3
      const candidate = { ...node, centre, station: station.name }
      if (fitsInFat(canvas, candidate, false)) return candidate
    }
    const f = Math.max(0.85, minShort / node.radii[1])
    if (f >= 1) break
    node = { ...node, radii: node.radii.map((r) => r * f) as Vec3 }
  }
  return null
}

/** A neighbour that touches one of the cluster's nodes, placed along a random direction. */
function placeTouching(rng: Rng, canvas: Canvas, cluster: PlacedNode[], design: NodeDesign): NodeDesign | null {
  for (let attempt = 0; attempt < 30; attempt++) {
    const host = rng.pick(cluster)
    const d = unit([rng.gauss(0, 1), rng.gauss(0, 1), rng.gauss(0, 0.5)])
    const gap = supportRadius(host, d) + supportRadius(design, d) - 0.5
    const candidate = { ...design, centre: add(host.centre, scale(d, gap)), station: host.station }
    if (fitsInFat(canvas, candidate, true)) return candidate
  }
  return null
}
