/**
 * Where the elements of a well-formed DICOM Part 10 file are (tag, VR, length field, value), nested
 * sequences included, so that the fuzzer can corrupt one element's length, value or VR. Only used on
 * the fuzzer's seeds (valid files); on anything odd it stops and returns what it found.
 */
import dcmjs from 'dcmjs'

export interface ElementAt {
  /** Offset of the tag. */
  at: number
  tag: string
  /** Offset of the two VR characters (explicit VR only). */
  vrAt?: number
  lenAt: number
  lenSize: 2 | 4
  valueAt: number
  length: number
  undefinedLength: boolean
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])
const UNDEFINED = 0xffffffff

export function scanDicom(buf: Uint8Array): ElementAt[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (b.length < 132 || b.toString('latin1', 128, 132) !== 'DICM') return []
  const out: ElementAt[] = []
  try {
    const metaEnd = metaGroupEnd(b)
    walk(b, 132, metaEnd, true, out)
    walk(b, metaEnd, b.length, !implicitSyntax(b, out), out)
  } catch {
    // a seed we cannot fully walk: the elements found so far are enough
  }
  return out
}

function metaGroupEnd(b: Buffer): number {
  let p = 132
  while (p + 8 <= b.length && b.readUInt16LE(p) === 0x0002) {
    const vr = b.toString('latin1', p + 4, p + 6)
    p += LONG_VRS.has(vr) ? 12 + b.readUInt32LE(p + 8) : 8 + b.readUInt16LE(p + 6)
  }
  return p
}

function implicitSyntax(b: Buffer, meta: ElementAt[]): boolean {
  const ts = meta.find((e) => e.tag === '00020010')
  return !!ts && b.toString('latin1', ts.valueAt, ts.valueAt + ts.length).replace(/\0/g, '').trim() === '1.2.840.10008.1.2'
}

/** Reads elements in [p, end); returns where it stopped (after a delimiter, or at end). */
function walk(b: Buffer, p: number, end: number, explicit: boolean, out: ElementAt[]): number {
  while (p + 8 <= end) {
    const group = b.readUInt16LE(p), element = b.readUInt16LE(p + 2)
    const tag = hex4(group) + hex4(element)
    if (group === 0xfffe) {
      const length = b.readUInt32LE(p + 4)
      out.push({ at: p, tag, lenAt: p + 4, lenSize: 4, valueAt: p + 8, length: length === UNDEFINED ? 0 : length, undefinedLength: length === UNDEFINED })
      if (element === 0xe00d || element === 0xe0dd) return p + 8 // item / sequence delimiter
      p = length === UNDEFINED ? walk(b, p + 8, end, explicit, out) : (walk(b, p + 8, p + 8 + length, explicit, out), p + 8 + length)
      continue
    }
    const { vr, vrAt, lenAt, lenSize, valueAt } = elementHeader(b, p, tag, explicit)
    const length = lenSize === 2 ? b.readUInt16LE(lenAt) : b.readUInt32LE(lenAt)
    const undefinedLength = length === UNDEFINED
    out.push({ at: p, tag, vrAt, lenAt, lenSize, valueAt, length: undefinedLength ? 0 : length, undefinedLength })
    if (undefinedLength) p = walk(b, valueAt, end, explicit, out) // a sequence (or encapsulated pixel data) up to its delimiter
    else if (vr === 'SQ') { walk(b, valueAt, valueAt + length, explicit, out); p = valueAt + length }
    else p = valueAt + length
  }
  return p
}

function elementHeader(b: Buffer, p: number, tag: string, explicit: boolean) {
  if (!explicit) return { vr: dictionaryVr(tag), vrAt: undefined, lenAt: p + 4, lenSize: 4 as const, valueAt: p + 8 }
  const vr = b.toString('latin1', p + 4, p + 6)
  return LONG_VRS.has(vr)
    ? { vr, vrAt: p + 4, lenAt: p + 8, lenSize: 4 as const, valueAt: p + 12 }
    : { vr, vrAt: p + 4, lenAt: p + 6, lenSize: 2 as const, valueAt: p + 8 }
}

function dictionaryVr(tag: string): string {
  const entry = (dcmjs.data.DicomMetaDictionary as any).dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`]
  return entry?.vr ?? 'UN'
}

function hex4(v: number): string {
  return v.toString(16).toUpperCase().padStart(4, '0')
}
