/**
 * Structured mutations of valid files for the reader fuzzer (bench/fuzz/fuzz.ts), as fast-check
 * arbitraries: a generated value *describes* the mutations (plain data, JSON-printable, so a crash
 * record says what was done) and the apply* functions carry them out on a seed's bytes.
 *
 *   bytes   flips, byte sets, boundary integers at any offset, truncation, deletion, insertion, splicing
 *   fields  binary header fields (NIfTI) overwritten with boundary integers / floats (NaN, ±Inf, huge)
 *   dicom   DICOM elements: length fields, values (boundary strings and integers), VRs, drop, duplicate
 *   text    "key: value" / "Key = Value" header lines (NRRD, MetaImage): values, keys, order, line ends
 *   json    a JSON tree: set / delete / rename / duplicate nodes, then optional text-level damage
 */
import fc from 'fast-check'
import { scanDicom } from './dicom-scan.js'

// ------------------------------------------------------------------ boundary values

export const BOUNDARY_INTS = [
  0, 1, -1, 2, 3, 4, 7, 8, 16, 127, 128, 255, 256, 1000, 32767, -32768, 32768, 65535, 65536,
  2147483647, -2147483648, 2147483648, 4294967295, 4294967296, 2 ** 40, 2 ** 53, -(2 ** 53), 2 ** 62, 1e15,
]
export const BOUNDARY_FLOATS = [
  0, -0, 1, -1, 0.5, 1e-45, 1e-300, 1e-7, 3.4e38, 1e38, 1e300, 1e308, Number.MAX_VALUE, NaN, Infinity, -Infinity, 2 ** 31, 1e9, -1e9,
]
/** Strings that numbers, lists, UIDs and enumerations in headers are made of, and their failures. */
export const BOUNDARY_STRINGS = [
  '', ' ', '0', '-0', '1', '-1', '2', '3', '7', '8', '12', '16', '32', '64', '65535', '65536', '2147483648',
  '4294967296', '99999999999', '1e308', '-1e308', '1e-320', 'NaN', 'nan', 'inf', '-inf', 'Infinity', '0x10',
  '1.5', ' 1 ', 'abc', '\\', '1\\2', '1\\2\\3', '1\\2\\3\\4\\5\\6\\7', '0\\0\\0\\0\\0\\0', '1\\0\\0\\0\\0\\0',
  '0\\0\\0', '1e308\\1e308\\1e308', 'NaN\\NaN\\NaN', '\0', '\n', '\r\n', 'a\nb', '%d', '../x', '.',
]

const int = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...BOUNDARY_INTS) }, { weight: 1, arbitrary: fc.integer() })
const float = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...BOUNDARY_FLOATS) }, { weight: 1, arbitrary: fc.double() })

// ------------------------------------------------------------------ raw bytes

export type ByteMutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'int'; at: number; width: 1 | 2 | 4 | 8; value: number; little: boolean }
  | { op: 'truncate'; at: number }
  | { op: 'delete'; at: number; len: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'splice'; from: number; to: number; len: number }
  | { op: 'repeat'; at: number; len: number; times: number }

const at = fc.nat()
export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), at, value: fc.oneof(fc.constantFrom(0, 0xff, 0x7f, 0x80, 1, 0x20, 0x5c), fc.integer({ min: 0, max: 255 })) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('int' as const), at, width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const), value: int, little: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at, len: fc.integer({ min: 1, max: 256 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at, bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 32 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('splice' as const), from: at, to: at, len: fc.integer({ min: 1, max: 512 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('repeat' as const), at, len: fc.integer({ min: 1, max: 64 }), times: fc.integer({ min: 2, max: 64 }) }) },
)
export const byteMutations = (max = 4) => fc.array(byteMutation, { minLength: 1, maxLength: max })

/** A position inside `length` (positions are generated unbounded, biased small: the header end). */
function pos(p: number, length: number): number {
  return length === 0 ? 0 : p % (length + 1)
}

/** Writes an integer of `width` bytes (wrapping like a C cast) at `offset`; out-of-range parts are dropped. */
export function writeInt(buf: Uint8Array, offset: number, width: number, value: number, little = true): void {
  const big = BigInt.asUintN(width * 8, BigInt(Math.trunc(Number.isFinite(value) ? value : 0)))
  for (let b = 0; b < width; b++) {
    const byte = Number((big >> BigInt(8 * b)) & 0xffn)
    const o = offset + (little ? b : width - 1 - b)
    if (o >= 0 && o < buf.length) buf[o] = byte
  }
}

export function writeFloat(buf: Uint8Array, offset: number, width: 4 | 8, value: number, little = true): void {
  const tmp = new DataView(new ArrayBuffer(8))
  if (width === 4) tmp.setFloat32(0, value, little)
  else tmp.setFloat64(0, value, little)
  for (let b = 0; b < width; b++) if (offset + b < buf.length) buf[offset + b] = tmp.getUint8(b)
}

