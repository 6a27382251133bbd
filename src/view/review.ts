/**
 * A reviewed result: the page sends its final class map (what the reader left after accepting,
 * rejecting, re-classing and brushing) and its decision per node; this turns them into labels,
 * instances and nodes.json, and writes them, with RTSTRUCT and DICOM-SEG when the scan came from DICOM.
 *
 * Node ids after review: a voxel keeps the node it belonged to unless that node was rejected; a voxel
 * the reader painted joins the node it is nearest to through painted voxels (26-connected), or, in a
 * region of new voxels only, a new node (decision "added"); paint touching only a rejected node is
 * dropped with it. A node whose voxels changed is measured again (volume, RECIST axes, centre, box,
 * mean HU, SUVmax); its model scores are kept as they were.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { userInfo } from 'node:os'
import { NodalError } from '../errors.js'
import { classStructureNames } from '../infer/dicom-outputs.js'
import { nodeGeometry } from '../infer/nodes.js'
import { encodeNifti } from '../io/nifti.js'
import { exportLabelVolume } from '../io/rtstruct/export.js'
import { releaseTemp, trackTemp } from '../io/temp.js'
import { connectedComponents, growLabels } from '../volume/components.js'
import { extendBox } from '../volume/crop.js'
import { type Vec3, Volume } from '../volume/volume.js'
import { type ClassInfo, petOnScan, type ViewSession } from './session.js'

/** One node as nodes.json records it (nodal predict's fields, all optional but id and class). */
export interface NodeRecord {
  id: number
  class: string
  class_index: number
  voxels?: number
  volume_ml?: number
  short_axis_mm?: number
  long_axis_mm?: number
  centre_mm?: Vec3
  bbox_voxels?: [Vec3, Vec3]
  bbox_mm?: [Vec3, Vec3]
  mean_hu?: number | null
  suv_max?: number | null
  review?: NodeReview
  [key: string]: unknown
}

export type Decision = 'accepted' | 'rejected' | 'unreviewed'

export interface NodeReview {
  decision: Decision | 'added'
  reviewer: string
  time: string
  /** The class the model gave, when the reader changed it. */
  class_before?: string
  /** The reader drew or erased voxels of this node: its measurements were recomputed. */
  edited?: boolean
}

/** What the page sends with its class map: a decision and (optional) class per node id. */
export interface ReviewRequest {
  decisions: Record<string, { decision: Decision; class_index?: number }>
}

export interface ReviewedResult {
  labels: Volume
  instances: Volume
  nodes: NodeRecord[]
  rejected: NodeRecord[]
}

/** Size, place and intensities of one node of an instance map on the scan grid. */
export function measureReviewedNode(scan: Volume, instances: Uint16Array, id: number, pet: Volume | null): Omit<NodeRecord, 'id' | 'class' | 'class_index'> {
  const [nx, ny] = scan.shape
  const lo: Vec3 = [Infinity, Infinity, Infinity], hi: Vec3 = [-1, -1, -1]
  let voxels = 0, hu = 0, suv = -Infinity
  const petOnScan = pet && pet.data.length === instances.length ? pet : null // on the scan grid (session.ts petOnScan)
  for (let v = 0; v < instances.length; v++) {
    if (instances[v] !== id) continue
    const i = v % nx, j = Math.floor(v / nx) % ny, k = Math.floor(v / (nx * ny))
    voxels++
    hu += scan.data[v]!
    if (petOnScan && petOnScan.data[v]! > suv) suv = petOnScan.data[v]!
    extendBox(lo, hi, i, j, k)
  }
  if (voxels === 0) throw new NodalError('bad-input', `node ${id} has no voxels`)
  const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits
  return {
    voxels, ...nodeGeometry(scan.withData(instances, {}), id, lo, hi),
    mean_hu: String(scan.meta.modality ?? 'CT').toUpperCase() === 'CT' ? round(hu / voxels, 1) : null,
    suv_max: petOnScan ? round(suv) : null,
  }
}

