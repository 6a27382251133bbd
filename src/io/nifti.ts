/**
 * NIfTI-1 and NIfTI-2 (.nii, .nii.gz), read and written by hand.
 *
 * Why not ITK (@itk-wasm/image-io)? Its NIfTI reader does not open NIfTI-2 files and always casts
 * scaled data to float; NIfTI is nodal's main dataset format, so it gets a small, fast, exact codec here.
 * Geometry rules follow nibabel (and ITK for the common cases):
 *   - sform when sform_code > 0, else qform when qform_code > 0, else pixdim scaling only (ANALYZE);
 *   - the affine maps (i,j,k) to RAS+ mm; nodal keeps LPS, so rows x and y are negated here and nowhere else;
 *   - scl_slope 0 or NaN means "no scaling"; otherwise value = stored*slope + inter (as float32, float64 for
 *     float64 files).
 */
import { gunzipSync, gzipSync } from 'node:zlib'
import { badInput } from '../errors.js'
import { DType, Vec3, Volume, VoxelArray, affineLPS, gridFromAffine } from '../volume/volume.js'

interface DatatypeInfo { dtype: DType | 'int64' | 'uint64'; bytes: number }

const DATATYPES: Record<number, DatatypeInfo> = {
  2: { dtype: 'uint8', bytes: 1 },
  4: { dtype: 'int16', bytes: 2 },
  8: { dtype: 'int32', bytes: 4 },
  16: { dtype: 'float32', bytes: 4 },
  64: { dtype: 'float64', bytes: 8 },
  256: { dtype: 'int8', bytes: 1 },
  512: { dtype: 'uint16', bytes: 2 },
  768: { dtype: 'uint32', bytes: 4 },
  1024: { dtype: 'int64', bytes: 8 },
  1280: { dtype: 'uint64', bytes: 8 },
}
const CODE_OF_DTYPE: Record<DType, number> = {
  uint8: 2, int16: 4, int32: 8, float32: 16, float64: 64, int8: 256, uint16: 512, uint32: 768,
}

/** Field offsets of the two header versions (NIfTI-1: 348 bytes, NIfTI-2: 540 bytes). */
const LAYOUT = {
  1: { size: 348, dim: 40, intSize: 2, intent: 68, datatype: 70, bitpix: 72, pixdim: 76, floatSize: 4,
    voxOffset: 108, sclSlope: 112, sclInter: 116, xyztUnits: 123, qformCode: 252, sformCode: 254,
    quatern: 256, srow: 280, magic: 344, dataStart: 352, descrip: 148 },
  2: { size: 540, dim: 16, intSize: 8, intent: 0, datatype: 12, bitpix: 14, pixdim: 104, floatSize: 8,
    voxOffset: 168, sclSlope: 176, sclInter: 184, xyztUnits: 500, qformCode: 344, sformCode: 348,
    quatern: 352, srow: 400, magic: 4, dataStart: 544, descrip: 240 },
} as const

export function isNiftiPath(path: string): boolean {
  return /\.nii(\.gz)?$/i.test(path)
}

