/**
 * Pixel data of ordered DICOM slices, rescaled to modality units (HU for CT).
 *
 * Uncompressed slices are decoded here directly (a typed-array view, then RescaleSlope/Intercept
 * per slice). Compressed transfer syntaxes (JPEG lossless, JPEG 2000, JPEG-LS, RLE, ...) go through
 * GDCM (@itk-wasm/dicom), which also applies the rescale.
 */
import { readFileSync } from 'node:fs'
import { readImageDicomFileSeriesNode } from '@itk-wasm/dicom'
import { badInput } from '../../errors.js'
import { quietly } from '../itk.js'
import { VoxelArray } from '../../volume/volume.js'
import { DicomHeader, num, readDicomHeader, UNCOMPRESSED_SYNTAXES } from './header.js'

/** One slice's stored values and the rescale that turns them into modality units. */
interface StoredSlice {
  values: ArrayLike<number>
  slope: number
  intercept: number
}

export async function decodeSlices(ordered: DicomHeader[]): Promise<VoxelArray> {
  const first = ordered[0].ds
  const perSlice = num(first, 'Rows') * num(first, 'Columns')
  if (num(first, 'SamplesPerPixel') > 1) throw badInput(ordered[0].file, 'colour images are not CT/MR/PET data')
  const slices: StoredSlice[] = []
  for (const h of ordered) slices.push(await decodeSlice(h, perSlice))
  return packSlices(slices, perSlice)
}

/** JPEG (every process), JPEG-LS, JPEG 2000, HTJ2K (1.2.840.10008.1.2.4.x) and RLE: what GDCM decodes. */
const COMPRESSED_SYNTAX = /^1\.2\.840\.10008\.1\.2\.(4\.\d+|5)$/

async function decodeSlice(h: DicomHeader, perSlice: number): Promise<StoredSlice> {
  if (UNCOMPRESSED_SYNTAXES.has(h.transferSyntax)) return decodeNative(h, perSlice)
  // GDCM, handed a file whose syntax it does not know, parsed it its own way and allocated 744 MB for a 3 kB file
  if (!COMPRESSED_SYNTAX.test(h.transferSyntax)) throw badInput(h.file, `has transfer syntax "${h.transferSyntax}", which is neither uncompressed nor a compression nodal decodes`)
  return { values: await decodeWithGdcm(h, perSlice), slope: 1, intercept: 0 }
}

function decodeNative(h: DicomHeader, perSlice: number): StoredSlice {
  const bits = num(h.ds, 'BitsAllocated')
  const signed = num(h.ds, 'PixelRepresentation') === 1
  const need = (perSlice * bits) / 8
  const raw = pixelBytesAtEnd(h, need) ?? pixelBytesFromParse(h, need)
  const view = storedValues(h.file, raw, bits, signed, perSlice)
  return {
    values: maskBitsStored(view, num(h.ds, 'BitsStored'), bits, signed),
    slope: finiteOr(num(h.ds, 'RescaleSlope'), 1),
    intercept: finiteOr(num(h.ds, 'RescaleIntercept'), 0),
  }
}

/**
 * Fast path: in almost every little-endian file the pixel data is the last element, so its bytes
 * are the file's last `need` bytes. That is accepted only when the element header right before them
 * is (7FE0,0010) with exactly that length (implicit VR: tag + 4-byte length; explicit: tag, OW/OB,
 * 2 reserved bytes, 4-byte length). Anything else goes through the full parse.
 */
function pixelBytesAtEnd(h: DicomHeader, need: number): ArrayBuffer | null {
  if (h.transferSyntax === '1.2.840.10008.1.2.2' || h.transferSyntax === '1.2.840.10008.1.2.1.99') return null
  const buf = readFileSync(h.file)
  const start = buf.length - need
  const isPixelTag = (at: number) => at >= 0 && buf.readUInt16LE(at) === 0x7fe0 && buf.readUInt16LE(at + 2) === 0x0010
  const explicit = start - 12
  const implicit = start - 8
  const ok = (isPixelTag(explicit) && /^O[BW]$/.test(buf.toString('latin1', explicit + 4, explicit + 6)) && buf.readUInt32LE(explicit + 8) === need) ||
    (isPixelTag(implicit) && buf.readUInt32LE(implicit + 4) === need)
  return ok ? buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length) : null
}

function pixelBytesFromParse(h: DicomHeader, need: number): ArrayBuffer {
  refuseTruncated(h.file, need)
  let full: DicomHeader
  try {
    full = readDicomHeader(h.file, true)!
  } catch (e) {
    // the header-only read stopped before the pixel data; the full read can still fail past it
    throw badInput(h.file, `corrupt DICOM file (${String((e as Error)?.message ?? e).split(/[\r\n]/)[0]})`)
  }
  const frames = full.ds.PixelData as ArrayBuffer[] | undefined
  if (!frames || frames.length === 0) throw badInput(h.file, 'has no pixel data')
  if (frames[0].byteLength < need) throw badInput(h.file, `truncated pixel data (${frames[0].byteLength} of ${need} bytes)`)
  return frames[0]
}

