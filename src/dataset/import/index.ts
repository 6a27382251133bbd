/**
 * `nodal dataset import`: clinical DICOM studies with RT Structure Sets or DICOM-SEG into an nnU-Net v2
 * raw dataset, so a clinic's outlines can be trained on without scripting.
 *
 *   walk the tree (dicom-tree.ts) -> each structure set finds the image series it was drawn on by UIDs
 *   (Referenced Series, then the SOP Instances it names, then Frame of Reference within its study)
 *   -> one case per image series (a SEG is preferred over an RTSTRUCT on the same series, then the newest)
 *   -> structures mapped to labels by --map rules (rules.ts), rasterised on the image grid, earlier rules
 *   winning where structures overlap -> PET of the same study as channel 1, resampled by world coordinates
 *   -> imagesTr, labelsTr, dataset.json, import_report.json and .csv, written to a temporary folder and
 *   renamed into place, so a failed import leaves nothing behind.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { releaseTemp, trackTemp } from '../../io/temp.js'
import { basename, dirname, join, resolve } from 'node:path'
import { NodalError } from '../../errors.js'
import { squaredDistanceTransform } from '../../eval/edt.js'
import { str } from '../../io/dicom/header.js'
import { type DicomSeries, volumeFromSeries } from '../../io/dicom/series.js'
import { writeVolume } from '../../io/index.js'
import { rasterizeRoi, readRtstruct } from '../../io/rtstruct/read.js'
import { readSeg, segmentOnGrid } from '../../io/seg/read.js'
import { resampleTo } from '../../volume/resample.js'
import { type Grid, Volume } from '../../volume/volume.js'
import { imageFileName, labelFileName, writeDatasetJson } from '../layout.js'
import { type SortedTree, type StructureSetFile, sortTree, walkDicomTree } from './dicom-tree.js'
import { writeImportReport, type ImportReport, type CaseReport, type RoiReport, type SkippedReport } from './report.js'
import { labelNames, matchRule, type MapRule, parseMapRules } from './rules.js'

export type { ImportReport } from './report.js'
export { parseMapRules } from './rules.js'

/** nnU-Net's ignore label for partly outlined datasets: the highest label value. */
export const IGNORE_VALUE = 255
export const DEFAULT_PARTIAL_MARGIN_MM = 20

export interface DicomImportOptions {
  input: string
  out: string
  map: string
  name?: string
  /** Only partly outlined: voxels farther than marginMm from every outlined structure get the ignore label. */
  partial?: { marginMm: number } | null
  onProgress?: (stage: string, done: number, total: number) => void
  shouldStop?: () => boolean
}

interface CaseTarget {
  series: DicomSeries
  used: StructureSetFile
  pet: DicomSeries | null
}

