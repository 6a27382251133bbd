import { connectedComponents } from '../volume/components.js'
import { cropOrPad, extendBox } from '../volume/crop.js'
import { measureNode } from '../volume/measure.js'
import { Grid, Vec3, Volume } from '../volume/volume.js'
import { Box, voxelBox } from './boxes.js'
import { labelMask } from './label-metrics.js'

/** One node (lesion instance) of a prediction or a ground truth. */
export interface Node {
  /** Its value in the instance map. */
  id: number
  /** The semantic label most of its voxels carry (1 benign, 2 malignant in nodal's datasets). */
  label: number
  voxels: number
  /** Centroid as a continuous voxel index. */
  centre: Vec3
  /** Inclusive voxel-index bounds. */
  lo: Vec3
  hi: Vec3
  box: Box
  /** Short axis (mm) on its largest axial cross-section, as RECIST measures nodes. */
  shortAxisMm: number
  /** Detection confidence, 1 when nothing gives one. */
  score: number
  /** Probability of malignancy where the source says (JSON, or the label 2 = malignant), else null. */
  probabilityMalignant: number | null
}

/** The nodes of one case: an instance map on the ground-truth grid and its nodes (index = position). */
export interface NodeMap {
  ids: Int32Array
  gridShape: Vec3
  nodes: Node[]
  indexOfId: Map<number, number>
}

/** Nodes as the 26-connected components of the voxels whose label is in `labels`. */
export function nodesFromLabelMap(labelMap: Volume, labels: number[]): NodeMap {
  const mask = labelMask(labelMap.data, labels)
  const { labels: ids } = connectedComponents(mask, labelMap.shape, 26)
  return describeNodes(ids, labelMap, labelMap.data)
}

/**
 * Nodes given by an instance map (nnDetection style), keeping the instances whose majority label
 * in `labelMap` is in `labels`.
 */
export function nodesFromInstanceMap(instances: Volume, labelMap: Volume, labels: number[]): NodeMap {
  const ids = Int32Array.from(instances.data)
  const all = describeNodes(ids, instances, labelMap.data)
  const kept = new Set(all.nodes.filter((node) => labels.includes(node.label)).map((node) => node.id))
  for (let n = 0; n < ids.length; n++) if (ids[n] !== 0 && !kept.has(ids[n])) ids[n] = 0
  const nodes = all.nodes.filter((node) => kept.has(node.id))
  return { ids, gridShape: all.gridShape, nodes, indexOfId: new Map(nodes.map((node, i) => [node.id, i])) }
}

/** Voxel count, centroid, bounds, majority label and short axis of every id, in one pass plus one crop per node. */
function describeNodes(ids: Int32Array, grid: Grid, labelData: ArrayLike<number>): NodeMap {
  const [nx, ny, nz] = grid.shape
  const acc = new Map<number, { voxels: number; sum: Vec3; lo: Vec3; hi: Vec3; labelCounts: Map<number, number> }>()
  let n = 0
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        const id = ids[n]
        if (id === 0) continue
        let a = acc.get(id)
        if (!a) {
          a = { voxels: 0, sum: [0, 0, 0], lo: [i, j, k], hi: [i, j, k], labelCounts: new Map() }
          acc.set(id, a)
        }
        a.voxels++
        a.sum[0] += i; a.sum[1] += j; a.sum[2] += k
        extendBox(a.lo, a.hi, i, j, k)
        const label = labelData[n]
        a.labelCounts.set(label, (a.labelCounts.get(label) ?? 0) + 1)
      }
    }
  }
  const idVolume = new Volume(ids, [...grid.shape], [...grid.spacing], [...grid.origin], grid.axes)
  const nodes: Node[] = []
  for (const id of [...acc.keys()].sort((a, b) => a - b)) {
    const a = acc.get(id)!
    nodes.push({
      id,
      label: majorityLabel(a.labelCounts),
      voxels: a.voxels,
      centre: a.sum.map((s) => s / a.voxels) as Vec3,
      lo: a.lo,
      hi: a.hi,
      box: voxelBox(a.lo, a.hi, grid.spacing),
      shortAxisMm: shortAxis(idVolume, id, a.lo, a.hi),
      score: 1,
      probabilityMalignant: null,
    })
  }
  return { ids, gridShape: [...grid.shape], nodes, indexOfId: new Map(nodes.map((node, i) => [node.id, i])) }
}

function majorityLabel(counts: Map<number, number>): number {
  let best = 0, bestCount = -1
  for (const [label, count] of counts) {
    if (label !== 0 && count > bestCount) { best = label; bestCount = count }
  }
  return best
}

/** measureNode on the node's own box, so many nodes cost one crop each, not one scan of the grid each. */
function shortAxis(ids: Volume, id: number, lo: Vec3, hi: Vec3): number {
  const crop = cropOrPad(ids, lo, [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1])
  return measureNode(crop, id)?.short_axis_mm ?? 0
}

/** Per-instance attributes of a nodes JSON ({"instances": {"<id>": {...}}}), as nodal and nnDetection write them. */
export interface InstanceAttributes {
  score?: number
  class?: string
  probability_malignant?: number
}

/**
 * Sets each node's score and malignancy probability. Score: the JSON's `score`, else the maximum of
 * `probabilityMap` inside the node, else 1. Malignancy: the JSON's `probability_malignant`, else its
 * `class` (malignant 1, benign 0), else the node's label when the label map uses 1 benign / 2 malignant.
 */
export function attachScores(map: NodeMap, attributes: Record<string, InstanceAttributes> | null, probabilityMap: Volume | null, classLabels: boolean): void {
  const maxProbability = probabilityMap ? maxPerNode(map, probabilityMap.data) : null
  map.nodes.forEach((node, index) => {
    const a = attributes?.[String(node.id)]
    node.score = a?.score ?? maxProbability?.[index] ?? 1
    if (a?.probability_malignant !== undefined) node.probabilityMalignant = a.probability_malignant
    else if (a?.class === 'malignant' || a?.class === 'benign') node.probabilityMalignant = a.class === 'malignant' ? 1 : 0
    else if (classLabels && (node.label === 1 || node.label === 2)) node.probabilityMalignant = node.label === 2 ? 1 : 0
  })
}

function maxPerNode(map: NodeMap, data: ArrayLike<number>): number[] {
  const out = map.nodes.map(() => -Infinity)
  for (let n = 0; n < map.ids.length; n++) {
    const id = map.ids[n]
    if (id === 0) continue
    const index = map.indexOfId.get(id)!
    if (data[n] > out[index]) out[index] = data[n]
  }
  return out
}