export function decodeNifti(file: string, raw: Buffer): Volume {
  const buf = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b ? gunzip(file, raw) : raw
  if (buf.length < 348) throw badInput(file, `too short for a NIfTI header (${buf.length} bytes)`)
  const { version, little } = detectVersion(file, buf)
  const L = LAYOUT[version]
  const rd = reader(buf, little)
  const int = (off: number) => (L.intSize === 2 ? rd.i16(off) : Number(rd.i64(off)))
  const flt = (off: number) => (L.floatSize === 4 ? rd.f32(off) : rd.f64(off))

  const ndim = int(L.dim)
  if (ndim < 1 || ndim > 7) throw badInput(file, `invalid NIfTI dim[0]=${ndim}`)
  const dims = Array.from({ length: 7 }, (_, i) => (i < ndim ? int(L.dim + (i + 1) * L.intSize) : 1))
  if (dims.some((d) => d < 1)) throw badInput(file, `invalid NIfTI dimensions ${dims.slice(0, ndim).join('x')}`)
  const extra = dims.slice(3).reduce((a, b) => a * b, 1)
  if (extra > 1) throw badInput(file, `has ${ndim} dimensions (${dims.slice(0, ndim).join('x')}); nodal reads 3D scalar images`)
  const shape: Vec3 = [dims[0], dims[1], dims[2]]

  const code = rd.i16(L.datatype)
  const info = DATATYPES[code]
  if (!info) throw badInput(file, `NIfTI datatype ${code} is not a scalar type nodal reads`)
  const voxOffset = version === 1 ? Math.max(Math.round(flt(L.voxOffset)), 0) : Number(rd.i64(L.voxOffset))
  if (version === 1 && voxOffset === 0) throw badInput(file, 'is a .hdr/.img pair header; convert it to a single .nii first')
  // voxels inside the header (or, NIfTI-2, at a negative offset) would let dim[] claim more than the file holds
  if (!(voxOffset >= L.size)) throw badInput(file, `invalid vox_offset ${voxOffset} (voxels must follow the ${L.size}-byte header)`)
  const count = shape[0] * shape[1] * shape[2]
  const end = voxOffset + count * info.bytes
  if (buf.length < end) throw badInput(file, `truncated: ${buf.length} bytes, the header needs ${end}`)

  let data = readVoxels(buf, voxOffset, count, info, little)
  data = applyScaling(data, flt(L.sclSlope), flt(L.sclInter))

  const unitScale = spatialUnitScale(buf[L.xyztUnits] & 0x07)
  const rasAffine = chooseAffine(rd, L, flt)
  const grid = gridFromAffine(shape, rasToLps(rasAffine).map((row, r) => row.map((v, c) => (r < 3 ? v * unitScale : v))))
  if (grid.spacing.some((s) => !(s > 0))) throw badInput(file, 'has a degenerate affine (zero voxel size)')
  return new Volume(data, shape, grid.spacing, grid.origin, grid.axes, { format: version === 1 ? 'nifti1' : 'nifti2', ...modalityFromDescrip(buf.toString('latin1', L.descrip, L.descrip + 80)) })
}

/**
 * NIfTI has no modality field; nodal keeps it in the free-text descrip ("modality=PT units=SUVbw"),
 * so a PET volume stays PET through NIfTI (and is not, say, written as a CT series later).
 */
const DESCRIBED_MODALITIES = ['CT', 'MR', 'PT']

function descripOf(vol: Volume): string {
  const modality = String(vol.meta.modality ?? '').toUpperCase()
  if (!DESCRIBED_MODALITIES.includes(modality)) return ''
  return `modality=${modality}${vol.meta.units ? ` units=${String(vol.meta.units).replace(/\s/g, '')}` : ''}`.slice(0, 79)
}

function modalityFromDescrip(text: string): Record<string, string> {
  const m = /(?:^|\s)modality=(CT|MR|PT)(?:\s+units=(\S+))?/.exec(text.replace(/\0.*$/s, ''))
  return m ? { modality: m[1]!, ...(m[2] ? { units: m[2] } : {}) } : {}
}

function gunzip(file: string, raw: Buffer): Buffer {
  try {
    return gunzipSync(raw)
  } catch (e) {
    throw badInput(file, `corrupt gzip stream (${(e as Error).message})`)
  }
}

function detectVersion(file: string, buf: Buffer): { version: 1 | 2; little: boolean } {
  for (const little of [true, false]) {
    const size = little ? buf.readInt32LE(0) : buf.readInt32BE(0)
    if (size === 348) return { version: 1, little }
    if (size === 540) return { version: 2, little }
  }
  throw badInput(file, 'not a NIfTI file (header size is neither 348 nor 540)')
}

function reader(buf: Buffer, little: boolean) {
  return little
    ? { i16: (o: number) => buf.readInt16LE(o), i32: (o: number) => buf.readInt32LE(o), i64: (o: number) => buf.readBigInt64LE(o), f32: (o: number) => buf.readFloatLE(o), f64: (o: number) => buf.readDoubleLE(o) }
    : { i16: (o: number) => buf.readInt16BE(o), i32: (o: number) => buf.readInt32BE(o), i64: (o: number) => buf.readBigInt64BE(o), f32: (o: number) => buf.readFloatBE(o), f64: (o: number) => buf.readDoubleBE(o) }
}

function readVoxels(buf: Buffer, offset: number, count: number, info: DatatypeInfo, little: boolean): VoxelArray {
  const bytes = buf.subarray(offset, offset + count * info.bytes)
  if (info.dtype === 'int64' || info.dtype === 'uint64') return readInt64(bytes, count, info.dtype === 'int64', little)
  const Ctor = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array }[info.dtype]
  const out = new Ctor(count)
  const outBytes = new Uint8Array(out.buffer)
  outBytes.set(bytes)
  if (!little && info.bytes > 1) swapBytes(outBytes, info.bytes)
  return out
}

