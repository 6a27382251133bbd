/**
 * What `nodal view` shows: one scan (and optionally PET, a label map and its nodes.json), held in memory
 * by the server. Inputs are read with nodal's own readers (src/io), so anything `nodal predict` reads
 * opens here; the page receives the scan as NIfTI and the labels and node ids as raw voxel arrays in the
 * scan's own voxel order.
 *
 * Node identity: a label map holds classes, not nodes. The node id of each voxel comes from the
 * `instances.nii.gz` that `nodal predict` writes next to labels.nii.gz when it is there and on the same
 * grid; otherwise from the label map's 26-connected components, each matched to the nodes.json record
 * whose centre lies in it (or whose box it overlaps most). Components no record claims become nodes of
 * their own (measured here), so a bare label map still gives a node table.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { badInput, NodalError } from '../errors.js'
import { readLabelMap, readVolume } from '../io/index.js'
import { connectedComponents } from '../volume/components.js'
import { resampleTo } from '../volume/resample.js'
import { sameGrid, type Vec3, Volume, worldToIndex } from '../volume/volume.js'
import { majorityClasses, measureReviewedNode, type NodeRecord } from './review.js'

export interface ClassInfo {
  index: number
  name: string
}

/** The classes a label map uses when no nodes.json names them (nodal phantom's and nodes_multi's). */
export const DEFAULT_CLASSES: ClassInfo[] = [
  { index: 0, name: 'background' },
  { index: 1, name: 'benign_node' },
  { index: 2, name: 'malignant_node' },
]

export interface ViewSession {
  /** Case name: the scan's file or folder name without extension. */
  name: string
  scan: Volume
  /** The scan's path, or null for data uploaded from the page. */
  scanPath: string | null
  /** The DICOM series folder the scan was read from (RTSTRUCT/SEG export refer to it), else null. */
  dicomDir: string | null
  pet: Volume | null
  /** Class per voxel on the scan grid (uint8). */
  labels: Uint8Array
  /** Node id per voxel on the scan grid (uint16; 0 none). */
  instances: Uint16Array
  nodes: NodeRecord[]
  classes: ClassInfo[]
  /** nodes.json as read (its other fields are kept when saving), or null. */
  nodesJson: Record<string, unknown> | null
  /** Where a review is saved. */
  out: string
}

export interface SessionInputs {
  scan: string
  labels?: string
  nodes?: string
  pet?: string
  out?: string
}

/** The case name of a scan path: samples/ct/chest.nii.gz -> chest; a DICOM folder -> its name. */
export function caseName(path: string): string {
  return basename(resolve(path)).replace(/\.(nii\.gz|nii|nrrd|nhdr|mha|mhd)$/i, '') || 'scan'
}

export async function openSession(inputs: SessionInputs): Promise<ViewSession> {
  const scan = await readVolume(inputs.scan)
  const isDicom = statSync(inputs.scan).isDirectory()
  const pet = inputs.pet ? await readVolume(inputs.pet) : null
  const name = caseName(inputs.scan)
  const out = inputs.out ?? join(dirname(resolve(inputs.scan)), `${name}-reviewed`)
  const session = emptySession(name, scan, out, { scanPath: inputs.scan, dicomDir: isDicom ? inputs.scan : null, pet })
  if (inputs.nodes && !inputs.labels) throw new NodalError('usage', 'view: --nodes needs the label map it describes (--labels) (see nodal view --help)')
  if (inputs.labels) {
    const labels = await readLabelMap(inputs.labels)
    const json = inputs.nodes ? readNodesJson(inputs.nodes) : null
    const instancesFile = join(dirname(inputs.labels), 'instances.nii.gz')
    const instances = existsSync(instancesFile) && inputs.nodes ? await readLabelMap(instancesFile, { maxValues: 65535 }) : null
    attachLabels(session, labels, instances, json, inputs.labels)
  }
  return session
}

export function emptySession(name: string, scan: Volume, out: string, o: { scanPath?: string | null; dicomDir?: string | null; pet?: Volume | null } = {}): ViewSession {
  return {
    name, scan, scanPath: o.scanPath ?? null, dicomDir: o.dicomDir ?? null, pet: o.pet ?? null,
    labels: new Uint8Array(scan.data.length), instances: new Uint16Array(scan.data.length),
    nodes: [], classes: DEFAULT_CLASSES, nodesJson: null, out,
  }
}

function readNodesJson(path: string): Record<string, unknown> {
  let json: Record<string, unknown>
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw badInput(path, `is not valid JSON (${(e as Error).message.split('\n')[0]})`)
  }
  if (typeof json !== 'object' || json === null || typeof json.instances !== 'object' || json.instances === null) {
    throw badInput(path, 'is not a nodes.json (no "instances" object; nodal predict writes one)')
  }
  return json
}

