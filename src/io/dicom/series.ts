/**
 * DICOM image series from a folder: list the series, choose one, order its slices along the slice
 * normal, check the spacing, decode the pixels and rescale to HU (or SUV for PET).
 *
 * Slice order and spacing come from ImagePositionPatient projected on the normal of
 * ImageOrientationPatient, never from file names, InstanceNumber or SliceThickness.
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { badInput, NodalError } from '../../errors.js'
import { Axes, Vec3, Volume, cross, dot, normalize } from '../../volume/volume.js'
import { DicomHeader, num, nums, readDicomHeader, str } from './header.js'
import { decodeSlices } from './pixels.js'
import { suvFactor } from './suv.js'

export interface SeriesInfo {
  seriesInstanceUid: string
  modality: string
  description: string
  seriesNumber: number
  slices: number
  rows: number
  columns: number
}

export interface DicomSeries extends SeriesInfo {
  headers: DicomHeader[]
}

export interface ReadSeriesOptions {
  /** SeriesInstanceUID to read; default: the largest CT series, else the largest image series. */
  seriesUid?: string
  /** Keep PET in its stored units (Bq/ml) instead of converting to SUVbw. */
  petRaw?: boolean
}

const IMAGE_MODALITIES = new Set(['CT', 'MR', 'PT', 'NM', 'OT'])

/** Every DICOM file under `dir` (recursively), headers only. */
export function scanFolder(dir: string): DicomHeader[] {
  const headers: DicomHeader[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      const st = statSync(p)
      if (st.isDirectory()) walk(p)
      else if (st.isFile()) {
        const h = tryHeader(p)
        if (h) headers.push(h)
      }
    }
  }
  walk(dir)
  return headers
}

function tryHeader(file: string): DicomHeader | null {
  try {
    return readDicomHeader(file)
  } catch (e) {
    throw badInput(file, `corrupt DICOM file (${String((e as Error)?.message ?? e).split(/[\r\n]/)[0]})`)
  }
}

/** Image series (those with pixel geometry), largest first. */
export function groupSeries(headers: DicomHeader[]): DicomSeries[] {
  const bySeries = new Map<string, DicomHeader[]>()
  for (const h of headers) {
    if (!isImage(h)) continue
    const uid = str(h.ds, 'SeriesInstanceUID')
    if (!bySeries.has(uid)) bySeries.set(uid, [])
    bySeries.get(uid)!.push(h)
  }
  return [...bySeries.entries()].map(([uid, hs]) => ({
    seriesInstanceUid: uid,
    modality: str(hs[0].ds, 'Modality'),
    description: str(hs[0].ds, 'SeriesDescription'),
    seriesNumber: num(hs[0].ds, 'SeriesNumber'),
    slices: hs.length,
    rows: num(hs[0].ds, 'Rows'),
    columns: num(hs[0].ds, 'Columns'),
    headers: hs,
  })).sort((a, b) => b.slices - a.slices)
}

function isImage(h: DicomHeader): boolean {
  return h.ds.Rows !== undefined && nums(h.ds, 'ImagePositionPatient').length === 3 &&
    nums(h.ds, 'ImageOrientationPatient').length === 6
}

export function chooseSeries(dir: string, series: DicomSeries[], uid?: string): DicomSeries {
  if (series.length === 0) throw badInput(dir, 'contains no DICOM image series')
  if (uid) {
    const s = series.find((x) => x.seriesInstanceUid === uid)
    if (!s) throw badInput(dir, `has no series ${uid} (found: ${series.map((x) => x.seriesInstanceUid).join(', ')})`)
    return s
  }
  return series.find((s) => s.modality === 'CT') ?? series.find((s) => IMAGE_MODALITIES.has(s.modality)) ?? series[0]
}

export function listSeries(dir: string): SeriesInfo[] {
  return groupSeries(scanFolder(dir)).map(({ headers: _h, ...info }) => info)
}

export async function readDicomSeries(dir: string, opts: ReadSeriesOptions = {}): Promise<Volume> {
  const all = groupSeries(scanFolder(dir))
  const chosen = chooseSeries(dir, all, opts.seriesUid)
  const vol = await volumeFromSeries(dir, chosen, opts)
  vol.meta.otherSeries = all.filter((s) => s !== chosen).map(({ headers: _h, ...info }) => info)
  return vol
}

