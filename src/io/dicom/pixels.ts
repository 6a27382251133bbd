/**
 * Pixel data of ordered DICOM slices, rescaled to modality units (HU for CT).
 *
 * Uncompressed slices are decoded here directly (a typed-array view, then RescaleSlope/Intercept
 * per slice). Compressed transfer syntaxes (JPEG lossless, JPEG 2000, JPEG-LS, RLE, ...) go through
 * GDCM (@itk-wasm/dicom), which also applies the rescale.
 */
import { readImageDicomFileSeriesNode } from '@itk-wasm/dicom'
import { badInput } from '../../errors.js'
import { quietly } from '../itk.js'
import { VoxelArray } from '../../volume/volume.js'
import { DicomHeader, num, readDicomHeader, UNCOMPRESSED_SYNTAXES } from './header.js'

export async function decodeSlices(ordered: DicomHeader[]): Promise<VoxelArray> {
  const first = ordered[0].ds
  const perSlice = num(first, 'Rows') * num(first, 'Columns')
  if (num(first, 'SamplesPerPixel') > 1) throw badInput(ordered[0].file, 'colour images are not CT/MR/PET data')
  const slices: Float64Array[] = []
  for (const h of ordered) slices.push(await decodeSlice(h, perSlice))
  return packSlices(slices, perSlice)
}

async function decodeSlice(h: DicomHeader, perSlice: number): Promise<Float64Array> {
  if (UNCOMPRESSED_SYNTAXES.has(h.transferSyntax)) return decodeNative(h, perSlice)
  return decodeWithGdcm(h, perSlice)
}

function decodeNative(h: DicomHeader, perSlice: number): Float64Array {
  const full = readDicomHeader(h.file, true)!
  const frames = full.ds.PixelData as ArrayBuffer[] | undefined
  if (!frames || frames.length === 0) throw badInput(h.file, 'has no pixel data')
  const bits = num(full.ds, 'BitsAllocated')
  const signed = num(full.ds, 'PixelRepresentation') === 1
  const raw = frames[0]
  const need = (perSlice * bits) / 8
  if (raw.byteLength < need) throw badInput(h.file, `truncated pixel data (${raw.byteLength} of ${need} bytes)`)
  const view = storedValues(h.file, raw, bits, signed, perSlice)
  const stored = maskBitsStored(view, num(full.ds, 'BitsStored'), bits, signed)
  const slope = finiteOr(num(full.ds, 'RescaleSlope'), 1)
  const inter = finiteOr(num(full.ds, 'RescaleIntercept'), 0)
  const out = new Float64Array(perSlice)
  for (let n = 0; n < perSlice; n++) out[n] = stored[n] * slope + inter
  return out
}

function storedValues(file: string, raw: ArrayBuffer, bits: number, signed: boolean, count: number): ArrayLike<number> {
  // dcmjs hands native pixel data back in the machine's (little-endian) byte order
  if (bits === 8) return signed ? new Int8Array(raw, 0, count) : new Uint8Array(raw, 0, count)
  if (bits === 16) return signed ? new Int16Array(raw.slice(0, count * 2)) : new Uint16Array(raw.slice(0, count * 2))
  if (bits === 32) return signed ? new Int32Array(raw.slice(0, count * 4)) : new Uint32Array(raw.slice(0, count * 4))
  throw badInput(file, `BitsAllocated ${bits} is not supported`)
}

/** Ignores bits above BitsStored (some scanners put overlays there), sign-extending when signed. */
function maskBitsStored(values: ArrayLike<number>, stored: number, allocated: number, signed: boolean): ArrayLike<number> {
  if (!(stored > 0) || stored >= allocated) return values
  const out = new Float64Array(values.length)
  const mask = 2 ** stored
  for (let n = 0; n < values.length; n++) {
    let v = ((values[n] % mask) + mask) % mask
    if (signed && v >= mask / 2) v -= mask
    out[n] = v
  }
  return out
}

async function decodeWithGdcm(h: DicomHeader, perSlice: number): Promise<Float64Array> {
  let result
  try {
    result = await quietly(() => readImageDicomFileSeriesNode({ inputImages: [h.file], singleSortedSeries: true }))
  } catch (e) {
    throw badInput(h.file, `GDCM could not decode ${h.transferSyntax} pixel data (${String((e as Error)?.message ?? e).split('\n')[0]})`)
  }
  const data = result.outputImage.data as ArrayLike<number> | null
  if (!data || data.length < perSlice) throw badInput(h.file, 'decoded pixel data is shorter than Rows x Columns')
  const out = new Float64Array(perSlice)
  for (let n = 0; n < perSlice; n++) out[n] = data[n]
  return out
}

function finiteOr(v: number, fallback: number): number {
  return Number.isFinite(v) ? v : fallback
}

/** Smallest exact type: int16 when every value is an integer in range, then int32, else float32. */
function packSlices(slices: Float64Array[], perSlice: number): VoxelArray {
  let allInt = true, min = Infinity, max = -Infinity
  for (const s of slices) {
    for (let n = 0; n < s.length; n++) {
      const v = s[n]
      if (allInt && !Number.isInteger(v)) allInt = false
      if (v < min) min = v
      if (v > max) max = v
    }
  }
  const Ctor = allInt && min >= -32768 && max <= 32767 ? Int16Array
    : allInt && min >= -2147483648 && max <= 2147483647 ? Int32Array : Float32Array
  const out = new Ctor(perSlice * slices.length)
  slices.forEach((s, k) => out.set(s, k * perSlice))
  return out
}
