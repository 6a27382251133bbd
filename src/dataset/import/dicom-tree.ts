/**
 * A folder tree of DICOM files as exported by a planning system or PACS: any nesting, any file names, no
 * DICOMDIR needed, zip files opened in place. Every file is read up to its pixel data; what is not DICOM
 * is counted, what is DICOM but unreadable is listed with the reason, and nothing stops the walk.
 * Files are then grouped by what they are (image series, RT Structure Sets, DICOM-SEG) by their UIDs
 * only; file names and folders carry no meaning.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { releaseTemp, trackTemp } from '../../io/temp.js'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { unzipSync } from 'fflate'
import { type Dataset, type DicomHeader, nums, readDicomHeader, str } from '../../io/dicom/header.js'
import { type DicomSeries, groupSeries } from '../../io/dicom/series.js'
import { RT_STRUCTURE_SET_STORAGE } from '../../io/rtstruct/write.js'
import { SEGMENTATION_STORAGE } from '../../io/seg/read.js'

export interface UnreadableFile { file: string; reason: string }

export interface DicomTree {
  root: string
  headers: DicomHeader[]
  nonDicom: number
  unreadable: UnreadableFile[]
  zips: number
  /** Removes the folders zip files were unpacked into. */
  dispose(): void
}

/** Zip members larger than this are refused (a zip bomb must not fill the disk). */
const MAX_UNZIPPED_BYTES = 8 * 1024 ** 3

export function walkDicomTree(root: string, onFile?: (count: number) => void): DicomTree {
  const headers: DicomHeader[] = []
  const unreadable: UnreadableFile[] = []
  const unpacked: string[] = []
  let nonDicom = 0, zips = 0, seen = 0
  const visit = (path: string, shownAs: string) => {
    const st = statSync(path)
    if (st.isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name), join(shownAs, name))
      return
    }
    if (!st.isFile()) return
    onFile?.(++seen)
    if (path.toLowerCase().endsWith('.zip')) {
      const dir = unzipInto(path, unreadable)
      if (dir) { unpacked.push(dir); zips++; visit(dir, shownAs) }
      return
    }
    try {
      const h = readDicomHeader(path)
      if (h) headers.push(h)
      else nonDicom++
    } catch (e) {
      unreadable.push({ file: shownAs, reason: (e as Error).message.split('\n')[0]! })
    }
  }
  visit(root, root)
  return { root, headers, nonDicom, unreadable, zips, dispose: () => unpacked.forEach((d) => { rmSync(d, { recursive: true, force: true }); releaseTemp(d) }) }
}

function unzipInto(zip: string, unreadable: UnreadableFile[]): string | null {
  let files: Record<string, Uint8Array>
  try {
    let total = 0
    files = unzipSync(readFileSync(zip), {
      filter: (f) => {
        total += f.originalSize
        if (total > MAX_UNZIPPED_BYTES) throw new Error(`unpacks to more than ${MAX_UNZIPPED_BYTES / 1024 ** 3} GiB`)
        return !f.name.endsWith('/')
      },
    })
  } catch (e) {
    unreadable.push({ file: zip, reason: `unreadable zip file (${(e as Error).message.split('\n')[0]})` })
    return null
  }
  const dir = trackTemp(mkdtempSync(join(tmpdir(), 'nodal-import-zip-')))
  for (const [name, data] of Object.entries(files)) {
    const target = join(dir, name)
    if (relative(dir, target).startsWith('..')) continue // a member naming a path outside the folder
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, data)
  }
  return dir
}

/** What the tree holds, by UID. */
export interface StructureSetFile {
  kind: 'RTSTRUCT' | 'SEG'
  file: string
  sopInstanceUid: string
  patientId: string
  studyUid: string
  frameOfReferenceUid: string
  /** The image series it says it was drawn on (Referenced Series; for RTSTRUCT also the contour images' series). */
  referencedSeries: string[]
  /** The image instances it names (contour images, or SEG source images). */
  referencedInstances: string[]
  /** StructureSetDate+Time or ContentDate+Time, for choosing the newest of several. */
  when: string
  /** ROI names (RTSTRUCT) or segment labels (SEG), in file order. */
  names: string[]
}

