/**
 * DICOM-SEG reader. Each frame is placed by its own Image Position (Patient) on a grid built from
 * the frames' orientation, pixel spacing and positions, then (when a reference series is given)
 * resampled onto the reference grid by world coordinates. Segments may overlap.
 *
 * Written with dcmjs rather than @itk-wasm/dicom's readSegmentationNode: that one fails with a
 * WebAssembly "null function" crash on overlapping segments (dcmqi's own partial_overlaps.dcm), and
 * both its readers return dcmqi's grid only, not the reference's.
 */
import { readFileSync } from 'node:fs'
import dcmjs from 'dcmjs'
import { badInput } from '../../errors.js'
import { resampleTo } from '../../volume/resample.js'
import { Axes, cross, dot, Grid, normalize, sameGrid, Vec3, Volume, worldToIndex } from '../../volume/volume.js'
import { Dataset, num, nums, str, UNCOMPRESSED_SYNTAXES } from '../dicom/header.js'

export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4'

export interface SegmentInfo {
  number: number
  label: string
  /** Segmented Property Type code meaning, e.g. "Lymph node". */
  type: string
}

export interface SegData {
  file: string
  frameOfReferenceUid: string
  segments: SegmentInfo[]
  /** The SEG's own grid, spanning its frames. */
  grid: Grid
  /** The frames placed on `grid`; kept sparse, as a SEG may hold many segments on a large grid. */
  frames: PlacedFrame[]
}

interface Frame { segment: number; position: Vec3; pixels: Int32Array }

export interface PlacedFrame {
  /** Index into SegData.segments. */
  segment: number
  /** Slice of SegData.grid. */
  k: number
  /** In-slice offsets (i + columns*j) of the pixels inside the segment. */
  pixels: Int32Array
}

export function readSeg(file: string): SegData {
  const ds = readDataset(file)
  const rows = num(ds, 'Rows'), columns = num(ds, 'Columns')
  const segments = list(ds.SegmentSequence).map((s) => ({
    number: Number(s.SegmentNumber),
    label: str(s, 'SegmentLabel'),
    type: str(list(s.SegmentedPropertyTypeCodeSequence)[0] ?? {}, 'CodeMeaning'),
  }))
  const frames = readFrames(file, ds, rows * columns)
  const grid = frameGrid(file, ds, frames, [columns, rows])
  const slot = new Map(segments.map((s, i) => [s.number, i]))
  const placed = frames.map((f) => {
    const segment = slot.get(f.segment)
    if (segment === undefined) throw badInput(file, `a frame refers to segment ${f.segment}, which the Segment Sequence does not describe`)
    return { segment, k: Math.round(worldToIndex(grid, f.position)[2]), pixels: f.pixels }
  })
  return { file, frameOfReferenceUid: str(ds, 'FrameOfReferenceUID'), segments, grid, frames: placed }
}

/** One segment as a binary mask (1 inside) on the SEG's own grid. */
export function segmentMask(seg: SegData, index: number): Uint8Array {
  const [nx, ny, nz] = seg.grid.shape
  const mask = new Uint8Array(nx * ny * nz)
  for (const f of seg.frames) if (f.segment === index) for (const p of f.pixels) mask[f.k * nx * ny + p] = 1
  return mask
}

/**
 * The segments as few label maps as possible (values: segment numbers), each holding segments that
 * share no voxel, filled greedily in segment order (the grouping dcmqi uses for its NRRD output).
 */
export function nonOverlappingLabelMaps(seg: SegData): Array<{ segments: number[]; data: Uint16Array }> {
  const [nx, ny, nz] = seg.grid.shape
  const perSlice = nx * ny
  const maps: Array<{ segments: number[]; data: Uint16Array }> = []
  seg.segments.forEach((info, index) => {
    const frames = seg.frames.filter((f) => f.segment === index)
    const fits = (data: Uint16Array) => frames.every((f) => f.pixels.every((p) => data[f.k * perSlice + p] === 0))
    let map = maps.find((m) => fits(m.data))
    if (!map) maps.push((map = { segments: [], data: new Uint16Array(perSlice * nz) }))
    map.segments.push(info.number)
    for (const f of frames) for (const p of f.pixels) map.data[f.k * perSlice + p] = info.number
  })
  return maps
}

function readDataset(file: string): Dataset {
  let parsed: any, ds: Dataset
  try {
    const buf = readFileSync(file)
    parsed = dcmjs.data.DicomMessage.readFile(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length))
    ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict) // throws on some malformed values too
  } catch (e) {
    throw badInput(file, `is not a readable DICOM file (${String((e as Error)?.message ?? e).split(/[\r\n]/)[0]})`)
  }
  const syntax = String(parsed.meta['00020010']?.Value?.[0] ?? '').replace(/[^0-9.]/g, '') // a UID: a damaged element may swallow more
  if (str(ds, 'SOPClassUID') !== SEGMENTATION_STORAGE) throw badInput(file, `is not a DICOM Segmentation (SOP Class ${str(ds, 'SOPClassUID') ? JSON.stringify(str(ds, 'SOPClassUID')) : 'missing'})`)
  if (!UNCOMPRESSED_SYNTAXES.has(syntax)) throw badInput(file, `compressed DICOM-SEG (transfer syntax ${syntax}) is not supported; decompress it first (e.g. gdcmconv --raw)`)
  return ds
}