/** 64-bit integers: int32 when every value fits, else float64 (exact up to 2^53). */
function readInt64(bytes: Uint8Array, count: number, signed: boolean, little: boolean): VoxelArray {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const values = new Float64Array(count)
  let fitsInt32 = true
  for (let n = 0; n < count; n++) {
    const v = Number(signed ? view.getBigInt64(n * 8, little) : view.getBigUint64(n * 8, little))
    values[n] = v
    if (v < -2147483648 || v > 2147483647) fitsInt32 = false
  }
  return fitsInt32 ? Int32Array.from(values) : values
}

function swapBytes(b: Uint8Array, width: number): void {
  for (let o = 0; o < b.length; o += width) {
    for (let i = 0; i < width / 2; i++) {
      const t = b[o + i]; b[o + i] = b[o + width - 1 - i]; b[o + width - 1 - i] = t
    }
  }
}

function applyScaling(data: VoxelArray, slope: number, inter: number): VoxelArray {
  if (!Number.isFinite(slope) || slope === 0) return data
  if (!Number.isFinite(inter)) inter = 0
  if (slope === 1 && inter === 0) return data
  const out = data instanceof Float64Array ? new Float64Array(data.length) : new Float32Array(data.length)
  for (let n = 0; n < data.length; n++) out[n] = data[n] * slope + inter
  return out
}

function spatialUnitScale(code: number): number {
  if (code === 1) return 1000 // metres
  if (code === 3) return 0.001 // micrometres
  return 1 // millimetres, or unknown (treated as mm, as nibabel and ITK do)
}

type Layout = (typeof LAYOUT)[1 | 2]

/** 4x4 RAS affine by nibabel's precedence: sform, then qform, then pixdim only. */
function chooseAffine(rd: ReturnType<typeof reader>, L: Layout, flt: (o: number) => number): number[][] {
  const sformCode = L.intSize === 2 ? rd.i16(L.sformCode) : rd.i32(L.sformCode)
  const qformCode = L.intSize === 2 ? rd.i16(L.qformCode) : rd.i32(L.qformCode)
  const pixdim = Array.from({ length: 4 }, (_, i) => flt(L.pixdim + i * L.floatSize))
  const spacing = [1, 2, 3].map((i) => (pixdim[i] > 0 ? pixdim[i] : 1))
  if (sformCode > 0) {
    const rows = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => flt(L.srow + (r * 4 + c) * L.floatSize)))
    return [...rows, [0, 0, 0, 1]]
  }
  if (qformCode > 0) {
    const q = [0, 1, 2, 3, 4, 5].map((i) => flt(L.quatern + i * L.floatSize))
    return qformAffine(q[0], q[1], q[2], [q[3], q[4], q[5]], spacing, pixdim[0] < 0 ? -1 : 1)
  }
  // ANALYZE-style: scaling only, origin at the first voxel (no orientation is recorded)
  return [[spacing[0], 0, 0, 0], [0, spacing[1], 0, 0], [0, 0, spacing[2], 0], [0, 0, 0, 1]]
}

/** NIfTI-1 "method 2": rotation from quaternion (b,c,d), a = sqrt(1-b²-c²-d²). */
export function qformAffine(b: number, c: number, d: number, offset: number[], spacing: number[], qfac: number): number[][] {
  let a = 1 - (b * b + c * c + d * d)
  if (a < 1e-7) {
    // a is 0: normalise (b,c,d), as nifti1_io does
    const n = Math.sqrt(b * b + c * c + d * d)
    b /= n; c /= n; d /= n; a = 0
  } else a = Math.sqrt(a)
  const R = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ]
  const s = [spacing[0], spacing[1], spacing[2] * qfac]
  return [
    [R[0][0] * s[0], R[0][1] * s[1], R[0][2] * s[2], offset[0]],
    [R[1][0] * s[0], R[1][1] * s[1], R[1][2] * s[2], offset[1]],
    [R[2][0] * s[0], R[2][1] * s[1], R[2][2] * s[2], offset[2]],
    [0, 0, 0, 1],
  ]
}

/** RAS <-> LPS: negate the x and y rows (the conversion is its own inverse). */
export function rasToLps(a: number[][]): number[][] {
  return a.map((row, r) => (r < 2 ? row.map((v) => -v) : [...row]))
}

// ---------------------------------------------------------------- writing