/** Applies the reader's final class map and decisions to the session's nodes. */
export function applyReview(s: ViewSession, finalLabels: Uint8Array, request: ReviewRequest, reviewer: string, time = new Date().toISOString()): ReviewedResult {
  if (finalLabels.length !== s.labels.length) throw new NodalError('bad-input', `the reviewed label map has ${finalLabels.length} voxels; the scan has ${s.labels.length}`)
  const decisionOf = (id: number) => request.decisions[String(id)]?.decision ?? 'unreviewed'
  const rejected = new Set(s.nodes.filter((n) => decisionOf(n.id) === 'rejected').map((n) => n.id))
  const ids = new Uint16Array(finalLabels.length)
  for (let v = 0; v < ids.length; v++) {
    const id = s.instances[v]!
    if (finalLabels[v] && id && !rejected.has(id)) ids[v] = id
  }
  const added = assignPainted(s, finalLabels, ids, rejected)
  const labels = new Uint8Array(finalLabels.length)
  const nodes: NodeRecord[] = []
  const present = new Set<number>()
  for (let v = 0; v < ids.length; v++) if (ids[v]) present.add(ids[v]!)
  const before = new Map(s.nodes.map((n) => [n.id, n]))
  const changed = changedNodes(s.instances, ids)
  const majority = majorityClasses(finalLabels, ids)
  for (const id of [...present].sort((a, b) => a - b)) {
    const old = before.get(id)
    const wanted = request.decisions[String(id)]?.class_index
    const cls = wanted ?? majority.get(id) ?? old?.class_index ?? 1
    const className = classNameOf(s.classes, cls)
    const edited = !old || changed.has(id)
    const measured = edited ? measureReviewedNode(s.scan, ids, id, petOnScan(s)) : {}
    const review: NodeReview = {
      decision: added.has(id) ? 'added' : decisionOf(id), reviewer, time,
      ...(old && old.class_index !== cls ? { class_before: old.class } : {}),
      ...(old && edited ? { edited: true } : {}),
    }
    nodes.push({ ...(old ?? {}), ...measured, id, class: className, class_index: cls, review })
  }
  const classOf = new Map(nodes.map((n) => [n.id, n.class_index]))
  for (let v = 0; v < ids.length; v++) if (ids[v]) labels[v] = classOf.get(ids[v]!)!
  const rejectedNodes = s.nodes.filter((n) => rejected.has(n.id)).map((n) => ({ ...n, review: { decision: 'rejected' as const, reviewer, time } }))
  return {
    labels: s.scan.withData(labels, {}), instances: s.scan.withData(ids, {}), nodes, rejected: rejectedNodes,
  }
}

/**
 * Painted voxels (no surviving node) join the nearest surviving node they connect to: one breadth-first
 * flood through painted voxels from every node at once, so a stroke that bridges two touching nodes is
 * shared between them by distance. Paint reaching no node becomes a new node per 26-connected region
 * (returned), except where the region touches a node the reader rejected: that paint goes with it.
 */
function assignPainted(s: ViewSession, finalLabels: Uint8Array, ids: Uint16Array, rejected: Set<number>): Set<number> {
  const isPainted = (v: number) => finalLabels[v] !== 0 && ids[v] === 0
  let painted = false
  for (let v = 0; v < ids.length; v++) if (isPainted(v)) { painted = true; break }
  if (!painted) return new Set()
  growLabels(ids, s.scan.shape, isPainted)
  const isRejected = (v: number) => s.instances[v] !== 0 && rejected.has(s.instances[v]!)
  const mask = new Uint8Array(ids.length)
  for (let v = 0; v < ids.length; v++) if (isPainted(v) || isRejected(v)) mask[v] = 1
  const { labels: comp, count } = connectedComponents(mask, s.scan.shape, 26)
  const touchesRejected = new Uint8Array(count + 1)
  for (let v = 0; v < ids.length; v++) if (isRejected(v)) touchesRejected[comp[v]!] = 1
  let next = Math.max(0, ...s.nodes.map((n) => n.id), ...rejected) + 1
  const owner = new Int32Array(count + 1) // 0: the painted voxels are dropped with a rejected node
  const added = new Set<number>()
  for (let c = 1; c <= count; c++) if (!touchesRejected[c]) added.add(owner[c] = next++)
  for (let v = 0; v < ids.length; v++) if (isPainted(v)) ids[v] = owner[comp[v]!]!
  return added
}

function changedNodes(before: Uint16Array, after: Uint16Array): Set<number> {
  const changed = new Set<number>()
  for (let v = 0; v < before.length; v++) {
    if (before[v] === after[v]) continue
    if (before[v]) changed.add(before[v]!)
    if (after[v]) changed.add(after[v]!)
  }
  return changed
}