export function applyBytes(input: Uint8Array, ms: ByteMutation[]): Uint8Array {
  let b: Uint8Array = Uint8Array.from(input)
  for (const m of ms) b = applyByte(b, m)
  return b
}

function applyByte(b: Uint8Array, m: ByteMutation): Uint8Array {
  const n = b.length
  switch (m.op) {
    case 'flip': if (n) b[pos(m.at, n - 1)] ^= 1 << m.bit; return b
    case 'set': if (n) b[pos(m.at, n - 1)] = m.value; return b
    case 'int': writeInt(b, pos(m.at, n), m.width, m.value, m.little); return b
    case 'truncate': return b.slice(0, pos(m.at, n))
    case 'delete': { const p = pos(m.at, n); return concat(b.subarray(0, p), b.subarray(p + m.len)) }
    case 'insert': { const p = pos(m.at, n); return concat(b.subarray(0, p), Uint8Array.from(m.bytes), b.subarray(p)) }
    case 'splice': { const f = pos(m.from, n), t = pos(m.to, n); return concat(b.subarray(0, t), b.slice(f, f + m.len), b.subarray(t)) }
    case 'repeat': { const p = pos(m.at, n), chunk = b.slice(p, p + m.len); return concat(b.subarray(0, p), ...Array(m.times).fill(chunk), b.subarray(p)) }
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}

// ------------------------------------------------------------------ binary header fields

export type FieldType = 'i8' | 'u8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64' | 'bytes'
export interface Field { name: string; offset: number; type: FieldType; size?: number }
export interface FieldMutation { op: 'field'; field: number; int: number; float: number; bytes: number[] }

export const fieldMutation: fc.Arbitrary<FieldMutation> = fc.record({
  op: fc.constant('field' as const), field: fc.nat(), int, float,
  bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }),
})

/** Overwrites one field of `fields` (chosen by index) in place, in the file's byte order. */
export function applyField(b: Uint8Array, fields: Field[], m: FieldMutation, little = true): void {
  const f = fields[m.field % fields.length]
  if (f.type === 'f32' || f.type === 'f64') return writeFloat(b, f.offset, f.type === 'f32' ? 4 : 8, m.float, little)
  if (f.type === 'bytes') { b.set(m.bytes.slice(0, Math.min(f.size ?? 4, b.length - f.offset)), f.offset); return }
  const width = { i8: 1, u8: 1, i16: 2, i32: 4, i64: 8 }[f.type]
  writeInt(b, f.offset, width, m.int, little)
}

// ------------------------------------------------------------------ DICOM elements

export interface ElementMutation {
  op: 'element'
  which: number
  action: 'length' | 'value' | 'resize' | 'number' | 'vr' | 'drop' | 'dup'
  int: number
  text: string
  vr: string
}

const VRS = ['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'TM', 'UI', 'UL', 'UN', 'US', 'UT', 'xx', '\0\0']
const DICOM_STRINGS = [
  ...BOUNDARY_STRINGS,
  '1.2.840.10008.5.1.4.1.1.481.3', '1.2.840.10008.5.1.4.1.1.66.4', '1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.5',
  '1.2.840.10008.1.2.4.90', 'CLOSED_PLANAR', 'POINT', 'OPEN_PLANAR', 'FRACTIONAL', 'BINARY', 'CT', 'MR', 'PT', 'RTSTRUCT', 'SEG',
  'MONOCHROME1', 'RGB', 'PALETTE COLOR', 'ORGAN', 'GTV',
]

export const elementMutation: fc.Arbitrary<ElementMutation> = fc.record({
  op: fc.constant('element' as const),
  which: fc.nat(),
  action: fc.constantFrom('length', 'value', 'value', 'resize', 'number', 'number', 'vr', 'drop', 'dup'),
  int,
  text: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...DICOM_STRINGS) }, { weight: 1, arbitrary: fc.string({ maxLength: 24 }) }),
  vr: fc.constantFrom(...VRS),
})

/**
 * Applies element mutations to a well-formed Part 10 file. The elements are found once, on the seed;
 * mutations are applied from the last element to the first, so earlier offsets stay valid.
 */
export function applyElements(seed: Uint8Array, ms: ElementMutation[]): Uint8Array {
  const elements = scanDicom(seed)
  if (elements.length === 0) return Uint8Array.from(seed)
  const chosen = ms.map((m) => ({ m, e: elements[m.which % elements.length] })).sort((a, b) => b.e.at - a.e.at)
  let b: Uint8Array = Uint8Array.from(seed)
  for (const { m, e } of chosen) b = applyElement(b, e, m)
  return b
}

