/**
 * Nodes apart along a predicted border class. A detector trained on `nodal dataset borders` labels the voxels
 * where two nodes touch as `node_border`: the nodes are the connected pieces of what is left (node voxels
 * without the border), and every border voxel then joins the piece nearest it, growing outward from all
 * pieces at once. Border voxels no piece reaches form nodes of their own. A border left open somewhere
 * (a few node voxels still bridge the pieces) is cut by the watershed, which reads it as a crease
 * (separate.ts).
 */
import { connectedComponents, growLabels } from '../volume/components.js'
import type { Vec3 } from '../volume/volume.js'

/**
 * Instance ids (1..count, 0 background) of `labels` (class per voxel, 0 background) whose class
 * `borderClass` marks borders between nodes. Border voxels of `labels` are rewritten in place to `nodeClass`.
 */
export function componentsAcrossBorders(labels: { [i: number]: number; length: number }, shape: Vec3, borderClass: number, nodeClass: number): { ids: Int32Array; count: number } {
  const n = labels.length
  const interior = new Uint8Array(n)
  for (let v = 0; v < n; v++) interior[v] = labels[v] !== 0 && labels[v] !== borderClass ? 1 : 0
  const { labels: ids, count } = connectedComponents(interior, shape, 26)
  growLabels(ids, shape, (v) => labels[v] === borderClass)
  // what no piece reached: border-only blobs, each a node of its own
  const left = new Uint8Array(n)
  for (let v = 0; v < n; v++) left[v] = labels[v] === borderClass && ids[v] === 0 ? 1 : 0
  const orphans = connectedComponents(left, shape, 26)
  for (let v = 0; v < n; v++) {
    if (labels[v] !== borderClass) continue
    labels[v] = nodeClass
    if (orphans.labels[v]) ids[v] = count + orphans.labels[v]!
  }
  return { ids, count: count + orphans.count }
}