export async function importDicom(o: DicomImportOptions): Promise<ImportReport> {
  const rules = parseMapRules(o.map)
  const input = resolve(o.input)
  if (!existsSync(input)) throw new NodalError('not-found', `${input}: no such folder`)
  const out = checkedOut(o.out)
  const tree = walkDicomTree(input, (n) => o.onProgress?.('scan', n, 0))
  try {
    const sorted = sortTree(tree)
    if (sorted.structureSets.length === 0) {
      throw new NodalError('bad-input', `${input}: no RT Structure Set or DICOM-SEG among ${tree.headers.length} DICOM files (${tree.nonDicom} other files)`)
    }
    const skipped: SkippedReport[] = tree.unreadable.map((u) => ({ patient_id: '', study_uid: '', file: u.file, reason: `unreadable DICOM file: ${u.reason}` }))
    const targets = chooseTargets(sorted, skipped, rules)
    const withPet = targets.filter((t) => t.pet).length
    const usePet = targets.length > 0 && withPet === targets.length
    const notes: string[] = []
    if (withPet > 0 && !usePet) notes.push(`PET left out: only ${withPet} of ${targets.length} studies have a PET series (every case needs every channel)`)
    const tmp = trackTemp(`${out}.tmp-${process.pid}`)
    rmSync(tmp, { recursive: true, force: true })
    mkdirSync(join(tmp, 'imagesTr'), { recursive: true })
    mkdirSync(join(tmp, 'labelsTr'), { recursive: true })
    try {
      const cases: CaseReport[] = []
      const patients: Record<string, string> = {}
      for (const [i, t] of targets.entries()) {
        if (o.shouldStop?.()) throw new NodalError('interrupted', `dataset import interrupted after ${i} of ${targets.length} studies; nothing was written`)
        const name = `${o.name ?? 'case'}_${String(cases.length).padStart(3, '0')}`
        const result = await importCase(t, name, tmp, rules, usePet, o.partial ?? null)
        if ('reason' in result) skipped.push(result)
        else { cases.push(result); patients[name] = result.patient_id || name }
        o.onProgress?.('import', i + 1, targets.length)
      }
      if (cases.length === 0) throw new NodalError('bad-input', `${input}: no study could be imported (${skipped.map((s) => s.reason).filter((r, k, a) => a.indexOf(r) === k).slice(0, 3).join('; ')})`)
      const labels = labelNames(rules)
      if (o.partial) labels.ignore = IGNORE_VALUE
      writeDatasetJson(tmp, {
        channelNames: usePet ? { 0: cases[0]!.modality, 1: 'PET' } : { 0: cases[0]!.modality }, labels, numTraining: cases.length,
        name: o.name ?? basename(out), description: `Imported by nodal dataset import from ${input}`,
        extra: { nodal: { patients, imported_from: input, map: o.map, ...(o.partial ? { partial_margin_mm: o.partial.marginMm } : {}) } },
      })
      const report: ImportReport = {
        input, out, map: rules.map((r) => ({ rule: r.text, label: r.label, name: r.name })), files: { dicom: tree.headers.length, other: tree.nonDicom, unreadable: tree.unreadable.length, zips: tree.zips },
        channels: usePet ? [cases[0]!.modality, 'PET'] : [cases[0]!.modality], partial_margin_mm: o.partial?.marginMm ?? null,
        roi_names: roiNameTable(cases, skipped), cases, skipped, notes,
      }
      writeImportReport(tmp, report)
      rmSync(out, { recursive: true, force: true })
      renameSync(tmp, out)
      return report
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true })
      throw e
    } finally {
      releaseTemp(tmp)
    }
  } finally {
    tree.dispose()
  }
}

function checkedOut(path: string): string {
  const out = resolve(path)
  if (existsSync(out) && readdirSync(out).length > 0) throw new NodalError('bad-output', `${out}: exists and is not empty; give a new folder`)
  if (!existsSync(dirname(out))) throw new NodalError('bad-output', `${dirname(out)}: no such folder`)
  return out
}

/**
 * One target per image series that a structure set refers to. Structure sets whose series is not in
 * the tree, and extra structure sets on a series that already has one, are reported as skipped.
 */
function chooseTargets(tree: SortedTree, skipped: SkippedReport[], rules: MapRule[]): CaseTarget[] {
  const bySeries = new Map(tree.series.map((s) => [s.seriesInstanceUid, s]))
  const seriesOfInstance = new Map<string, DicomSeries>()
  for (const s of tree.series) for (const h of s.headers) seriesOfInstance.set(str(h.ds, 'SOPInstanceUID'), s)
  const onSeries = new Map<DicomSeries, StructureSetFile[]>()
  for (const ss of tree.structureSets) {
    const series = referencedSeries(ss, bySeries, seriesOfInstance, tree.series)
    if (!series) {
      const wanted = ss.referencedSeries[0] ?? (ss.frameOfReferenceUid ? `frame of reference ${ss.frameOfReferenceUid}` : 'none named')
      skipped.push({ patient_id: ss.patientId, study_uid: ss.studyUid, file: ss.file, reason: `the image series it refers to is not in the folder (${wanted})`, rois: unusedRois(ss, rules) })
      continue
    }
    if (!onSeries.has(series)) onSeries.set(series, [])
    onSeries.get(series)!.push(ss)
  }
  const targets: CaseTarget[] = []
  for (const [series, sets] of onSeries) {
    // a SEG is exact on the voxel grid, an RTSTRUCT is polygons to rasterise: prefer SEG, then the newest
    const ranked = sets.slice().sort((a, b) => (a.kind === b.kind ? (b.when.localeCompare(a.when) || a.sopInstanceUid.localeCompare(b.sopInstanceUid)) : a.kind === 'SEG' ? -1 : 1))
    const used = ranked[0]!
    for (const other of ranked.slice(1)) {
      skipped.push({ patient_id: other.patientId, study_uid: other.studyUid, file: other.file, reason: `another structure set on the same series was used (${used.kind} ${basename(used.file)})`, rois: unusedRois(other, rules) })
    }
    targets.push({ series, used, pet: petOfStudy(series, tree.series) })
  }
  return targets.sort((a, b) => sortKey(a).localeCompare(sortKey(b)))
}

