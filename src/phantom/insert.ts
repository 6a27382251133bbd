/**
 * Synthetic nodes inside a real CT, at the node stations of the scan's own anatomy.
 *
 * Once per host scan (`prepareInsertion`), the host-anatomy detector finds the lungs, airway,
 * mediastinum, spine and vessels from the HU alone and maps the stations of the chosen site: IASLC
 * mediastinal, hilar and supraclavicular stations for the chest, axillary fat for the axilla,
 * para-aortic, aortocaval and paracaval fat for the abdomen. A node's centre may then go only in
 * fat (-200..-25 HU) inside one of those stations, and the node itself only over fat and the thin
 * rim of soft tissue around it: never on bone, air, lung, contrast or any labelled structure
 * (organ labels are optional; they are kept out of and name the aorta and cava when given). Each
 * case (`insertPrepared`) places its nodes at the stations; every node records its station.
 *
 * A node is painted as a change of the local mean only: the host's local mean is replaced by the
 * node's intensity inside the node, that difference is blurred by the host's point spread and
 * added to the original scan. The host's own noise therefore runs through the node unchanged, so
 * an inserted node cannot be told apart by its texture.
 */
import { badInput } from '../errors.js'
import { measureAllNodes } from '../volume/measure.js'
import { allocate, Vec3, Volume } from '../volume/volume.js'
import { gaussianBlur } from './acquisition.js'
import { Canvas } from './canvas.js'
import { NodeRecord, labelMap, toRecord } from './generate.js'
import { placementMaps, roomyCentres, stationFat } from './host-anatomy/fat.js'
import { AnatomySummary, analyseHost, HostAnatomy, OrganLabels, REGION_STATIONS, RegionName, StationName } from './host-anatomy/index.js'
import { NodeMasks, paintNode, PlacedNode, placeNodes } from './nodes.js'
import { Rng } from './random.js'
import { Station } from './sites/site.js'
import { casePalette, Palette } from './tissues.js'

export type { OrganLabels } from './host-anatomy/index.js'

export { TOTALSEGMENTATOR_NAMES } from '../dataset/totalsegmentator.js'

/**
 * The regions whose stations each --site uses, with the share of nodes each region gets (among the
 * regions in view; a station is then drawn uniformly within its region). Chest nodes go mostly to
 * the mediastinum and hila, as in lung-cancer staging. A site not listed uses every region found,
 * evenly.
 */
export const SITE_REGIONS: Record<string, Partial<Record<RegionName, number>>> = {
  chest: { mediastinum: 0.55, hila: 0.2, 'supraclavicular fossae': 0.15, axillae: 0.1 },
  axilla: { axillae: 1 },
  abdomen: { retroperitoneum: 1 },
  neck: { 'supraclavicular fossae': 1 },
  pelvis: {},
}

/** Anchors drawn in a node's station, designs tried per station, and stations tried before a node is dropped. */
const ANCHORS_PER_NODE = 60, DESIGNS_PER_STATION = 4, STATIONS_PER_NODE = 3

export interface InsertedCase {
  image: Volume
  labels: Volume
  instances: Volume
  nodes: Record<string, NodeRecord>
  placement: Placement
}

export interface Placement {
  /** Host voxels where a node's centre could go (fat inside a station of the site). */
  candidates: number
  vessel_source: 'labels' | 'labels+contrast' | 'contrast' | 'none'
  /** Candidate voxels per station used. */
  stations: Record<string, number>
  /** Regions of the site not found in this scan, and why. */
  regions_missing: Partial<Record<RegionName, string>>
  anatomy: AnatomySummary
}

/** Everything about a host that does not change from case to case. */
export interface PreparedHost {
  host: Volume
  site: string
  anatomy: HostAnatomy
  /** 1 for the host's fat (outside labelled structures). */
  fat: Uint8Array
  /** TissueClass.Fat where a node may lie (fat and the rim around it), TissueClass.Air elsewhere. */
  tissue: Uint8Array
  /** Host voxels of each station used that are fat. */
  candidates: Map<StationName, Int32Array>
  /** The regions in view with fat, and the share of nodes each gets (not normalised). */
  regionWeights: [RegionName, number][]
  placement: Omit<Placement, 'anatomy'>
}