export interface SortedTree {
  series: DicomSeries[]
  structureSets: StructureSetFile[]
}

export function sortTree(tree: DicomTree): SortedTree {
  const structureSets: StructureSetFile[] = []
  const images: DicomHeader[] = []
  for (const h of tree.headers) {
    const sopClass = str(h.ds, 'SOPClassUID'), modality = str(h.ds, 'Modality')
    if (sopClass === RT_STRUCTURE_SET_STORAGE || modality === 'RTSTRUCT') structureSets.push(rtstructFile(h))
    else if (sopClass === SEGMENTATION_STORAGE || modality === 'SEG') structureSets.push(segFile(h))
    else if (h.ds.Rows !== undefined && nums(h.ds, 'ImagePositionPatient').length === 3) images.push(h)
  }
  return { series: groupSeries(images), structureSets }
}

function rtstructFile(h: DicomHeader): StructureSetFile {
  const ds = h.ds
  const series = new Set<string>(), instances = new Set<string>()
  for (const frame of list(ds.ReferencedFrameOfReferenceSequence)) {
    for (const study of list(frame.RTReferencedStudySequence)) {
      for (const s of list(study.RTReferencedSeriesSequence)) {
        if (str(s, 'SeriesInstanceUID')) series.add(str(s, 'SeriesInstanceUID'))
        for (const img of list(s.ContourImageSequence)) if (str(img, 'ReferencedSOPInstanceUID')) instances.add(str(img, 'ReferencedSOPInstanceUID'))
      }
    }
  }
  for (const roi of list(ds.ROIContourSequence)) {
    for (const c of list(roi.ContourSequence)) {
      for (const img of list(c.ContourImageSequence)) if (str(img, 'ReferencedSOPInstanceUID')) instances.add(str(img, 'ReferencedSOPInstanceUID'))
    }
  }
  const frame = str(list(ds.ReferencedFrameOfReferenceSequence)[0] ?? {}, 'FrameOfReferenceUID')
    || str(list(ds.StructureSetROISequence)[0] ?? {}, 'ReferencedFrameOfReferenceUID')
  return {
    kind: 'RTSTRUCT', file: h.file, sopInstanceUid: str(ds, 'SOPInstanceUID'), ...owner(ds), frameOfReferenceUid: frame,
    referencedSeries: [...series], referencedInstances: [...instances], when: str(ds, 'StructureSetDate') + str(ds, 'StructureSetTime'),
    names: list(ds.StructureSetROISequence).map((r) => str(r, 'ROIName')),
  }
}

function segFile(h: DicomHeader): StructureSetFile {
  const ds = h.ds
  const series = new Set<string>(), instances = new Set<string>()
  for (const s of list(ds.ReferencedSeriesSequence)) {
    if (str(s, 'SeriesInstanceUID')) series.add(str(s, 'SeriesInstanceUID'))
    for (const img of list(s.ReferencedInstanceSequence)) if (str(img, 'ReferencedSOPInstanceUID')) instances.add(str(img, 'ReferencedSOPInstanceUID'))
  }
  for (const frame of list(ds.PerFrameFunctionalGroupsSequence)) {
    for (const derivation of list(frame.DerivationImageSequence)) {
      for (const source of list(derivation.SourceImageSequence)) if (str(source, 'ReferencedSOPInstanceUID')) instances.add(str(source, 'ReferencedSOPInstanceUID'))
    }
  }
  return {
    kind: 'SEG', file: h.file, sopInstanceUid: str(ds, 'SOPInstanceUID'), ...owner(ds), frameOfReferenceUid: str(ds, 'FrameOfReferenceUID'),
    referencedSeries: [...series], referencedInstances: [...instances], when: str(ds, 'ContentDate') + str(ds, 'ContentTime'),
    names: list(ds.SegmentSequence).map((x) => str(x, 'SegmentLabel')),
  }
}

function owner(ds: Dataset): { patientId: string; studyUid: string } {
  return { patientId: str(ds, 'PatientID'), studyUid: str(ds, 'StudyInstanceUID') }
}

function list(v: unknown): any[] {
  if (v === undefined || v === null) return []
  return Array.isArray(v) ? v : [v]
}