/** A functional group of frame `f`: from its per-frame item, else the shared one. */
function group(ds: Dataset, f: number, name: string): Dataset {
  const own = list(ds.PerFrameFunctionalGroupsSequence)[f]?.[name]
  const shared = list(ds.SharedFunctionalGroupsSequence)[0]?.[name]
  return list(own ?? shared)[0] ?? {}
}

function readFrames(file: string, ds: Dataset, perFrame: number): Frame[] {
  const count = num(ds, 'NumberOfFrames') || 1
  const bitsAllocated = num(ds, 'BitsAllocated')
  const fractional = str(ds, 'SegmentationType') === 'FRACTIONAL'
  const threshold = fractional ? (num(ds, 'MaximumFractionalValue') || 255) / 2 : 0
  const chunks = list(ds.PixelData).map((b: ArrayBuffer) => new Uint8Array(b))
  const bytes = chunks.length === 1 ? chunks[0] : Uint8Array.from(chunks.flatMap((c) => [...c]))
  const needBits = count * perFrame * bitsAllocated
  if (!(bitsAllocated === 1 || bitsAllocated === 8)) throw badInput(file, `BitsAllocated ${bitsAllocated} is not valid for a segmentation`)
  if (bytes.length * 8 < needBits) throw badInput(file, `pixel data is truncated (${bytes.length} bytes for ${count} frames)`)
  return Array.from({ length: count }, (_, f) => {
    const position = nums(group(ds, f, 'PlanePositionSequence'), 'ImagePositionPatient') as Vec3
    const segment = Number(group(ds, f, 'SegmentIdentificationSequence').ReferencedSegmentNumber)
    if (position.length !== 3) throw badInput(file, `frame ${f + 1} has no Image Position (Patient)`)
    return { segment, position, pixels: framePixels(bytes, f * perFrame, perFrame, bitsAllocated, threshold) }
  })
}

/** Offsets of the set pixels of one frame starting at pixel `start` of the pixel data. */
function framePixels(bytes: Uint8Array, start: number, count: number, bitsAllocated: number, threshold: number): Int32Array {
  const set: number[] = []
  for (let p = 0; p < count; p++) {
    // 1-bit frames follow each other without padding, least significant bit first
    const inside = bitsAllocated === 1 ? (bytes[(start + p) >> 3] >> ((start + p) & 7)) & 1 : bytes[start + p] > threshold
    if (inside) set.push(p)
  }
  return Int32Array.from(set)
}

/** More slices than any scan has: 0.2 mm over 2 m. */
const MAX_SLICES = 10000

/** The grid spanning all frames: their common orientation and pixel spacing, slices along the normal. */
function frameGrid(file: string, ds: Dataset, frames: Frame[], size: [number, number]): Grid {
  const iop = nums(group(ds, 0, 'PlaneOrientationSequence'), 'ImageOrientationPatient')
  const measures = group(ds, 0, 'PixelMeasuresSequence')
  const ps = nums(measures, 'PixelSpacing')
  if (iop.length !== 6 || ps.length !== 2) throw badInput(file, 'has no plane orientation or pixel spacing')
  const row = normalize([iop[0], iop[1], iop[2]]), col = normalize([iop[3], iop[4], iop[5]])
  const normal = cross(row, col)
  const depths = [...new Set(frames.map((f) => Math.round(dot(f.position, normal) * 1e4) / 1e4))].sort((a, b) => a - b)
  const gaps = depths.slice(1).map((d, i) => d - depths[i])
  const declared = num(measures, 'SpacingBetweenSlices')
  const step = declared > 0 ? declared : gaps.length ? Math.min(...gaps) : num(measures, 'SliceThickness') || 1
  for (const g of gaps) {
    if (Math.abs(g / step - Math.round(g / step)) > 0.01) throw badInput(file, `frame positions are not on a regular slice grid (gap ${g.toFixed(3)} mm, step ${step} mm)`)
  }
  const lowest = frames.reduce((a, b) => (dot(a.position, normal) <= dot(b.position, normal) ? a : b))
  const nz = Math.round((depths[depths.length - 1] - depths[0]) / step) + 1
  // a damaged header gives axes that cannot be inverted, or a slab of dense masks no scan has
  const voxelVolume = ps[0] * ps[1] * step * dot(normal, normal)
  if (!(ps[0] > 0 && ps[1] > 0 && voxelVolume > 1e-12 && voxelVolume < Infinity)) throw badInput(file, `has an unusable plane orientation, pixel spacing or slice step (${ps.join('\\')} mm, step ${step} mm)`)
  if (!(nz <= MAX_SLICES)) throw badInput(file, `frame positions span ${nz} slices of ${step} mm (more than ${MAX_SLICES})`)
  return { shape: [size[0], size[1], nz], spacing: [ps[1], ps[0], step], origin: [...lowest.position], axes: [row, col, normal] as Axes }
}

function list(v: unknown): any[] {
  if (v === undefined || v === null) return []
  return Array.isArray(v) ? v : [v]
}

/** A segment mask as a volume on `grid` (the reference), placed by world coordinates. */
export function segmentOnGrid(seg: SegData, index: number, grid: Grid): Volume {
  const own = new Volume(segmentMask(seg, index), [...seg.grid.shape], [...seg.grid.spacing], [...seg.grid.origin], seg.grid.axes)
  return sameGrid(own, grid) ? own : resampleTo(own, grid, { interpolation: 'nearest', fill: 0 })
}
