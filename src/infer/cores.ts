/**
 * Nodes grown from predicted cores. A detector trained on `nodal dataset cores` labels the inner part of every
 * node `node_core`; touching nodes have cores apart even where the mask of nodes joins them. The network
 * draws cores a little fatter than they are, so the cores of matted nodes can still meet: the cores are first
 * split at their necks by the same watershed as the masks (separate.ts), which works far better on cores,
 * round and narrow-necked, than on a mask that fills the crease between nodes. Then each connected component
 * of the foreground that holds two or more cores is split into one node per core: every voxel joins the
 * core nearest it (breadth-first from all cores at once, inside the component). A component with one core,
 * or none (a node too small for its core to survive), is one node here.
 *
 * The nodes made here are not final: the caller (nodes.ts) still runs the watershed on the mask of each one.
 * Where the network drew one core over two matted nodes (it saw no crease between them, and the core has no
 * neck), their mask may still have one, and that split recovers the second node. On stage-1 outputs of the 22
 * Dataset021 cases (below): 151 of 168 nodes found, against 150 when the nodes made here were left whole, with
 * as many stray parts (36); on 10 real CTs with inserted nodes, one stray part more (42 against 41).
 */
import { connectedComponents, growLabels } from '../volume/components.js'
import { type SeparateOptions, separateTouching } from './separate.js'
import type { Vec3 } from '../volume/volume.js'

/** Cores smaller than this (mm³) are noise, not seeds: about a voxel of the detector's grid. */
export const DEFAULT_MIN_CORE_MM3 = 8
// chosen on stage-1 outputs of 22 cases of stage 2's training data (Dataset021) that the core detector never trained on,
// against their true instances: malignant nodes found 53 of 59 at 0.85, 50 at 0.7, against 48 without cores
export const DEFAULT_CORE_NECK_RATIO = 0.85
/** The watershed on cores keeps parts down to this size (mm³): a core is much smaller than its node. */
export const DEFAULT_MIN_CORE_PART_MM3 = 30

export interface CoreOptions {
  /** Default DEFAULT_MIN_CORE_MM3. */
  minCoreMm3?: number
  /** The watershed on the cores (separate.ts); false leaves each connected core whole. */
  splitCores?: SeparateOptions | false
}

export interface CoreComponents {
  /** Instance ids 1..count (0 background). */
  ids: Int32Array
  count: number
}

/**
 * Instances of `labels` (class per voxel, 0 background) whose class `coreClass` marks node cores. Core voxels
 * of `labels` are rewritten in place to `nodeClass`.
 */
export function componentsFromCores(labels: { [i: number]: number; length: number }, shape: Vec3, spacing: Vec3, coreClass: number, nodeClass: number, o: CoreOptions = {}): CoreComponents {
  const n = labels.length
  const foreground = new Uint8Array(n), core = new Uint8Array(n)
  for (let v = 0; v < n; v++) {
    foreground[v] = labels[v] !== 0 ? 1 : 0
    core[v] = labels[v] === coreClass ? 1 : 0
  }
  const components = connectedComponents(foreground, shape, 26)
  const cores = connectedComponents(core, shape, 26)
  const split = o.splitCores ?? { neckRatio: DEFAULT_CORE_NECK_RATIO, minVolumeMm3: DEFAULT_MIN_CORE_PART_MM3 }
  if (split) cores.count = separateTouching(cores.labels, cores.count, shape, spacing, split)
  const minVoxels = (o.minCoreMm3 ?? DEFAULT_MIN_CORE_MM3) / (spacing[0] * spacing[1] * spacing[2])
  const coreSize = new Int32Array(cores.count + 1)
  for (let v = 0; v < n; v++) coreSize[cores.labels[v]!]!++
  // the cores of each component, in order of first voxel
  const coresOf = new Map<number, number[]>()
  for (let v = 0; v < n; v++) {
    const c = cores.labels[v]!
    if (c === 0 || coreSize[c]! < minVoxels) continue
    const list = coresOf.get(components.labels[v]!) ?? []
    if (!list.includes(c)) list.push(c)
    coresOf.set(components.labels[v]!, list)
  }
  const ids = new Int32Array(n)
  // one id per component; the cores of a split component get ids after all components
  let count = components.count
  const coreId = new Int32Array(cores.count + 1)
  for (const [, list] of coresOf) {
    if (list.length < 2) continue
    for (const c of list) coreId[c] = ++count
  }
  for (let v = 0; v < n; v++) if (coreId[cores.labels[v]!]) ids[v] = coreId[cores.labels[v]!]!
  const severalCores = (v: number) => (coresOf.get(components.labels[v]!)?.length ?? 0) >= 2
  growLabels(ids, shape, severalCores)
  for (let v = 0; v < n; v++) {
    const comp = components.labels[v]!
    if (comp === 0) continue
    if (!severalCores(v)) ids[v] = comp
    if (labels[v] === coreClass) labels[v] = nodeClass
  }
  // ids of split components are no longer used: renumber 1..m without gaps
  return renumber(ids)
}

function renumber(ids: Int32Array): CoreComponents {
  const map = new Map<number, number>()
  for (let v = 0; v < ids.length; v++) {
    const id = ids[v]!
    if (id === 0) continue
    let m = map.get(id)
    if (m === undefined) { m = map.size + 1; map.set(id, m) }
    ids[v] = m
  }
  return { ids, count: map.size }
}