/** Inserts one case's nodes into `host`; `hostName` names the scan in error messages. */
export function insertNodes(host: Volume, organs: OrganLabels[], seed: number, index: number, site = 'unspecified', hostName = 'host CT'): InsertedCase {
  return insertPrepared(prepareInsertion(host, organs, site, hostName), seed, index)
}

/** Finds the host's anatomy and the fat of the site's stations (once per host). */
export function prepareInsertion(host: Volume, organs: OrganLabels[], site = 'unspecified', hostName = 'host CT'): PreparedHost {
  const weights = SITE_REGIONS[site] ?? Object.fromEntries(Object.keys(REGION_STATIONS).map((r) => [r, 1]))
  const regions = Object.keys(weights) as RegionName[]
  if (regions.length === 0) throw badInput(hostName, `no node stations of site ${site} are found in real scans yet (choose chest, axilla, abdomen or neck)`)
  const anatomy = analyseHost(host, organs)
  const found = regions.filter((r) => !anatomy.missing[r])
  if (found.length === 0) {
    const why = regions.map((r) => `${r} (${anatomy.missing[r]})`).join(', ')
    throw badInput(hostName, `has no fat next to vessels at ${stationsOf(site)}: not found: ${why}`)
  }
  const { fat, room } = placementMaps(host, organs)
  const wanted = new Set<StationName>(found.flatMap((r) => REGION_STATIONS[r]))
  const candidates = roomyCentres(stationFat(anatomy, fat, wanted, host.shape), room, host)
  const total = [...candidates.values()].reduce((s, c) => s + c.length, 0)
  if (total === 0) throw badInput(hostName, `has no fat next to vessels at ${stationsOf(site)} (${found.join(', ')}); is it a CT in HU?`)
  const regionsMissing: Placement['regions_missing'] = {}
  for (const r of regions) if (anatomy.missing[r]) regionsMissing[r] = anatomy.missing[r]
  const vesselSource = anatomy.summary.contrast.vessels as Placement['vessel_source']
  const regionWeights = found.map((r) => [r, weights[r]!] as [RegionName, number]).filter(([r]) => REGION_STATIONS[r].some((n) => candidates.has(n)))
  return {
    host, site, anatomy, fat, tissue: room, candidates, regionWeights,
    placement: { candidates: total, vessel_source: vesselSource, stations: Object.fromEntries([...candidates].map(([name, c]) => [name, c.length])), regions_missing: regionsMissing },
  }
}

/** How error messages name the stations of a site. */
function stationsOf(site: string): string {
  return site in SITE_REGIONS ? `the ${site} node stations` : 'any node station'
}

/** One case: nodes placed at the prepared stations and painted into the host. */
export function insertPrepared(prep: PreparedHost, seed: number, index: number): InsertedCase {
  const { host } = prep
  const rng = Rng.forCase(seed, index, 1)
  // placement and painting happen in the host's voxel frame scaled to mm (axes taken as orthonormal)
  const canvas = new Canvas([...host.shape], [...host.spacing], [0, 0, 0], { pet: false, mr: false })
  canvas.tissue.set(prep.tissue)
  const tissue = casePalette(rng)
  const nodes = placeAtStations(rng, canvas, prep, tissue, { benign: rng.int(2, 5), malignant: rng.int(1, 3) })
  const masks = new NodeMasks(host.data.length)
  const image = host.withData(paintIntoHost(prep, canvas, masks, nodes, tissue))
  const instances = host.withData(masks.instances, { modality: 'SEG' })
  const labels = host.withData(labelMap(masks.instances, nodes), { modality: 'SEG' })
  return { image, labels, instances, nodes: records(host, instances, nodes, prep.site), placement: { ...prep.placement, anatomy: prep.anatomy.summary } }
}

/**
 * Places the case's nodes one at a time, each in a region drawn by its share and at a station
 * drawn uniformly within it. A node that fits nowhere at its station is designed anew there (up
 * to four times; a new malignant design may be one of the small ones, which fit between
 * mediastinal vessels where an enlarged one does not), then tries another station of the same
 * region, up to three, then is dropped: it never moves to another region, so the roomy axillary
 * fat does not collect the nodes that are too big for a tight mediastinum.
 */