/** The structures of a structure set that was not used, with the label each would have had. */
function unusedRois(ss: StructureSetFile, rules: MapRule[]): RoiReport[] {
  return ss.names.map((name) => {
    const m = matchRule(rules, name)
    return { name, label: m?.label ?? null, rule: m ? rules[m.rule]!.text : null, status: 'structure set not used', voxels: 0, voxels_lost_to_overlap: 0 }
  })
}

function referencedSeries(ss: StructureSetFile, bySeries: Map<string, DicomSeries>, seriesOfInstance: Map<string, DicomSeries>, all: DicomSeries[]): DicomSeries | null {
  for (const uid of ss.referencedSeries) if (bySeries.has(uid)) return bySeries.get(uid)!
  for (const uid of ss.referencedInstances) if (seriesOfInstance.has(uid)) return seriesOfInstance.get(uid)!
  if (ss.referencedSeries.length > 0 || ss.referencedInstances.length > 0) return null
  // nothing named: the one non-PET image series of its study on its frame of reference
  const candidates = all.filter((s) => s.modality !== 'PT' && str(s.headers[0]!.ds, 'FrameOfReferenceUID') === ss.frameOfReferenceUid && str(s.headers[0]!.ds, 'StudyInstanceUID') === ss.studyUid)
  return candidates.length === 1 ? candidates[0]! : null
}

/** A PET series of the same study (largest first), for a CT; none for PET or MR targets. */
function petOfStudy(series: DicomSeries, all: DicomSeries[]): DicomSeries | null {
  if (series.modality !== 'CT') return null
  const study = str(series.headers[0]!.ds, 'StudyInstanceUID')
  return all.find((s) => s.modality === 'PT' && str(s.headers[0]!.ds, 'StudyInstanceUID') === study) ?? null
}

function sortKey(t: CaseTarget): string {
  const ds = t.series.headers[0]!.ds
  return [str(ds, 'PatientID'), str(ds, 'StudyDate'), str(ds, 'StudyInstanceUID'), t.series.seriesInstanceUid].join('\u0000')
}

async function importCase(t: CaseTarget, name: string, dir: string, rules: MapRule[], usePet: boolean, partial: { marginMm: number } | null): Promise<CaseReport | SkippedReport> {
  const ds = t.series.headers[0]!.ds
  const who = { patient_id: str(ds, 'PatientID'), study_uid: str(ds, 'StudyInstanceUID') }
  let image: Volume
  try {
    image = await volumeFromSeries(`series ${t.series.seriesInstanceUid}`, t.series)
  } catch (e) {
    return { ...who, file: t.used.file, reason: `geometry problem in image series ${t.series.seriesInstanceUid}: ${(e as Error).message}` }
  }
  let structures: { rois: RoiReport[]; label: Uint8Array }
  try {
    structures = t.used.kind === 'SEG' ? segStructures(t.used.file, image.grid, rules) : rtstructStructures(t.used.file, image.grid, rules)
  } catch (e) {
    return { ...who, file: t.used.file, reason: `geometry problem in ${t.used.kind} ${basename(t.used.file)}: ${(e as Error).message}` }
  }
  if (!structures.rois.some((r) => r.status === 'mapped')) {
    const matched = structures.rois.filter((r) => r.label !== null)
    const names = (matched.length ? matched : structures.rois).map((r) => r.name).join(', ') || 'none'
    const reason = matched.length ? `the structures the --map rules match have no voxels on the image (${names})` : `no structure matched the --map rules (structures: ${names})`
    return { ...who, file: t.used.file, reason, rois: structures.rois }
  }
  if (partial) markIgnored(structures.label, image.grid, partial.marginMm)
  await writeVolume(image, join(dir, 'imagesTr', imageFileName(name, 0)))
  if (usePet && t.pet) {
    const pet = await volumeFromSeries(`series ${t.pet.seriesInstanceUid}`, t.pet)
    await writeVolume(resampleTo(pet, image.grid, { interpolation: 'linear', fill: 0 }), join(dir, 'imagesTr', imageFileName(name, 1)))
  }
  await writeVolume(image.withData(structures.label, { modality: 'SEG' }), join(dir, 'labelsTr', labelFileName(name)))
  return {
    case: name, ...who, modality: t.series.modality === 'MR' ? 'MR' : t.series.modality === 'PT' ? 'PET' : 'CT',
    image_series: t.series.seriesInstanceUid, pet_series: usePet && t.pet ? t.pet.seriesInstanceUid : null,
    structure_set: { kind: t.used.kind, file: t.used.file, sop_instance_uid: t.used.sopInstanceUid },
    shape: [...image.shape], spacing_mm: [...image.spacing], rois: structures.rois,
  }
}

