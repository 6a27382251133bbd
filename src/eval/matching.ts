import type { NodeMap } from './nodes.js'

/** When a predicted node counts as finding a true node. */
export type MatchCriterion = { by: 'iou'; threshold: number } | { by: 'centre' }

/** predToGt[p] = index of the true node that predicted node p found, or −1 (a false positive). */
export type Matching = Int32Array

/**
 * Voxel overlaps of every touching (predicted, true) node pair on one grid, keyed p * gtCount + g.
 */
export function nodeIntersections(pred: NodeMap, gt: NodeMap): Map<number, number> {
  const out = new Map<number, number>()
  const gtCount = gt.nodes.length
  for (let n = 0; n < pred.ids.length; n++) {
    const p = pred.ids[n], g = gt.ids[n]
    if (p === 0 || g === 0) continue
    const key = pred.indexOfId.get(p)! * gtCount + gt.indexOfId.get(g)!
    out.set(key, (out.get(key) ?? 0) + 1)
  }
  return out
}

/** Voxel IoU of predicted node p and true node g. */
export function nodeIou(pred: NodeMap, gt: NodeMap, intersections: Map<number, number>, p: number, g: number): number {
  const inter = intersections.get(p * gt.nodes.length + g) ?? 0
  return inter / (pred.nodes[p].voxels + gt.nodes[g].voxels - inter)
}

/**
 * Lesion matching, one-to-one and greedy by score (nnDetection's rule): predicted nodes are taken in
 * descending score (ties by id); each claims the still unclaimed true node with the highest voxel IoU
 * among those it qualifies for. It qualifies with IoU ≥ threshold ('iou'), or ('centre') when the
 * voxel at its centroid belongs to the true node. Because high scores claim first, raising a score
 * threshold never changes the matches of the nodes that remain, so one matching serves the whole FROC.
 */
export function matchNodes(pred: NodeMap, gt: NodeMap, criterion: MatchCriterion, intersections = nodeIntersections(pred, gt)): Matching {
  const predToGt = new Int32Array(pred.nodes.length).fill(-1)
  const claimed = new Uint8Array(gt.nodes.length)
  const order = pred.nodes.map((_, p) => p).sort((a, b) => pred.nodes[b].score - pred.nodes[a].score || pred.nodes[a].id - pred.nodes[b].id)
  for (const p of order) {
    let best = -1, bestIou = -1
    for (const g of candidates(pred, gt, intersections, p, criterion)) {
      if (claimed[g]) continue
      const iou = nodeIou(pred, gt, intersections, p, g)
      if (iou > bestIou) { best = g; bestIou = iou }
    }
    if (best >= 0) {
      predToGt[p] = best
      claimed[best] = 1
    }
  }
  return predToGt
}

function candidates(pred: NodeMap, gt: NodeMap, intersections: Map<number, number>, p: number, criterion: MatchCriterion): number[] {
  if (criterion.by === 'centre') {
    const g = gtAtCentre(pred, gt, p)
    return g >= 0 ? [g] : []
  }
  const out: number[] = []
  for (let g = 0; g < gt.nodes.length; g++) {
    if (!intersections.has(p * gt.nodes.length + g)) continue
    if (nodeIou(pred, gt, intersections, p, g) >= criterion.threshold) out.push(g)
  }
  return out
}

/** Index of the true node holding the voxel nearest predicted node p's centroid, or −1. */
function gtAtCentre(pred: NodeMap, gt: NodeMap, p: number): number {
  const c = pred.nodes[p].centre
  const [nx, ny] = pred.gridShape
  const id = gt.ids[Math.round(c[0]) + nx * (Math.round(c[1]) + ny * Math.round(c[2]))]
  return id ? gt.indexOfId.get(id)! : -1
}

/** Parses --match: 'iou:0.1' or 'centre'. */
export function parseMatchCriterion(text: string): MatchCriterion | null {
  if (text === 'centre' || text === 'center') return { by: 'centre' }
  const m = /^iou:([0-9.]+)$/.exec(text)
  if (!m) return null
  const threshold = Number(m[1])
  return threshold > 0 && threshold <= 1 ? { by: 'iou', threshold } : null
}