function applyElement(b: Uint8Array, e: ReturnType<typeof scanDicom>[number], m: ElementMutation): Uint8Array {
  const end = e.undefinedLength ? e.valueAt : e.valueAt + e.length
  switch (m.action) {
    case 'length': writeInt(b, e.lenAt, e.lenSize, m.int); return b
    case 'value': { // same length: the structure around stays intact
      const text = Buffer.from(m.text, 'latin1')
      for (let i = 0; i < e.length && e.valueAt + i < b.length && !e.undefinedLength; i++) b[e.valueAt + i] = i < text.length ? text[i] : 0x20
      return b
    }
    case 'resize': { // new value, own length updated (enclosing lengths are left stale)
      if (e.undefinedLength) return b
      let text = Buffer.from(m.text, 'latin1')
      if (text.length % 2) text = Buffer.concat([text, Buffer.from(' ')])
      if (text.length >= 2 ** (8 * e.lenSize)) return b
      const out = concat(b.subarray(0, e.valueAt), text, b.subarray(end))
      writeInt(out, e.lenAt, e.lenSize, text.length)
      return out
    }
    case 'number': if (!e.undefinedLength && e.length > 0) writeInt(b, e.valueAt, Math.min(e.length, 4) >= 4 ? 4 : 2, m.int); return b
    case 'vr': if (e.vrAt !== undefined) b.set(Buffer.from(m.vr, 'latin1'), e.vrAt); else writeInt(b, e.lenAt, e.lenSize, m.int); return b
    case 'drop': return e.undefinedLength ? b : concat(b.subarray(0, e.at), b.subarray(end))
    case 'dup': return e.undefinedLength ? b : concat(b.subarray(0, end), b.slice(e.at, end), b.subarray(end))
  }
}

// ------------------------------------------------------------------ text headers (NRRD, MetaImage)

export interface TextMutation {
  op: 'set' | 'number' | 'delete' | 'dup' | 'swap' | 'insert' | 'rename' | 'eol' | 'raw'
  line: number
  other: number
  value: string
  number: number
  key: string
  eol: string
}

const numberText = fc.oneof(
  fc.constantFrom(...BOUNDARY_INTS.map(String), ...BOUNDARY_FLOATS.map(String), '1e400', '-0', '00000000000000000001'),
  fc.integer().map(String),
  fc.double().map(String),
)

/** Values that header keys take: numbers, lists of numbers (right and wrong counts), vectors, enumerations. */
export function headerValue(enums: string[]): fc.Arbitrary<string> {
  const list = fc.array(numberText, { minLength: 0, maxLength: 5 })
  return fc.oneof(
    { weight: 3, arbitrary: numberText },
    { weight: 3, arbitrary: list.map((xs) => xs.join(' ')) },
    { weight: 2, arbitrary: fc.array(fc.array(numberText, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }).map((vs) => vs.map((v) => `(${v.join(',')})`).join(' ')) },
    { weight: 3, arbitrary: fc.constantFrom(...enums) },
    { weight: 1, arbitrary: fc.constantFrom(...BOUNDARY_STRINGS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  )
}

export function textMutation(keys: string[], enums: string[]): fc.Arbitrary<TextMutation> {
  return fc.record({
    op: fc.constantFrom('set', 'set', 'number', 'number', 'number', 'delete', 'dup', 'swap', 'insert', 'insert', 'rename', 'eol', 'raw'),
    line: fc.nat(), other: fc.nat(), value: headerValue(enums), number: fc.nat(),
    key: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }),
    eol: fc.constantFrom('\r\n', '\r', '\n\n', ''),
  })
}

/**
 * A header as lines of `key<sep>value`. The magic first line (NRRD0004) is one of the lines: it may
 * be mutated too. `sep` is ': ' for NRRD, ' = ' for MetaImage.
 */
export function applyText(header: string, sep: string, ms: TextMutation[]): string {
  const lines = header.split('\n')
  let eol = '\n'
  for (const m of ms) {
    const i = lines.length ? m.line % lines.length : 0
    const [key, value] = splitLine(lines[i] ?? '', sep)
    switch (m.op) {
      case 'set': lines[i] = `${key}${sep}${m.value}`; break
      case 'number': lines[i] = `${key}${sep}${replaceNumber(value, m.number, m.value)}`; break
      case 'delete': lines.splice(i, 1); break
      case 'dup': lines.splice(i, 0, lines[i] ?? ''); break
      case 'swap': { const j = m.other % Math.max(lines.length, 1); [lines[i], lines[j]] = [lines[j], lines[i]]; break }
      case 'insert': lines.splice(i, 0, `${m.key}${sep}${m.value}`); break
      case 'rename': lines[i] = `${m.key}${sep}${value}`; break
      case 'eol': eol = m.eol || '\n'; break
      case 'raw': lines[i] = m.value; break
    }
  }
  return lines.join(eol)
}

