/**
 * Datasets for a detector that keeps touching nodes apart, made from the source's instance maps
 * (instancesTr, as nodal phantom writes them), which know which node each voxel belongs to. Every node is
 * label 1 (`node`); label 2 is one of:
 *   - borders (`node_border`): the voxels where a node touches another one, within `borderMm` of it. This is
 *     the three-class scheme used for touching cells and nuclei; nodal predict splits nodes along it.
 *   - cores (`node_core`): each node's inner part, its voxels at least `coreMm` (or half the node's own
 *     greatest depth, if less) from anything that is not that node. Two touching nodes have cores apart by
 *     twice that depth; nodal predict grows one node from each core (src/infer/cores.ts). A core is a blob as
 *     big as a node's middle, where a border is one or two voxels thin: the network learns it far more easily.
 *
 * Images and instance maps are referenced (relative paths, as dataset merge does); only the labels are new.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { BORDER_CLASS, CORE_CLASS } from '../bundle/schema.js'
import { squaredDistanceTransform } from '../eval/edt.js'
import { NodalError } from '../errors.js'
import { readVolume, writeVolume } from '../io/index.js'
import { componentBoxes } from '../volume/components.js'
import type { Vec3, Volume } from '../volume/volume.js'
import { LABELS_DIR, isSyntheticDataset, labelFileName, readDataset, writeDatasetJson } from './layout.js'

export const BORDER_LABELS = { background: 0, node: 1, [BORDER_CLASS]: 2 } as const
export const DEFAULT_BORDER_MM = 2
export const CORE_LABELS = { background: 0, node: 1, [CORE_CLASS]: 2 } as const
export const DEFAULT_CORE_MM = 3

/** Which label 2 a dataset gets, and how deep it reaches (mm). */
export type HelperScheme = { kind: 'borders'; mm: number } | { kind: 'cores'; mm: number }

export interface BordersResult {
  path: string
  cases: number
  /** Voxels labelled 2 (node_border or node_core), over all cases. */
  borderVoxels: number
  /** Cases with at least one voxel of label 2 (for borders: a pair of touching nodes). */
  casesWithBorders: number
}

interface WriteOptions { name?: string; onCase?: (done: number, total: number) => void }

export function writeBorderDataset(source: string, out: string, o: WriteOptions & { borderMm?: number } = {}): Promise<BordersResult> {
  return writeHelperDataset(source, out, { kind: 'borders', mm: o.borderMm ?? DEFAULT_BORDER_MM }, o)
}

export function writeCoreDataset(source: string, out: string, o: WriteOptions & { coreMm?: number } = {}): Promise<BordersResult> {
  return writeHelperDataset(source, out, { kind: 'cores', mm: o.coreMm ?? DEFAULT_CORE_MM }, o)
}

async function writeHelperDataset(source: string, out: string, scheme: HelperScheme, o: WriteOptions): Promise<BordersResult> {
  const ds = readDataset(source)
  const outDir = resolve(out)
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new NodalError('bad-input', `${outDir}: exists and is not empty; give a new folder`)
  const missing = ds.cases.find((c) => !c.instances || !existsSync(c.instances.map))
  if (missing) throw new NodalError('bad-dataset', `${ds.root}: case "${missing.name}" has no instance map (instancesTr); ${scheme.kind} need to know which node each voxel belongs to`)
  const tmp = `${outDir}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(join(tmp, LABELS_DIR), { recursive: true })
  try {
    const list: Record<string, unknown> = {}
    const patients: Record<string, string> = {}
    let borderVoxels = 0, casesWithBorders = 0
    for (const [i, c] of ds.cases.entries()) {
      const instances = await readVolume(c.instances!.map)
      const labels = scheme.kind === 'borders' ? borderLabels(instances, scheme.mm) : coreLabels(instances, scheme.mm)
      const n = countValue(labels.data, 2)
      borderVoxels += n
      if (n > 0) casesWithBorders++
      const file = labelFileName(c.name, ds.json.file_ending)
      await writeVolume(labels, join(tmp, LABELS_DIR, file))
      const rel = (p: string) => relative(outDir, p)
      list[c.name] = { images: c.images.map(rel), label: `${LABELS_DIR}/${file}`, instances: { map: rel(c.instances!.map), json: rel(c.instances!.json) } }
      if (c.patient) patients[c.name] = c.patient
      o.onCase?.(i + 1, ds.cases.length)
    }
    writeDatasetJson(tmp, {
      channelNames: ds.json.channel_names, labels: scheme.kind === 'borders' ? { ...BORDER_LABELS } : { ...CORE_LABELS }, numTraining: ds.cases.length, fileEnding: ds.json.file_ending,
      name: o.name ?? `${ds.json.name ?? 'dataset'}_${scheme.kind}`,
      description: scheme.kind === 'borders'
        ? `Nodes (1) and the borders between touching nodes (2, within ${scheme.mm} mm) of ${relative(outDir, ds.root)}, by nodal dataset borders`
        : `Nodes (1) and their cores (2, at least ${scheme.mm} mm or half the node's depth inside) of ${relative(outDir, ds.root)}, by nodal dataset cores`,
      // node_labels: the source's labels that `node` stands for, so a detector trained here evaluates against the source
      extra: { dataset: list, nodal: { [`${scheme.kind}_of`]: relative(outDir, ds.root), [scheme.kind === 'borders' ? 'border_mm' : 'core_mm']: scheme.mm, node_labels: ds.labels.foreground, synthetic: isSyntheticDataset(ds.json), patients } },
    })
    rmSync(outDir, { recursive: true, force: true })
    renameSync(tmp, outDir)
    return { path: join(outDir, 'dataset.json'), cases: ds.cases.length, borderVoxels, casesWithBorders }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    throw e
  }
}