/** The most frequent non-zero class of each node id, in one pass. */
export function majorityClasses(labels: Uint8Array, ids: Uint16Array): Map<number, number> {
  const votes = new Map<number, Map<number, number>>()
  for (let v = 0; v < ids.length; v++) {
    const id = ids[v]!
    if (!id || !labels[v]) continue
    let m = votes.get(id)
    if (!m) votes.set(id, (m = new Map()))
    m.set(labels[v]!, (m.get(labels[v]!) ?? 0) + 1)
  }
  return new Map([...votes].map(([id, m]) => [id, [...m].sort((a, b) => b[1] - a[1])[0]![0]]))
}

function classNameOf(classes: ClassInfo[], index: number): string {
  return classes.find((c) => c.index === index)?.name ?? `class_${index}`
}

/** The reviewer's name: --reviewer, else the operating-system user. */
export function defaultReviewer(): string {
  try {
    return userInfo().username || 'unknown'
  } catch {
    return process.env.USER ?? 'unknown'
  }
}

export const REVIEWED_LABELS = 'labels.nii.gz'
export const REVIEWED_INSTANCES = 'instances.nii.gz'
export const REVIEWED_NODES = 'nodes.json'
export const REVIEWED_RTSTRUCT = 'rtstruct.dcm'
export const REVIEWED_SEG = 'seg.dcm'

/**
 * Writes labels.nii.gz, instances.nii.gz, nodes.json (and for DICOM scans rtstruct.dcm and seg.dcm) into
 * s.out: staged in a temporary folder beside it and renamed into place, so a failed save leaves the
 * previous result (or nothing), never half of one. Returns the files written.
 */
export async function writeReview(s: ViewSession, r: ReviewedResult, reviewer: string, time: string): Promise<string[]> {
  mkdirSync(dirname(s.out), { recursive: true })
  const tmp = trackTemp(`${s.out}.tmp-${process.pid}`)
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp)
  const files = [REVIEWED_LABELS, REVIEWED_INSTANCES, REVIEWED_NODES]
  try {
    writeFileSync(join(tmp, REVIEWED_LABELS), encodeNifti(r.labels, true))
    writeFileSync(join(tmp, REVIEWED_INSTANCES), encodeNifti(r.instances, true))
    writeFileSync(join(tmp, REVIEWED_NODES), JSON.stringify(reviewedNodesJson(s, r, reviewer, time), null, 2) + '\n')
    if (s.dicomDir && r.nodes.length > 0) {
      const names = classStructureNames(s.classes.map((c) => ({ ...c, dataset_labels: [c.index] })))
      const instances = new Map(r.nodes.map((n) => [n.id, { label: n.class_index }]))
      for (const [format, file] of [['rtstruct', REVIEWED_RTSTRUCT], ['seg', REVIEWED_SEG]] as const) {
        await exportLabelVolume(r.instances, s.dicomDir, join(tmp, file), { format, names, instances, source: `${s.name}: the reviewed nodes` })
        files.push(file)
      }
    }
    if (existsSync(s.out)) rmSync(s.out, { recursive: true })
    renameSync(tmp, s.out)
    return files.map((f) => join(s.out, f))
  } finally {
    rmSync(tmp, { recursive: true, force: true })
    releaseTemp(tmp)
  }
}

/** nodes.json of a review: the input's fields kept, nodes replaced, a review summary added. */
export function reviewedNodesJson(s: ViewSession, r: ReviewedResult, reviewer: string, time: string): object {
  const counts: Record<string, number> = {}
  for (const n of [...r.nodes, ...r.rejected]) counts[n.review!.decision] = (counts[n.review!.decision] ?? 0) + 1
  const kind = (n: NodeRecord) => (/malignant|gtv/i.test(n.class) ? 'malignant' : /benign/i.test(n.class) ? 'benign' : n.class)
  return {
    format: 'nodal-nodes',
    version: 1,
    ...(s.nodesJson ?? {}),
    case: s.name,
    input: s.scanPath ?? s.nodesJson?.input ?? null,
    classes: s.nodesJson?.classes ?? s.classes,
    review: { reviewer, time, tool: 'nodal view', decisions: counts, rejected: r.rejected },
    instances: Object.fromEntries(r.nodes.map((n) => [String(n.id), { ...n, class_name: n.class, class: kind(n) }])),
  }
}
