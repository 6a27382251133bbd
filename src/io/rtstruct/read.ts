/**
 * Reading an RT Structure Set and rasterising its ROIs onto a reference series: every closed planar
 * contour is placed by its patient coordinates (never by slice index or referenced UID) and filled
 * with the even-odd rule per ROI and slice (see rasterize.ts).
 */
import { badInput, NodalError } from '../../errors.js'
import { Grid, Vec3, worldToIndex } from '../../volume/volume.js'
import { Dataset, readDicomHeader, str } from '../dicom/header.js'
import { toggleInside } from './rasterize.js'
import type { Loop } from './trace.js'
import { RT_STRUCTURE_SET_STORAGE } from './write.js'

export interface RoiContours {
  number: number
  name: string
  color?: [number, number, number]
  interpretedType: string
  /** Closed planar contours as flat x,y,z lists in LPS mm. */
  contours: number[][]
}

export interface RtstructData {
  file: string
  frameOfReferenceUid: string
  rois: RoiContours[]
}

export function readRtstruct(file: string): RtstructData {
  let ds: Dataset
  try {
    const h = readDicomHeader(file)
    if (!h) throw new Error('not a DICOM Part 10 file')
    ds = h.ds
  } catch (e) {
    if (e instanceof NodalError) throw e
    throw badInput(file, `is not a readable DICOM file (${String((e as Error)?.message ?? e).split(/[\r\n]/)[0]})`)
  }
  // values from the file are quoted as JSON in messages: a damaged one may hold line breaks
  if (str(ds, 'SOPClassUID') !== RT_STRUCTURE_SET_STORAGE) throw badInput(file, `is not an RT Structure Set (SOP Class ${str(ds, 'SOPClassUID') ? JSON.stringify(str(ds, 'SOPClassUID')) : 'missing'})`)
  const roiFrames = list(ds.StructureSetROISequence)
  const frames = new Set(roiFrames.map((r) => str(r, 'ReferencedFrameOfReferenceUID')).filter((u) => u))
  const frameOfReferenceUid = str(list(ds.ReferencedFrameOfReferenceSequence)[0] ?? {}, 'FrameOfReferenceUID') || [...frames][0] || ''
  const types = new Map(list(ds.RTROIObservationsSequence).map((o) => [Number(o.ReferencedROINumber), str(o, 'RTROIInterpretedType')]))
  const contoursOf = new Map(list(ds.ROIContourSequence).map((c) => [Number(c.ReferencedROINumber), c]))
  const rois = roiFrames.map((r) => {
    const number = Number(r.ROINumber)
    const rc = contoursOf.get(number)
    const color = rc?.ROIDisplayColor ? (list(rc.ROIDisplayColor).map(Number) as [number, number, number]) : undefined
    const contours = list(rc?.ContourSequence)
      .filter((c) => str(c, 'ContourGeometricType') === 'CLOSED_PLANAR')
      .map((c) => list(c.ContourData).map(Number))
      .filter((pts) => pts.length >= 9)
    return { number, name: str(r, 'ROIName'), color, interpretedType: types.get(number) ?? '', contours }
  })
  return { file, frameOfReferenceUid, rois }
}

function list(v: unknown): any[] {
  if (v === undefined || v === null) return []
  return Array.isArray(v) ? v : [v]
}

/** How far (in slices) a contour may sit from the nearest slice centre and still be placed on it. */
const SLICE_TOLERANCE = 0.1

/**
 * The binary mask of one ROI on `grid` (1 inside). A contour must lie in a plane parallel to the
 * slices, at a slice position; contours outside the grid are left out and counted.
 */
export function rasterizeRoi(roi: RoiContours, grid: Grid, file: string): RoiMask {
  const [nx, ny, nz] = grid.shape
  const mask = new Uint8Array(nx * ny * nz)
  let outside = 0, kMin = nz, kMax = -1
  for (const points of roi.contours) {
    const { loop, k } = contourOnSlice(points, grid, file, roi.name)
    if (k < 0 || k >= nz) { outside++; continue }
    toggleInside(mask, nx, ny, k, loop)
    kMin = Math.min(kMin, k)
    kMax = Math.max(kMax, k)
  }
  return { mask, outside, kMin, kMax }
}

export interface RoiMask {
  /** 1 inside, on the whole grid. */
  mask: Uint8Array
  /** Contours left out because they lie outside the grid. */
  outside: number
  /** The slices that hold contours (kMax < kMin when none). */
  kMin: number
  kMax: number
}

function contourOnSlice(points: number[], grid: Grid, file: string, roiName: string): { loop: Loop; k: number } {
  const loop: Loop = []
  let kMin = Infinity, kMax = -Infinity
  for (let p = 0; p + 2 < points.length; p += 3) {
    const [i, j, k] = worldToIndex(grid, [points[p], points[p + 1], points[p + 2]] as Vec3)
    loop.push([i, j])
    kMin = Math.min(kMin, k)
    kMax = Math.max(kMax, k)
  }
  const k = Math.round((kMin + kMax) / 2)
  if (kMax - kMin > 2 * SLICE_TOLERANCE) throw badInput(file, `ROI ${JSON.stringify(roiName)} has a contour that is not parallel to the reference slices`)
  if (Math.abs((kMin + kMax) / 2 - k) > SLICE_TOLERANCE) throw badInput(file, `ROI ${JSON.stringify(roiName)} has a contour between two reference slices (slice index ${((kMin + kMax) / 2).toFixed(2)})`)
  return { loop, k }
}
