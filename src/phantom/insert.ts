/**
 * Synthetic nodes inside a real CT. Nodes go where nodes sit: in fat (smoothed HU -200..-25), within
 * 12 mm of a vessel (labelled, or contrast-enhanced voxels of 130-450 HU away from cortical bone), at least
 * 15 mm from the outside air and from the image's edges (no subcutaneous fat), never within
 * 1.5 mm of bone, air, lung, a contrast vessel or any labelled structure.
 *
 * A node is painted as a change of the local mean only: the host's smoothed intensity is replaced
 * by the node's inside the node, that difference is blurred by the host's point spread and added to
 * the original scan. The host's own noise therefore runs through the node unchanged, so an inserted
 * node cannot be told apart by its texture.
 */
import { badInput } from '../errors.js'
import { measureAllNodes } from '../volume/measure.js'
import { resampleTo } from '../volume/resample.js'
import { allocate, sameGrid, Vec3, Volume } from '../volume/volume.js'
import { gaussianBlur } from './acquisition.js'
import { Canvas } from './canvas.js'
import { NodeRecord, toRecord } from './generate.js'
import { NodeMasks, paintNode, PlacedNode, placeNodes } from './nodes.js'
import { Rng } from './random.js'
import { Station } from './sites/site.js'
import { casePalette, TissueClass } from './tissues.js'

export interface OrganLabels {
  /** Label map; any non-zero voxel is a structure nodes must keep out of. */
  volume: Volume
  /** Name of each label id (used to tell vessels apart). */
  names: Record<number, string>
}

/** TotalSegmentator v2 ids of the structures in ../shared/data's abdominal sample (others are still kept out of). */
export const TOTALSEGMENTATOR_NAMES: Record<number, string> = {
  1: 'spleen', 2: 'kidney_right', 3: 'kidney_left', 5: 'liver', 6: 'stomach', 7: 'pancreas', 18: 'small_bowel',
  19: 'duodenum', 20: 'colon', 30: 'vertebrae_L2', 31: 'vertebrae_L1', 32: 'vertebrae_T12', 33: 'vertebrae_T11',
  52: 'aorta', 63: 'inferior_vena_cava', 64: 'portal_vein_and_splenic_vein', 79: 'spinal_cord',
  88: 'iliopsoas_left', 89: 'iliopsoas_right',
}

const VESSEL_NAME = /aorta|vena|cava|arter|vein|portal|iliac|carotid|jugular|subclavian|brachiocephalic/i

export interface InsertedCase {
  image: Volume
  labels: Volume
  instances: Volume
  nodes: Record<string, NodeRecord>
  placement: { candidates: number; vessel_source: 'labels+contrast' | 'contrast' }
}

/** Inserts one case's nodes into `host`; `hostName` names the scan in error messages. */
export function insertNodes(host: Volume, organs: OrganLabels[], seed: number, index: number, site = 'unspecified', hostName = 'host CT'): InsertedCase {
  const rng = Rng.forCase(seed, index, 1)
  const { shape, spacing } = host
  const n = host.data.length
  const hu = Float32Array.from(host.data)
  const smooth = hu.slice()
  gaussianBlur(smooth, shape, spacing.map((h) => 1.5 / h) as Vec3)

  const forbidden = new Uint8Array(n)
  const vesselName = new Uint8Array(n) // 1 + index into vesselNames
  const vesselNames: string[] = []
  for (const organ of organs) {
    const labels = sameGrid(organ.volume, host) ? organ.volume : resampleTo(organ.volume, host, { interpolation: 'nearest' })
    const vesselIndex = new Map<number, number>()
    for (const [id, name] of Object.entries(organ.names)) {
      if (VESSEL_NAME.test(name)) vesselIndex.set(Number(id), vesselNames.push(name))
    }
    for (let v = 0; v < n; v++) {
      const l = labels.data[v]
      if (l === 0) continue
      forbidden[v] = 1
      const vi = vesselIndex.get(l)
      if (vi) vesselName[v] = vi
    }
  }
  // unlabelled contrast-enhanced voxels count as vessels too (labels rarely name every vessel), but
  // not the cancellous bone inside cortical bone, which has the same HU
  const vesselSource = vesselNames.length > 0 ? 'labels+contrast' : 'contrast'
  const contrast = vesselNames.push('contrast-enhanced vessel')
  const cortex = new Uint8Array(n)
  for (let v = 0; v < n; v++) if (smooth[v] > 450) cortex[v] = 1
  const nearBone = dilate(cortex, shape, spacing.map((h) => Math.max(1, Math.round(8 / h))) as Vec3)
  for (let v = 0; v < n; v++) {
    const s = smooth[v]
    if (s > 150 || s < -250) forbidden[v] = 1
    if (!vesselName[v] && !nearBone[v] && s >= 130 && s <= 450) vesselName[v] = contrast
  }
  const nearVessel = dilate(vesselName, shape, spacing.map((h) => Math.max(1, Math.round(12 / h))) as Vec3)
  // subcutaneous fat holds no node stations worth simulating here: keep 15 mm from the outside air
  const nearSkin = dilate(outsideAir(smooth, shape), shape, spacing.map((h) => Math.max(1, Math.round(15 / h))) as Vec3)

  // placement and painting happen in the host's voxel frame scaled to mm (axes taken as orthonormal)
  const canvas = new Canvas([...shape], [...spacing], [0, 0, 0], { pet: false, mr: false })
  canvas.ct.set(smooth)
  // a scan cropped through the body wall has no outside air there: keep 15 mm from the image's edges too
  const edge = spacing.map((h) => Math.ceil(15 / h))
  const [nx, ny, nz] = shape
  const candidates: number[] = []
  for (let v = 0; v < n; v++) {
    const s = smooth[v]
    const fat = !forbidden[v] && s >= -200 && s <= -25
    canvas.tissue[v] = fat ? TissueClass.Fat : TissueClass.Air
    const i = v % nx, j = Math.floor(v / nx) % ny, k = Math.floor(v / (nx * ny))
    const inside = i >= edge[0] && i < nx - edge[0] && j >= edge[1] && j < ny - edge[1] && k >= edge[2] && k < nz - edge[2]
    if (fat && inside && nearVessel[v] && !nearSkin[v]) candidates.push(v)
  }
  if (candidates.length === 0) throw badInput(hostName, 'has no fat next to vessels where a node could be inserted (is it a CT in HU?)')
  const stations = stationsFrom(rng, candidates, shape, spacing, nearVessel, vesselNames)
  const tissue = casePalette(rng)
  const nodes = placeNodes(rng, canvas, stations, tissue, { benign: rng.int(2, 5), malignant: rng.int(1, 3) })
  const masks = new NodeMasks(n)
  for (const node of nodes) paintNode(canvas, masks, node.id, node, tissue)

  // the node as a change of local mean, blurred like the host, added to the untouched scan
  const delta = canvas.ct
  for (let v = 0; v < n; v++) delta[v] -= smooth[v]
  gaussianBlur(delta, shape, [0.5, 0.5, 0.4])
  const out = allocate(host.dtype, n)
  for (let v = 0; v < n; v++) out[v] = Math.round(hu[v] + delta[v])

  const instances = host.withData(masks.instances, { modality: 'SEG' })
  const classOf = new Uint8Array(nodes.length + 1)
  for (const node of nodes) classOf[node.id] = node.cls === 'benign' ? 1 : 2
  const labels = host.withData(Uint8Array.from(masks.instances, (id) => classOf[id]), { modality: 'SEG' })
  return {
    image: host.withData(out), labels, instances, nodes: records(host, instances, nodes, site),
    placement: { candidates: candidates.length, vessel_source: vesselSource },
  }
}