/**
 * Labels of an instance map: 1 for every node voxel, 2 for a node voxel within `borderMm` (Euclidean, in mm)
 * of a voxel of another node. Voxels next to background only stay 1: the outer edge is not a border.
 */
export function borderLabels(instances: Volume, borderMm: number): Volume {
  const [nx, ny, nz] = instances.shape
  const sp = instances.spacing
  const r = sp.map((s) => Math.floor(borderMm / s)) as Vec3
  const offsets: number[][] = []
  for (let dk = -r[2]; dk <= r[2]; dk++) for (let dj = -r[1]; dj <= r[1]; dj++) for (let di = -r[0]; di <= r[0]; di++) {
    if ((di || dj || dk) && Math.hypot(di * sp[0], dj * sp[1], dk * sp[2]) <= borderMm) offsets.push([di, dj, dk])
  }
  const ids = instances.data
  const out = new Uint8Array(ids.length)
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const v = i + nx * (j + ny * k)
    const id = ids[v]!
    if (id === 0) continue
    out[v] = 1
    for (const [di, dj, dk] of offsets) {
      const a = i + di!, b = j + dj!, c = k + dk!
      if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz) continue
      const other = ids[a + nx * (b + ny * c)]!
      if (other !== 0 && other !== id) { out[v] = 2; break }
    }
  }
  return instances.withData(out, { ...instances.meta, modality: undefined })
}

/**
 * Labels of an instance map: 1 for every node voxel, 2 for a node's core: its voxels whose distance (mm, to
 * the nearest voxel centre that is not that node: background or another node) is at least `coreMm`, or half
 * the node's greatest such distance where that is less (so every node has a core, however small).
 */
export function coreLabels(instances: Volume, coreMm: number): Volume {
  const [nx, ny] = instances.shape
  const ids = instances.data
  const out = new Uint8Array(ids.length)
  let count = 0
  for (let v = 0; v < ids.length; v++) if (ids[v]! > count) count = ids[v]!
  for (const [id, box] of componentBoxes(ids, count, instances.shape).entries()) {
    if (!box) continue
    // the node's box with one voxel of margin all round, so the distance map sees its outside
    const lo = box.lo.map((v) => v - 1) as Vec3
    const size = box.hi.map((v, d) => v - lo[d]! + 2) as Vec3
    const n = size[0] * size[1] * size[2]
    const outside = new Uint8Array(n).fill(1)
    const flat = new Int32Array(n).fill(-1)
    for (let k = 1; k < size[2] - 1; k++) for (let j = 1; j < size[1] - 1; j++) for (let i = 1; i < size[0] - 1; i++) {
      const v = lo[0] + i + nx * (lo[1] + j + ny * (lo[2] + k))
      if (ids[v] !== id) continue
      const w = i + size[0] * (j + size[1] * k)
      outside[w] = 0
      flat[w] = v
    }
    const sq = squaredDistanceTransform(outside, size, instances.spacing)
    let deepest = 0
    for (let w = 0; w < n; w++) if (!outside[w] && sq[w]! > deepest) deepest = sq[w]!
    const threshold = Math.min(coreMm, Math.sqrt(deepest) / 2) ** 2
    for (let w = 0; w < n; w++) if (!outside[w]) out[flat[w]!] = sq[w]! >= threshold ? 2 : 1
  }
  return instances.withData(out, { ...instances.meta, modality: undefined })
}

function countValue(data: ArrayLike<number>, value: number): number {
  let n = 0
  for (let v = 0; v < data.length; v++) if (data[v] === value) n++
  return n
}
