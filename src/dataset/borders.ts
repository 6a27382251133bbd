/**
 * A dataset for a detector that keeps touching nodes apart: every node is label 1 (`node`), and the voxels
 * where a node touches another one, within `borderMm` of it, are label 2 (`node_border`). This is the
 * three-class scheme used for touching cells and nuclei: a network that learns the border between two
 * instances can separate matted nodes where a mask of nodes alone joins them, and nodal predict splits
 * the nodes along it (src/infer/nodes.ts). The instances come from the source's instance maps
 * (instancesTr, as nodal phantom writes them), which know which node each voxel belongs to.
 *
 * Images and instance maps are referenced (relative paths, as dataset merge does); only the labels are new.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { BORDER_CLASS } from '../bundle/schema.js'
import { NodalError } from '../errors.js'
import { readVolume, writeVolume } from '../io/index.js'
import type { Vec3, Volume } from '../volume/volume.js'
import { LABELS_DIR, isSyntheticDataset, labelFileName, readDataset, writeDatasetJson } from './layout.js'

export const BORDER_LABELS = { background: 0, node: 1, [BORDER_CLASS]: 2 } as const
export const DEFAULT_BORDER_MM = 2

export interface BordersResult {
  path: string
  cases: number
  /** Voxels labelled node_border, over all cases. */
  borderVoxels: number
  /** Cases with at least one pair of touching nodes. */
  casesWithBorders: number
}

export async function writeBorderDataset(source: string, out: string, o: { borderMm?: number; name?: string; onCase?: (done: number, total: number) => void } = {}): Promise<BordersResult> {
  const ds = readDataset(source)
  const outDir = resolve(out)
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new NodalError('bad-input', `${outDir}: exists and is not empty; give a new folder`)
  const missing = ds.cases.find((c) => !c.instances || !existsSync(c.instances.map))
  if (missing) throw new NodalError('bad-dataset', `${ds.root}: case "${missing.name}" has no instance map (instancesTr); borders need to know which node each voxel belongs to`)
  const tmp = `${outDir}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(join(tmp, LABELS_DIR), { recursive: true })
  try {
    const list: Record<string, unknown> = {}
    const patients: Record<string, string> = {}
    let borderVoxels = 0, casesWithBorders = 0
    for (const [i, c] of ds.cases.entries()) {
      const instances = await readVolume(c.instances!.map)
      const labels = borderLabels(instances, o.borderMm ?? DEFAULT_BORDER_MM)
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
      channelNames: ds.json.channel_names, labels: { ...BORDER_LABELS }, numTraining: ds.cases.length, fileEnding: ds.json.file_ending,
      name: o.name ?? `${ds.json.name ?? 'dataset'}_borders`,
      description: `Nodes (1) and the borders between touching nodes (2, within ${o.borderMm ?? DEFAULT_BORDER_MM} mm) of ${relative(outDir, ds.root)}, by nodal dataset borders`,
      extra: { dataset: list, nodal: { borders_of: relative(outDir, ds.root), border_mm: o.borderMm ?? DEFAULT_BORDER_MM, synthetic: isSyntheticDataset(ds.json), patients } },
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

function countValue(data: ArrayLike<number>, value: number): number {
  let n = 0
  for (let v = 0; v < data.length; v++) if (data[v] === value) n++
  return n
}