/** One series (its headers may come from any folders) as a volume; `dir` names it in errors. */
export async function volumeFromSeries(dir: string, chosen: DicomSeries, opts: { petRaw?: boolean } = {}): Promise<Volume> {
  const geometry = sliceGeometry(dir, chosen.headers)
  const data = await decodeSlices(geometry.ordered)
  const meta: Record<string, unknown> = {
    modality: chosen.modality,
    seriesInstanceUid: chosen.seriesInstanceUid,
    seriesDescription: chosen.description,
    studyInstanceUid: str(chosen.headers[0].ds, 'StudyInstanceUID'),
    frameOfReferenceUid: str(chosen.headers[0].ds, 'FrameOfReferenceUID'),
    sopInstanceUids: geometry.ordered.map((h) => str(h.ds, 'SOPInstanceUID')),
    sopClassUid: str(chosen.headers[0].ds, 'SOPClassUID'),
    files: geometry.ordered.map((h) => h.file),
    sliceThickness: num(chosen.headers[0].ds, 'SliceThickness'),
    format: 'dicom',
  }
  let vol = new Volume(data, geometry.shape, geometry.spacing, geometry.origin, geometry.axes, meta)
  if (chosen.modality === 'PT' && !opts.petRaw) vol = toSuv(vol, geometry.ordered[0])
  return vol
}

function toSuv(vol: Volume, first: DicomHeader): Volume {
  const suv = suvFactor(first.ds)
  if (!suv.factor) {
    vol.meta.suv = { converted: false, reason: suv.reason }
    return vol
  }
  const out = new Float32Array(vol.data.length)
  for (let n = 0; n < out.length; n++) out[n] = vol.data[n] * suv.factor
  return vol.withData(out, { ...vol.meta, suv: { converted: true, factor: suv.factor, ...suv.details } })
}

export interface SliceGeometry {
  ordered: DicomHeader[]
  shape: Vec3
  spacing: Vec3
  origin: Vec3
  axes: Axes
}

/**
 * Orders slices by their position along the slice normal and derives the grid. Uneven gaps,
 * gantry tilt, mixed orientations and duplicate positions are errors: the grid would be a lie.
 */
export function sliceGeometry(dir: string, headers: DicomHeader[]): SliceGeometry {
  const first = headers[0].ds
  const iop = nums(first, 'ImageOrientationPatient')
  const row = normalize([iop[0], iop[1], iop[2]])
  const col = normalize([iop[3], iop[4], iop[5]])
  const normal = cross(row, col)
  for (const h of headers) {
    const o = nums(h.ds, 'ImageOrientationPatient')
    if (o.some((v, i) => Math.abs(v - iop[i]) > 1e-3)) throw new NodalError('mixed-orientation', `${dir}: series mixes slice orientations (${h.file})`)
    if (num(h.ds, 'Rows') !== num(first, 'Rows') || num(h.ds, 'Columns') !== num(first, 'Columns')) {
      throw new NodalError('mixed-size', `${dir}: series mixes slice sizes (${h.file})`)
    }
  }
  if (num(first, 'NumberOfFrames') > 1) throw badInput(headers[0].file, 'multi-frame (enhanced) DICOM images are not supported yet')
  const withPos = headers.map((h) => {
    const p = nums(h.ds, 'ImagePositionPatient') as Vec3
    return { h, p, d: dot(p, normal) }
  }).sort((a, b) => a.d - b.d)
  const ps = nums(first, 'PixelSpacing') // [row spacing (between rows, along col), column spacing (along row)]
  const dx = ps.length === 2 ? ps[1] : 1, dy = ps.length === 2 ? ps[0] : 1
  let dz = num(first, 'SliceThickness') || 1
  if (withPos.length > 1) {
    const gaps = withPos.slice(1).map((w, i) => w.d - withPos[i].d)
    const minGap = Math.min(...gaps), maxGap = Math.max(...gaps)
    if (minGap < 1e-3) throw new NodalError('duplicate-slices', `${dir}: two slices share a position (${withPos.length} files; several acquisitions in one series?)`)
    if (maxGap - minGap > Math.max(0.01, 0.01 * minGap)) {
      throw new NodalError('uneven-slices', `${dir}: slice gaps are uneven (${minGap.toFixed(3)} to ${maxGap.toFixed(3)} mm); nodal does not resample silently`)
    }
    dz = (withPos[withPos.length - 1].d - withPos[0].d) / (withPos.length - 1)
    const step = sub(withPos[withPos.length - 1].p, withPos[0].p).map((v) => v / (withPos.length - 1)) as Vec3
    const along = dot(step, normal)
    const offAxis = Math.hypot(...sub(step, normal.map((v) => v * along) as Vec3))
    if (offAxis > 1e-3 * Math.max(1, dz)) {
      const tilt = (Math.atan2(offAxis, along) * 180) / Math.PI
      throw new NodalError('gantry-tilt', `${dir}: slices are sheared by ${tilt.toFixed(2)}° (gantry tilt); nodal does not resample silently`)
    }
  }
  // a zero, negative or unreadable PixelSpacing, SliceThickness or position gives no grid (Volume refuses it)
  if (![dx, dy, dz].every((s) => s > 0 && s < Infinity)) throw badInput(dir, `has an unusable voxel size (${dx} x ${dy} x ${dz} mm from PixelSpacing and the slice positions)`)
  return {
    ordered: withPos.map((w) => w.h),
    shape: [num(first, 'Columns'), num(first, 'Rows'), withPos.length],
    spacing: [dx, dy, dz],
    origin: withPos[0].p,
    axes: [row, col, normal],
  }
}

function sub(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
