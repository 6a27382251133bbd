/**
 * DICOM-SEG to label maps. Segment numbers become label values. Segments that overlap cannot share
 * one label map, so they are split into as few maps as possible, each holding segments that do not
 * overlap (the same grouping dcmqi uses): `<stem>-1.nii.gz`, `<stem>-2.nii.gz`, ...
 */
import { existsSync, statSync, writeFileSync } from 'node:fs'
import { NodalError } from '../../errors.js'
import { resampleTo } from '../../volume/resample.js'
import { Grid, sameGrid, Volume } from '../../volume/volume.js'
import { writeAtomically, writeVolume, WRITABLE_EXTENSIONS } from '../index.js'
import { readReferenceSeries } from '../rtstruct/reference.js'
import { readDicomHeader, str } from '../dicom/header.js'
import { RT_STRUCTURE_SET_STORAGE } from '../rtstruct/write.js'
import { nonOverlappingLabelMaps, readSeg, SEGMENTATION_STORAGE } from './read.js'

export interface SegToLabelsOptions {
  /** A DICOM folder whose series grid the labels are written on; default: the SEG's own grid. */
  reference?: string
}

export interface SegToLabelsResult {
  files: string[]
  names: Record<string, string>
}

export async function convertSegToLabels(file: string, out: string, opts: SegToLabelsOptions = {}): Promise<SegToLabelsResult> {
  checkLabelOutput(out)
  const seg = readSeg(file)
  let grid: Grid = seg.grid
  if (opts.reference) {
    const ref = readReferenceSeries(opts.reference)
    checkSameFrame(file, seg.frameOfReferenceUid, opts.reference, ref.frameOfReferenceUid)
    grid = ref.grid
  }
  const maps = nonOverlappingLabelMaps(seg).map((m) => {
    const own = new Volume(m.data, [...seg.grid.shape], [...seg.grid.spacing], [...seg.grid.origin], seg.grid.axes)
    return sameGrid(own, grid) ? own : resampleTo(own, grid, { interpolation: 'nearest', fill: 0 })
  })
  const files = maps.length === 1 ? [out] : maps.map((_, g) => withSuffix(out, `-${g + 1}`))
  const names = Object.fromEntries(seg.segments.map((s) => [String(s.number), s.label]))
  for (let g = 0; g < maps.length; g++) await writeVolume(maps[g], files[g])
  await writeNamesJson(out, names)
  return { files, names }
}

export function checkSameFrame(file: string, frame: string, referenceDir: string, referenceFrame: string): void {
  if (frame && referenceFrame && frame !== referenceFrame) {
    throw new NodalError('frame-mismatch', `${file}: its Frame of Reference (${frame}) is not that of the reference series in ${referenceDir} (${referenceFrame}); the contours belong to another scan`)
  }
}

export function checkLabelOutput(out: string): void {
  if (!WRITABLE_EXTENSIONS.some((e) => out.toLowerCase().endsWith(e))) {
    throw new NodalError('bad-output', `${out}: unsupported output format (writable: ${WRITABLE_EXTENSIONS.join(' ')})`)
  }
}

/** `labels.nii.gz` + `-1` -> `labels-1.nii.gz`. */
export function withSuffix(path: string, suffix: string): string {
  const ext = WRITABLE_EXTENSIONS.filter((e) => path.toLowerCase().endsWith(e)).sort((a, b) => b.length - a.length)[0] ?? ''
  return path.slice(0, path.length - ext.length) + suffix + path.slice(path.length - ext.length)
}

/** Label names beside a label map, in the form `nodal export --names` reads: `labels.nii.gz` -> `labels.json`. */
export async function writeNamesJson(labelsPath: string, content: unknown): Promise<string> {
  const ext = WRITABLE_EXTENSIONS.filter((e) => labelsPath.toLowerCase().endsWith(e)).sort((a, b) => b.length - a.length)[0] ?? ''
  const path = labelsPath.slice(0, labelsPath.length - ext.length) + '.json'
  await writeAtomically(path, (tmp) => writeFileSync(tmp, JSON.stringify(content, null, 2) + '\n'))
  return path
}

/** 'rtstruct' or 'seg' when `path` is a single DICOM file of that kind, else null. */
export function structureFileKind(path: string): 'rtstruct' | 'seg' | null {
  if (WRITABLE_EXTENSIONS.some((e) => path.toLowerCase().endsWith(e))) return null
  if (!existsSync(path) || !statSync(path).isFile()) return null
  let h: ReturnType<typeof readDicomHeader>
  try {
    h = readDicomHeader(path)
  } catch {
    return null
  }
  const sopClass = h ? str(h.ds, 'SOPClassUID') : ''
  if (sopClass === RT_STRUCTURE_SET_STORAGE) return 'rtstruct'
  if (sopClass === SEGMENTATION_STORAGE) return 'seg'
  return null
}