/** Encodes a volume as NIfTI-1 (NIfTI-2 when a dimension exceeds NIfTI-1's int16 limit); gzip when asked. */
export function encodeNifti(vol: Volume, gzip: boolean): Buffer {
  const version = vol.shape.some((s) => s > 32767) ? 2 : 1
  const L = LAYOUT[version]
  const bytesPer = vol.data.BYTES_PER_ELEMENT
  const header = Buffer.alloc(L.dataStart)
  const w = {
    int: (o: number, v: number) => (L.intSize === 2 ? header.writeInt16LE(v, o) : header.writeBigInt64LE(BigInt(v), o)),
    flt: (o: number, v: number) => (L.floatSize === 4 ? header.writeFloatLE(v, o) : header.writeDoubleLE(v, o)),
  }
  header.writeInt32LE(L.size, 0)
  if (version === 1) header.write('n+1\0', L.magic, 'latin1')
  else Buffer.from([0x6e, 0x2b, 0x32, 0x00, 0x0d, 0x0a, 0x1a, 0x0a]).copy(header, L.magic)
  w.int(L.dim, 3)
  for (let i = 0; i < 7; i++) w.int(L.dim + (i + 1) * L.intSize, i < 3 ? vol.shape[i] : 1)
  header.writeInt16LE(CODE_OF_DTYPE[vol.dtype], L.datatype)
  header.writeInt16LE(bytesPer * 8, L.bitpix)
  const ras = rasToLps(affineLPS(vol))
  const { quatern, qfac } = quaternionOf(vol.axes.map((a) => [-a[0], -a[1], a[2]]))
  w.flt(L.pixdim, qfac)
  for (let i = 0; i < 3; i++) w.flt(L.pixdim + (i + 1) * L.floatSize, vol.spacing[i])
  if (version === 1) w.flt(L.voxOffset, L.dataStart)
  else header.writeBigInt64LE(BigInt(L.dataStart), L.voxOffset)
  w.flt(L.sclSlope, 1)
  w.flt(L.sclInter, 0)
  header[L.xyztUnits] = 2 // mm
  header.write(descripOf(vol), L.descrip, 'latin1')
  const codeWriter = (o: number, v: number) => (version === 1 ? header.writeInt16LE(v, o) : header.writeInt32LE(v, o))
  codeWriter(L.qformCode, 1)
  codeWriter(L.sformCode, 1)
  for (let i = 0; i < 3; i++) w.flt(L.quatern + i * L.floatSize, quatern[i])
  for (let i = 0; i < 3; i++) w.flt(L.quatern + (3 + i) * L.floatSize, ras[i][3])
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) w.flt(L.srow + (r * 4 + c) * L.floatSize, ras[r][c])
  const body = Buffer.from(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength)
  const file = Buffer.concat([header, body])
  return gzip ? gzipSync(file, { level: 6 }) : file
}

/**
 * Quaternion (b,c,d) and qfac of a rotation given by three RAS column unit vectors
 * (the NIfTI-1 reference algorithm, nifti_mat44_to_quatern, for an orthonormal matrix).
 */
function quaternionOf(cols: number[][]): { quatern: number[]; qfac: number } {
  // R[r][c] = cols[c][r]
  const R = [0, 1, 2].map((r) => [0, 1, 2].map((c) => cols[c][r]))
  const det = R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1]) - R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0]) + R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0])
  const qfac = det < 0 ? -1 : 1
  if (qfac < 0) for (let r = 0; r < 3; r++) R[r][2] = -R[r][2]
  let a = R[0][0] + R[1][1] + R[2][2] + 1
  let b: number, c: number, d: number
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a)
    b = 0.25 * (R[2][1] - R[1][2]) / a
    c = 0.25 * (R[0][2] - R[2][0]) / a
    d = 0.25 * (R[1][0] - R[0][1]) / a
  } else {
    const xd = 1 + R[0][0] - (R[1][1] + R[2][2]), yd = 1 + R[1][1] - (R[0][0] + R[2][2]), zd = 1 + R[2][2] - (R[0][0] + R[1][1])
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd); c = 0.25 * (R[0][1] + R[1][0]) / b; d = 0.25 * (R[0][2] + R[2][0]) / b; a = 0.25 * (R[2][1] - R[1][2]) / b
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd); b = 0.25 * (R[0][1] + R[1][0]) / c; d = 0.25 * (R[1][2] + R[2][1]) / c; a = 0.25 * (R[0][2] - R[2][0]) / c
    } else {
      d = 0.5 * Math.sqrt(zd); b = 0.25 * (R[0][2] + R[2][0]) / d; c = 0.25 * (R[1][2] + R[2][1]) / d; a = 0.25 * (R[1][0] - R[0][1]) / d
    }
    if (a < 0) { b = -b; c = -c; d = -d }
  }
  return { quatern: [b, c, d], qfac }
}