/**
 * Puts a label map (and its nodes) into a session: onto the scan grid (nearest neighbour, by world
 * coordinates) when it is on another grid, then node ids from `instances` or from components.
 */
export function attachLabels(s: ViewSession, labelsIn: Volume, instancesIn: Volume | null, json: Record<string, unknown> | null, source = 'the label map'): void {
  const onScan = (v: Volume) => (sameGrid(v, s.scan) ? v : resampleTo(v, s.scan.grid, { interpolation: 'nearest' }))
  const labelVol = onScan(labelsIn)
  const labels = new Uint8Array(labelVol.data.length)
  for (let v = 0; v < labels.length; v++) {
    const x = labelVol.data[v]!
    if (x > 255) throw badInput(source, `holds label ${x}; a class map holds small class numbers (give instances as nodes.json + labels)`)
    labels[v] = x
  }
  const records = json ? recordsOf(json) : []
  const classes = json && Array.isArray(json.classes) ? (json.classes as ClassInfo[]).map((c) => ({ index: c.index, name: c.name })) : DEFAULT_CLASSES
  let instances: Uint16Array
  if (instancesIn) {
    const inst = onScan(instancesIn)
    instances = Uint16Array.from(inst.data as ArrayLike<number>, (x, v) => (labels[v] ? x : 0))
  } else {
    instances = matchComponents(labels, s.scan, records)
  }
  const byId = new Map(records.map((r) => [r.id, r]))
  const present = new Set<number>()
  for (let v = 0; v < instances.length; v++) if (instances[v]) present.add(instances[v]!)
  const nodes: NodeRecord[] = []
  const majority = majorityClasses(labels, instances)
  for (const id of [...present].sort((a, b) => a - b)) {
    const known = byId.get(id)
    if (known) nodes.push(known)
    else {
      const m = measureReviewedNode(s.scan, instances, id, petOnScan(s))
      const cls = majority.get(id) ?? 1
      nodes.push({ id, class: classes.find((c) => c.index === cls)?.name ?? `class_${cls}`, class_index: cls, ...m })
    }
  }
  s.labels = labels
  s.instances = instances
  s.nodes = nodes
  s.classes = classes
  s.nodesJson = json
}

function recordsOf(json: Record<string, unknown>): NodeRecord[] {
  return Object.entries(json.instances as Record<string, Record<string, unknown>>).map(([key, r]) => ({
    ...r, id: Number(r.id ?? key), class: String(r.class_name ?? r.class ?? 'node'), class_index: Number(r.class_index ?? 1),
  }) as NodeRecord)
}

/** Node ids from components: each record claims the component holding its centre, else the one its box overlaps most. */
function matchComponents(labels: Uint8Array, grid: Volume, records: NodeRecord[]): Uint16Array {
  const { labels: comp, count } = connectedComponents(labels, grid.shape, 26)
  const owner = new Int32Array(count + 1)
  const [nx, ny, nz] = grid.shape
  for (const r of records) {
    let c = 0
    if (Array.isArray(r.centre_mm)) {
      const ijk = worldToIndex(grid, r.centre_mm as Vec3).map(Math.round)
      if (ijk.every((x, d) => x >= 0 && x < grid.shape[d]!)) c = comp[ijk[0]! + nx * (ijk[1]! + ny * ijk[2]!)]!
    }
    if ((!c || owner[c]) && Array.isArray(r.bbox_voxels)) {
      const [lo, hi] = r.bbox_voxels as [Vec3, Vec3]
      const votes = new Map<number, number>()
      for (let k = Math.max(0, lo[2]); k <= Math.min(nz - 1, hi[2]); k++) {
        for (let j = Math.max(0, lo[1]); j <= Math.min(ny - 1, hi[1]); j++) {
          for (let i = Math.max(0, lo[0]); i <= Math.min(nx - 1, hi[0]); i++) {
            const x = comp[i + nx * (j + ny * k)]!
            if (x && !owner[x]) votes.set(x, (votes.get(x) ?? 0) + 1)
          }
        }
      }
      c = [...votes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0
    }
    if (c && !owner[c]) owner[c] = r.id
  }
  let next = Math.max(0, ...records.map((r) => r.id)) + 1
  for (let c = 1; c <= count; c++) if (!owner[c]) owner[c] = next++
  const out = new Uint16Array(labels.length)
  for (let v = 0; v < out.length; v++) out[v] = comp[v] ? owner[comp[v]!]! : 0
  return out
}

const petCache = new WeakMap<Volume, Volume>()

/** PET on the scan's grid (linear, by world coordinates, as nodal predict reads it for SUVmax), or null. */
export function petOnScan(s: ViewSession): Volume | null {
  if (!s.pet) return null
  if (sameGrid(s.pet, s.scan)) return s.pet
  if (!petCache.has(s.pet)) petCache.set(s.pet, resampleTo(s.pet, s.scan.grid, { interpolation: 'linear' }))
  return petCache.get(s.pet)!
}