function placeAtStations(rng: Rng, canvas: Canvas, prep: PreparedHost, tissue: Palette, counts: { benign: number; malignant: number }): PlacedNode[] {
  const { candidates } = prep
  const classes = [...Array(counts.benign).fill('benign'), ...Array(counts.malignant).fill('malignant')] as PlacedNode['cls'][]
  const placed: PlacedNode[] = []
  let clusters = 0
  for (const cls of classes) {
    const region = drawRegion(rng, prep)
    let name: StationName = region[0]
    for (let attempt = 0; attempt < STATIONS_PER_NODE * DESIGNS_PER_STATION; attempt++) {
      if (attempt % DESIGNS_PER_STATION === 0) name = rng.pick(region)
      const stations = anchors(rng, name, candidates.get(name)!, canvas.grid.shape, canvas.grid.spacing)
      const got = placeNodes(rng, canvas, stations, tissue, cls === 'benign' ? { benign: 1, malignant: 0 } : { benign: 0, malignant: 1 })
      if (got.length === 0) continue
      for (const node of got) placed.push({ ...node, id: placed.length + 1, cluster: node.cluster === null ? null : clusters + node.cluster })
      clusters += Math.max(0, ...got.map((n) => n.cluster ?? 0))
      break
    }
  }
  return placed
}

/** A region drawn by its weight, as the list of its stations that hold fat. */
function drawRegion(rng: Rng, prep: PreparedHost): StationName[] {
  const total = prep.regionWeights.reduce((s, [, w]) => s + w, 0)
  let u = rng.next() * total
  const [region] = prep.regionWeights.find(([, w]) => (u -= w) < 0) ?? prep.regionWeights[prep.regionWeights.length - 1]
  return REGION_STATIONS[region].filter((n) => prep.candidates.has(n))
}

/** Anchors at random fat voxels of one station, one voxel wide. */
function anchors(rng: Rng, name: StationName, voxels: Int32Array, shape: Vec3, spacing: Vec3): Station[] {
  const [nx, ny] = shape
  const stations: Station[] = []
  for (let a = 0; a < ANCHORS_PER_NODE; a++) {
    const v = voxels[Math.floor(rng.next() * voxels.length)]
    const i = v % nx, j = Math.floor(v / nx) % ny, k = Math.floor(v / (nx * ny))
    stations.push({ name, anchor: [i * spacing[0], j * spacing[1], k * spacing[2]], spread: [...spacing] as Vec3 })
  }
  return stations
}

/**
 * The host with the nodes painted in, box by box around the nodes (disjoint boxes, padded past
 * every kernel's reach). In each box the local mean of the host is computed, the nodes are painted
 * over it, and the change (painted - mean), blurred like the host (sigma 0.5 voxel in-plane, 0.4
 * across), is added to the untouched scan. Outside the boxes the host is unchanged.
 */
function paintIntoHost(prep: PreparedHost, canvas: Canvas, masks: NodeMasks, nodes: PlacedNode[], tissue: Palette): Volume['data'] {
  const { host } = prep
  const out = allocate(host.dtype, host.data.length)
  out.set(host.data)
  const [nx, ny] = host.shape
  for (const box of nodeBoxes(host, nodes)) {
    const mean = localMean(host, prep.fat, box)
    forEachInBox(box, nx, ny, (v, b) => { canvas.ct[v] = mean[b] })
    for (const node of nodes) if (inBox(box, node.centre, host.spacing)) paintNode(canvas, masks, node.id, node, tissue)
    const delta = new Float32Array(mean.length)
    forEachInBox(box, nx, ny, (v, b) => { delta[b] = canvas.ct[v] - mean[b] })
    gaussianBlur(delta, boxSize(box), [0.5, 0.5, 0.4])
    forEachInBox(box, nx, ny, (v, b) => { out[v] = Math.round(host.data[v] + delta[b]) })
  }
  return out
}

