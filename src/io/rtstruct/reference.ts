/**
 * The reference image series that an RT Structure Set or a DICOM-SEG points at: its grid, its slice
 * UIDs and its patient/study/frame-of-reference attributes. Read from headers only (no pixel data).
 */
import { existsSync, statSync } from 'node:fs'
import { badInput, NodalError } from '../../errors.js'
import { Grid } from '../../volume/volume.js'
import { Dataset, DicomHeader, str } from '../dicom/header.js'
import { groupSeries, scanFolder, sliceGeometry } from '../dicom/series.js'

export interface ReferenceSeries {
  dir: string
  grid: Grid
  /** Slice files and SOP Instance UIDs in grid z order. */
  files: string[]
  sopInstanceUids: string[]
  sopClassUid: string
  seriesInstanceUid: string
  studyInstanceUid: string
  frameOfReferenceUid: string
  modality: string
  /** The first slice's dataset, for patient and study attributes. */
  ds: Dataset
}

const REFERENCE_MODALITIES = ['CT', 'MR', 'PT']

/** The largest CT series in `dir` (else MR, else PET), or the series with `seriesUid`. */
export function readReferenceSeries(dir: string, seriesUid?: string): ReferenceSeries {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new NodalError('not-found', `${dir}: no such folder (the reference must be a DICOM series folder)`)
  const all = groupSeries(scanFolder(dir))
  const candidates = all.filter((s) => REFERENCE_MODALITIES.includes(s.modality))
  const chosen = seriesUid
    ? candidates.find((s) => s.seriesInstanceUid === seriesUid)
    : REFERENCE_MODALITIES.map((m) => candidates.find((s) => s.modality === m)).find((s) => s)
  if (!chosen) {
    const what = seriesUid ? `no CT, MR or PET series ${seriesUid}` : 'no CT, MR or PET image series'
    throw badInput(dir, `contains ${what} to use as the reference`)
  }
  const g = sliceGeometry(dir, chosen.headers)
  const first = g.ordered[0].ds
  refuseMissingUids(dir, g.ordered)
  return {
    dir,
    grid: { shape: g.shape, spacing: g.spacing, origin: g.origin, axes: g.axes },
    files: g.ordered.map((h: DicomHeader) => h.file),
    sopInstanceUids: g.ordered.map((h: DicomHeader) => str(h.ds, 'SOPInstanceUID')),
    sopClassUid: str(first, 'SOPClassUID'),
    seriesInstanceUid: chosen.seriesInstanceUid,
    studyInstanceUid: str(first, 'StudyInstanceUID'),
    frameOfReferenceUid: str(first, 'FrameOfReferenceUID'),
    modality: chosen.modality,
    ds: first,
  }
}

/**
 * A structure set points at its series by Study, Series, SOP Instance and Frame of Reference UIDs; with
 * one of them empty (some anonymisers blank them) the file would point nowhere and a planning system
 * could attach it to the wrong scan, or dcmqi fails deep inside. Refused, naming the UID and the file.
 */
function refuseMissingUids(dir: string, slices: DicomHeader[]): void {
  for (const key of ['StudyInstanceUID', 'SeriesInstanceUID', 'FrameOfReferenceUID']) {
    if (!str(slices[0]!.ds, key).trim()) throw badInput(slices[0]!.file, `the reference series has an empty ${key}; a structure set must name it (export onto a series that has its UIDs)`)
  }
  const seen = new Set<string>()
  for (const h of slices) {
    const uid = str(h.ds, 'SOPInstanceUID').trim()
    if (!uid) throw badInput(h.file, 'has an empty SOPInstanceUID; a structure set must name every slice of its reference series')
    if (seen.has(uid)) throw badInput(h.file, `repeats SOPInstanceUID ${uid} of another slice of the reference series`)
    seen.add(uid)
  }
}