function splitLine(line: string, sep: string): [string, string] {
  const at = line.indexOf(sep.trim())
  if (at < 0) return [line, '']
  return [line.slice(0, at).trimEnd(), line.slice(at + sep.trim().length).trimStart()]
}

/** Replaces the n-th number token of `value` (by position) with `replacement`, keeping the rest. */
function replaceNumber(value: string, n: number, replacement: string): string {
  const tokens = [...value.matchAll(/-?[\d.]+(?:e[+-]?\d+)?/gi)]
  if (tokens.length === 0) return replacement
  const t = tokens[n % tokens.length]
  return value.slice(0, t.index) + replacement + value.slice(t.index! + t[0].length)
}

// ------------------------------------------------------------------ JSON

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

export interface JsonMutation {
  op: 'set' | 'delete' | 'rename' | 'dup' | 'wrap'
  node: number
  value: Json
  key: string
}

const jsonBoundary: Json[] = [
  null, true, false, 0, -1, 1, 2, 0.5, -0.5, 1e308, -1e308, 2 ** 53 + 2, 4294967296, '', '0', '-1', '1.5', '01', ' 1', '1e3',
  '.nii.gz', '.nii', '.', '..', '../..', '/', '/nonexistent', 'a\nb', '\u0000', '\u2028', 'x'.repeat(300), '__proto__',
  'benign', 'malignant', 'GTVn', 'LN', 'ignore', 'background', [], {}, [0], [1, 2], ['0000'], { '0': 'CT' }, { 'images': [] },
]
const jsonKeys = [
  'channel_names', 'labels', 'numTraining', 'file_ending', 'name', 'description', 'modality', 'dataset', 'images', 'label',
  'instances', 'map', 'json', 'nodal', 'patients', 'class', 'class_index', 'roi', 'background', 'ignore', 'benign_node',
  'malignant_node', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '00', '1', '-1', '1e3', '9007199254740993',
  '', ' ', 'a\nb', '\u0000', 'case"quote',
]

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.record({
  op: fc.constantFrom('set', 'set', 'set', 'delete', 'rename', 'dup', 'wrap'),
  node: fc.nat(),
  value: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...jsonBoundary) }, { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> }),
  key: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...jsonKeys) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }),
})

interface Slot { parent: Json[] | { [k: string]: Json } | null; key: string | number }

/** Every node of a tree as its (parent, key) slot; the root has no parent. */
function slots(root: Json): Slot[] {
  const out: Slot[] = [{ parent: null, key: '' }]
  const walk = (v: Json) => {
    if (Array.isArray(v)) v.forEach((c, i) => { out.push({ parent: v, key: i }); walk(c) })
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) { out.push({ parent: v, key: k }); walk(v[k]) }
  }
  walk(root)
  return out
}

export function applyJson(seed: Json, ms: JsonMutation[]): Json {
  let root: Json = structuredClone(seed)
  for (const m of ms) {
    const all = slots(root)
    const s = all[m.node % all.length]
    if (!s.parent) { root = m.op === 'wrap' ? [root] : m.op === 'set' ? m.value : root; continue }
    const p = s.parent as any
    const current = p[s.key]
    if (m.op === 'set') defineSlot(p, s.key, structuredClone(m.value))
    else if (m.op === 'wrap') defineSlot(p, s.key, Array.isArray(current) || m.key === '' ? [current] : { [m.key]: current })
    else if (m.op === 'delete') Array.isArray(p) ? p.splice(s.key as number, 1) : delete p[s.key]
    else if (m.op === 'rename' && !Array.isArray(p)) { delete p[s.key]; defineSlot(p, m.key, current) }
    else if (m.op === 'dup') Array.isArray(p) ? p.push(structuredClone(current)) : defineSlot(p, m.key, structuredClone(current))
  }
  return root
}

/** Sets an own property even for "__proto__" (as JSON.parse would make it). */
function defineSlot(o: any, key: string | number, value: Json): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })
}

/** JSON text of a mutated tree: compact or indented, then optionally damaged byte by byte. */
export const jsonText = fc.record({
  indent: fc.constantFrom(0, 2),
  damage: fc.oneof({ weight: 4, arbitrary: fc.constant([] as ByteMutation[]) }, { weight: 1, arbitrary: byteMutations(3) }),
  prefix: fc.constantFrom('', '', '', '\uFEFF', ' \n'),
})

export function renderJson(value: Json, t: { indent: number; damage: ByteMutation[]; prefix: string }): Uint8Array {
  const text = t.prefix + JSON.stringify(value, null, t.indent)
  return applyBytes(Buffer.from(text, 'utf8'), t.damage)
}