/**
 * dcmjs fills pixel data cut short by the end of the file with zeros and says nothing, so a truncated
 * slice would read as a slab of zeros. The pixel data element is found from the end of the file: a
 * (7FE0,0010) tag whose declared length is at least one frame; the bytes after its header must hold
 * that length. (A tag-like byte run inside the pixel values would need the same length field too.)
 */
function refuseTruncated(file: string, need: number): void {
  const buf = readFileSync(file)
  const tag = Buffer.from([0xe0, 0x7f, 0x10, 0x00])
  let at = buf.length
  for (let tries = 0; tries < 64; tries++) {
    at = buf.lastIndexOf(tag, at - 1)
    if (at < 0) return
    const explicit = /^O[BW]$/.test(buf.toString('latin1', at + 4, at + 6))
    const headerEnd = at + (explicit ? 12 : 8)
    if (headerEnd > buf.length) continue
    const declared = explicit ? buf.readUInt32LE(at + 8) : buf.readUInt32LE(at + 4)
    if (declared === 0xffffffff || declared < need) continue
    const present = buf.length - headerEnd
    if (present < declared) throw badInput(file, `truncated pixel data: ${present} of ${declared} bytes (the file ends early)`)
    return
  }
}

function storedValues(file: string, raw: ArrayBuffer, bits: number, signed: boolean, count: number): ArrayLike<number> {
  // native pixel data is little-endian here (big-endian files are swapped by dcmjs in the full parse)
  if (bits === 8) return signed ? new Int8Array(raw, 0, count) : new Uint8Array(raw, 0, count)
  if (bits === 16) return signed ? new Int16Array(raw.slice(0, count * 2)) : new Uint16Array(raw.slice(0, count * 2))
  if (bits === 32) return signed ? new Int32Array(raw.slice(0, count * 4)) : new Uint32Array(raw.slice(0, count * 4))
  throw badInput(file, `BitsAllocated ${bits} is not supported`)
}

/** Ignores bits above BitsStored (some scanners put overlays there), sign-extending when signed. */
function maskBitsStored(values: ArrayLike<number>, stored: number, allocated: number, signed: boolean): ArrayLike<number> {
  if (!(stored > 0) || stored >= allocated) return values
  const out = new Int32Array(values.length)
  const mask = 2 ** stored
  for (let n = 0; n < values.length; n++) {
    let v = ((values[n] % mask) + mask) % mask
    if (signed && v >= mask / 2) v -= mask
    out[n] = v
  }
  return out
}

async function decodeWithGdcm(h: DicomHeader, perSlice: number): Promise<ArrayLike<number>> {
  let result
  try {
    result = await quietly(() => readImageDicomFileSeriesNode({ inputImages: [h.file], singleSortedSeries: true }))
  } catch (e) {
    throw badInput(h.file, `GDCM could not decode ${h.transferSyntax} pixel data (${String((e as Error)?.message ?? e).split(/[\r\n]/)[0]})`)
  }
  const data = result.outputImage.data as ArrayLike<number> | null
  if (!data || data.length < perSlice) throw badInput(h.file, 'decoded pixel data is shorter than Rows x Columns')
  return data.length === perSlice ? data : Array.prototype.slice.call(data, 0, perSlice)
}

function finiteOr(v: number, fallback: number): number {
  return Number.isFinite(v) ? v : fallback
}

/**
 * Rescaled values in the smallest exact type: int16 when every value is an integer in range, then
 * int32, else float32. A first pass finds the range, a second writes; no float64 copy of the volume.
 */
function packSlices(slices: StoredSlice[], perSlice: number): VoxelArray {
  let allInt = true, min = Infinity, max = -Infinity
  for (const { values, slope, intercept } of slices) {
    let lo = Infinity, hi = -Infinity
    for (let n = 0; n < values.length; n++) {
      const v = values[n]
      if (v < lo) lo = v
      if (v > hi) hi = v
    }
    const a = lo * slope + intercept, b = hi * slope + intercept
    min = Math.min(min, a, b)
    max = Math.max(max, a, b)
    if (!Number.isInteger(slope) || !Number.isInteger(intercept)) allInt = allInt && slopeKeepsIntegers(values, slope, intercept)
  }
  const Ctor = allInt && min >= -32768 && max <= 32767 ? Int16Array
    : allInt && min >= -2147483648 && max <= 2147483647 ? Int32Array : Float32Array
  const out = new Ctor(perSlice * slices.length)
  slices.forEach(({ values, slope, intercept }, k) => {
    const offset = k * perSlice
    if (slope === 1 && intercept === 0 && values.length === perSlice) out.set(values, offset)
    else for (let n = 0; n < perSlice; n++) out[offset + n] = values[n] * slope + intercept
  })
  return out
}

/** A fractional slope or intercept can still give integers (e.g. slope 0.5 on even values). */
function slopeKeepsIntegers(values: ArrayLike<number>, slope: number, intercept: number): boolean {
  for (let n = 0; n < values.length; n++) if (!Number.isInteger(values[n] * slope + intercept)) return false
  return true
}