function rtstructStructures(file: string, grid: Grid, rules: MapRule[]) {
  const rois = readRtstruct(file).rois
  return paint(grid, rois.map((roi) => ({
    name: roi.name,
    mask: () => (roi.contours.length === 0 ? null : rasterizeRoi(roi, grid, file).mask),
  })), rules)
}

function segStructures(file: string, grid: Grid, rules: MapRule[]) {
  const seg = readSeg(file)
  return paint(grid, seg.segments.map((s, i) => ({
    name: s.label,
    mask: () => (seg.frames.some((f) => f.segment === i) ? (segmentOnGrid(seg, i, grid).data as Uint8Array) : null),
  })), rules)
}

/**
 * The label map: mapped structures painted in rule order (then in file order), each only where no
 * earlier one painted, so the first matching rule wins where structures overlap. Unmatched structures
 * are never rasterised.
 */
function paint(grid: Grid, structures: { name: string; mask: () => ArrayLike<number> | null }[], rules: MapRule[]): { rois: RoiReport[]; label: Uint8Array } {
  const label = new Uint8Array(grid.shape[0] * grid.shape[1] * grid.shape[2])
  const rois: RoiReport[] = structures.map((s) => {
    const m = matchRule(rules, s.name)
    return { name: s.name, label: m?.label ?? null, rule: m ? rules[m.rule]!.text : null, status: m ? 'mapped' : 'unmatched', voxels: 0, voxels_lost_to_overlap: 0 }
  })
  const order = structures.map((_, i) => i).filter((i) => rois[i]!.label !== null)
    .sort((a, b) => rules.findIndex((r) => r.text === rois[a]!.rule) - rules.findIndex((r) => r.text === rois[b]!.rule) || a - b)
  for (const i of order) {
    const mask = structures[i]!.mask()
    const roi = rois[i]!
    if (!mask) { roi.status = 'no contours'; continue }
    for (let v = 0; v < label.length; v++) {
      if (!mask[v]) continue
      if (label[v] === 0) { label[v] = roi.label!; roi.voxels++ } else roi.voxels_lost_to_overlap++
    }
    if (roi.voxels === 0 && roi.voxels_lost_to_overlap === 0) roi.status = 'empty on the image grid'
  }
  return { rois, label }
}

/** Background voxels farther than marginMm from every outlined voxel become IGNORE_VALUE. */
function markIgnored(label: Uint8Array, grid: Grid, marginMm: number): void {
  const distance2 = squaredDistanceTransform(label, grid.shape, grid.spacing)
  const limit = marginMm * marginMm
  for (let v = 0; v < label.length; v++) if (label[v] === 0 && distance2[v]! > limit) label[v] = IGNORE_VALUE
}

function roiNameTable(cases: CaseReport[], skipped: SkippedReport[]): ImportReport['roi_names'] {
  const table = new Map<string, { name: string; label: number | null; studies: number }>()
  for (const r of [...cases.flatMap((c) => c.rois), ...skipped.flatMap((s) => s.rois ?? [])]) {
    const entry = table.get(r.name) ?? { name: r.name, label: r.label, studies: 0 }
    entry.studies++
    table.set(r.name, entry)
  }
  return [...table.values()].sort((a, b) => b.studies - a.studies || a.name.localeCompare(b.name))
}
