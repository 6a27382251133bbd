/**
 * DICOM Part 10 headers, read with dcmjs (the DICOM toolkit of OHIF) and stopped before the pixel
 * data, so that scanning a folder of hundreds of slices stays fast.
 */
import { readFileSync } from 'node:fs'
import dcmjs from 'dcmjs'

// dcmjs logs on the console for odd VRs in private tags (e.g. 'xs'); it then reads them correctly,
// so for our users those lines are noise. Real parse failures still throw.
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent')
dcmjs.log.setLevel('silent')

// dcmjs fills a value that runs past the end of its data with zeros, allocating whatever length the
// file declares: a 4 kB file could make it allocate gigabytes, or abort the process. A value longer
// than all the data is refused instead (an Error, which the readers turn into a one-line NodalError
// naming the file); a value cut short by a few bytes is still zero-filled, as before.
const dataView = Object.getPrototypeOf(new dcmjs.data.ReadBufferStream(new ArrayBuffer(8)).view)
const slice = dataView.slice
dataView.slice = function (this: { size: number; byteLength: number }, start = 0, end = this.size) {
  if (end - start > this.byteLength) throw new Error(`an element declares ${end - start} bytes, more than the ${this.byteLength} bytes of data`)
  return slice.call(this, start, end)
}

/** A naturalized DICOM dataset: keywords to values, as dcmjs names them. */
export type Dataset = Record<string, any>

export interface DicomHeader {
  file: string
  transferSyntax: string
  ds: Dataset
}

const PIXEL_DATA = '7FE00010'

/** The header of one file, or null when the file is not DICOM Part 10 (so folders may hold other files). */
export function readDicomHeader(file: string, withPixels = false): DicomHeader | null {
  const buf = readFileSync(file)
  if (buf.length < 132 || buf.toString('latin1', 128, 132) !== 'DICM') return null
  const arrayBuffer = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)
  const opts = withPixels ? {} : { untilTag: PIXEL_DATA, includeUntilTagValue: false }
  const parsed = dcmjs.data.DicomMessage.readFile(arrayBuffer, opts)
  const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict)
  const transferSyntax = parsed.meta['00020010']?.Value?.[0] ?? '1.2.840.10008.1.2'
  // a UID has only digits and dots; a damaged element (say, VR UT) may swallow the elements after it
  return { file, transferSyntax: String(transferSyntax).replace(/[^0-9.]/g, ''), ds }
}

export const UNCOMPRESSED_SYNTAXES = new Set([
  '1.2.840.10008.1.2', // implicit VR little endian
  '1.2.840.10008.1.2.1', // explicit VR little endian
  '1.2.840.10008.1.2.2', // explicit VR big endian (retired)
  '1.2.840.10008.1.2.1.99', // deflated explicit VR little endian (dcmjs inflates it)
])

/** First value of a possibly multi-valued attribute, as a number (NaN when absent). */
export function num(ds: Dataset, key: string, index = 0): number {
  const v = ds[key]
  const x = Array.isArray(v) ? v[index] : v
  return x === undefined || x === null || x === '' ? NaN : Number(x)
}

export function nums(ds: Dataset, key: string): number[] {
  const v = ds[key]
  if (v === undefined || v === null) return []
  return (Array.isArray(v) ? v : [v]).map(Number)
}

export function str(ds: Dataset, key: string): string {
  const v = ds[key]
  const x = Array.isArray(v) ? v[0] : v
  if (x === undefined || x === null) return ''
  if (typeof x === 'object' && 'Alphabetic' in x) return String(x.Alphabetic)
  return String(x).trim()
}