/** Air connected to the image border (outside the body), by flood fill from the border. */
function outsideAir(smooth: Float32Array, shape: Vec3): Uint8Array {
  const [nx, ny, nz] = shape
  const outside = new Uint8Array(smooth.length)
  const stack: number[] = []
  const visit = (v: number) => {
    if (!outside[v] && smooth[v] < -500) { outside[v] = 1; stack.push(v) }
  }
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        if (i === 0 || j === 0 || k === 0 || i === nx - 1 || j === ny - 1 || k === nz - 1) visit(i + nx * (j + ny * k))
      }
    }
  }
  while (stack.length > 0) {
    const v = stack.pop()!
    const i = v % nx, j = Math.floor(v / nx) % ny, k = Math.floor(v / (nx * ny))
    if (i > 0) visit(v - 1)
    if (i < nx - 1) visit(v + 1)
    if (j > 0) visit(v - nx)
    if (j < ny - 1) visit(v + nx)
    if (k > 0) visit(v - nx * ny)
    if (k < nz - 1) visit(v + nx * ny)
  }
  return outside
}

/** Random fat voxels near vessels as one-point stations named after the nearest vessel. */
function stationsFrom(rng: Rng, candidates: number[], shape: Vec3, spacing: Vec3, nearVessel: Uint8Array, names: string[]): Station[] {
  const [nx, ny] = shape
  const stations: Station[] = []
  for (let s = 0; s < 80; s++) {
    const v = candidates[Math.floor(rng.next() * candidates.length)]
    const i = v % nx, j = Math.floor(v / nx) % ny, k = Math.floor(v / (nx * ny))
    stations.push({ name: `near ${names[nearVessel[v] - 1]}`, anchor: [i * spacing[0], j * spacing[1], k * spacing[2]], spread: spacing.map((h) => h) as Vec3 })
  }
  return stations
}

/** Grows non-zero labels by a box of the given half-widths (voxels); a grown voxel keeps a label it reached. */
function dilate(labels: Uint8Array, shape: Vec3, radius: Vec3): Uint8Array {
  let cur = labels
  const [nx, ny] = shape
  const strides = [1, nx, nx * ny]
  for (let axis = 0; axis < 3; axis++) {
    const next = cur.slice()
    const r = radius[axis], stride = strides[axis], len = shape[axis]
    for (let v = 0; v < cur.length; v++) {
      if (!cur[v]) continue
      const pos = axis === 0 ? v % nx : axis === 1 ? Math.floor(v / nx) % ny : Math.floor(v / (nx * ny))
      for (let d = -r; d <= r; d++) {
        const p = pos + d
        if (p < 0 || p >= len || d === 0) continue
        const w = v + d * stride
        if (!next[w]) next[w] = cur[v]
      }
    }
    cur = next
  }
  return cur
}

function records(host: Volume, instances: Volume, nodes: PlacedNode[], site: string): Record<string, NodeRecord> {
  const measured = measureAllNodes(instances)
  const toWorld = (local: Vec3): Vec3 => host.indexToWorld(local[0] / host.spacing[0], local[1] / host.spacing[1], local[2] / host.spacing[2])
  const direction = (local: Vec3): Vec3 => [0, 1, 2].map((r) => local[0] * host.axes[0][r] + local[1] * host.axes[1][r] + local[2] * host.axes[2][r]) as Vec3
  const out: Record<string, NodeRecord> = {}
  for (const node of nodes) {
    const m = measured.get(node.id)
    if (!m) continue
    const design = { centre_mm: toWorld(node.centre), semi_axes_mm: node.radii, axes: node.axes.map(direction) as [Vec3, Vec3, Vec3] }
    out[String(node.id)] = toRecord(node, m, site, design)
  }
  return out
}