/**
 * The host's local mean over a box: a 1.5 mm Gaussian average, taken over fat voxels alone where
 * the voxel is fat (a normalised convolution), so that a bright vessel next to a node does not
 * bleed into the mean under it and leave a dark gradient across the node. Computed on the box
 * grown by the kernel's reach, so it equals the mean over the whole scan.
 */
function localMean(host: Volume, fat: Uint8Array, box: Box): Float32Array {
  const sigma = host.spacing.map((h) => 1.5 / h) as Vec3
  const reach = sigma.map((s) => Math.max(1, Math.ceil(3 * s)))
  const outer: Box = { lo: box.lo.map((x, d) => Math.max(0, x - reach[d])) as Vec3, hi: box.hi.map((x, d) => Math.min(host.shape[d] - 1, x + reach[d])) as Vec3 }
  const [nx, ny] = host.shape
  const size = boxSize(outer)
  const all = new Float32Array(size[0] * size[1] * size[2]), sum = new Float32Array(all.length), weight = new Float32Array(all.length)
  forEachInBox(outer, nx, ny, (v, b) => {
    all[b] = host.data[v]
    if (fat[v]) { sum[b] = host.data[v]; weight[b] = 1 }
  })
  for (const a of [all, sum, weight]) gaussianBlur(a, size, sigma)
  const inner = boxSize(box)
  const mean = new Float32Array(inner[0] * inner[1] * inner[2])
  forEachInBox(box, nx, ny, (v, b) => {
    const [i, j, k] = [v % nx - outer.lo[0], Math.floor(v / nx) % ny - outer.lo[1], Math.floor(v / (nx * ny)) - outer.lo[2]]
    const o = i + size[0] * (j + size[1] * k)
    mean[b] = fat[v] && weight[o] > 0.2 ? sum[o] / weight[o] : all[o]
  })
  return mean
}

function boxSize(box: Box): Vec3 {
  return box.hi.map((h, d) => h - box.lo[d] + 1) as Vec3
}

function inBox(box: Box, centreMm: Vec3, spacing: Vec3): boolean {
  return centreMm.every((c, d) => c / spacing[d] >= box.lo[d] && c / spacing[d] <= box.hi[d])
}

interface Box { lo: Vec3; hi: Vec3 }

/** Index boxes around the nodes (their extent, the painted border and 3 voxels), merged until disjoint. */
function nodeBoxes(host: Volume, nodes: PlacedNode[]): Box[] {
  let boxes: Box[] = nodes.map((node) => {
    const reach = Math.max(...node.radii) * (1 + Math.max(0, ...node.lobes.map((l) => l.amp))) + node.capsuleBreach + 2 * Math.max(...host.spacing)
    const lo = node.centre.map((c, d) => Math.max(0, Math.floor((c - reach) / host.spacing[d]) - 3)) as Vec3
    const hi = node.centre.map((c, d) => Math.min(host.shape[d] - 1, Math.ceil((c + reach) / host.spacing[d]) + 3)) as Vec3
    return { lo, hi }
  })
  for (let merged = true; merged;) {
    merged = false
    outer: for (let a = 0; a < boxes.length; a++) {
      for (let b = a + 1; b < boxes.length; b++) {
        if ([0, 1, 2].some((d) => boxes[a].hi[d] < boxes[b].lo[d] || boxes[b].hi[d] < boxes[a].lo[d])) continue
        boxes[a] = { lo: boxes[a].lo.map((x, d) => Math.min(x, boxes[b].lo[d])) as Vec3, hi: boxes[a].hi.map((x, d) => Math.max(x, boxes[b].hi[d])) as Vec3 }
        boxes = boxes.filter((_, n) => n !== b)
        merged = true
        break outer
      }
    }
  }
  return boxes
}

/** Calls fn(host offset, offset inside the box) for every voxel of the box. */
function forEachInBox(box: Box, nx: number, ny: number, fn: (v: number, b: number) => void): void {
  let b = 0
  for (let k = box.lo[2]; k <= box.hi[2]; k++) {
    for (let j = box.lo[1]; j <= box.hi[1]; j++) {
      let v = box.lo[0] + nx * (j + ny * k)
      for (let i = box.lo[0]; i <= box.hi[0]; i++, v++, b++) fn(v, b)
    }
  }
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
