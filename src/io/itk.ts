/**
 * NRRD (.nrrd, .nhdr) and MetaImage (.mha, .mhd) through ITK's own readers and writers,
 * compiled to WebAssembly (@itk-wasm/image-io). ITK works in LPS, as nodal does, so geometry
 * passes through unchanged.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { readImageNode, writeImageNode } from '@itk-wasm/image-io'
import type { Image } from 'itk-wasm'
import { badInput } from '../errors.js'
import { Axes, DType, Vec3, Volume, VoxelArray } from '../volume/volume.js'

export function isItkPath(path: string): boolean {
  return /\.(nrrd|nhdr|mha|mhd)$/i.test(path)
}

const DTYPES = new Set<string>(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'])

/**
 * Runs an itk-wasm call with console.log/error muted: on a failing pipeline itk-wasm prints
 * "Exception while running pipeline" and raw stdout/stderr before throwing. We turn the throw into
 * a one-line NodalError instead, so those lines are noise for a user.
 */
export async function quietly<T>(call: () => Promise<T>): Promise<T> {
  const { log, error } = console
  const exitCode = process.exitCode
  console.log = () => {}
  console.error = () => {}
  try {
    return await call()
  } finally {
    console.log = log
    console.error = error
    // an emscripten pipeline that fails sets the process's exit code; nodal reports the failure itself
    process.exitCode = exitCode
  }
}

export async function readItkImage(file: string): Promise<Volume> {
  refuseOversizedHeader(file)
  let img: Image
  try {
    img = await quietly(() => readImageNode(file))
  } catch (e) {
    throw badInput(file, `ITK could not read it (${describe(e)})`)
  }
  return volumeFromItkImage(file, img)
}

export function volumeFromItkImage(file: string, img: Image): Volume {
  const { componentType, components } = img.imageType
  if (components !== 1) throw badInput(file, `has ${components} components per voxel; nodal reads scalar images`)
  if (!DTYPES.has(componentType)) throw badInput(file, `voxel type ${componentType} is not supported`)
  if (!img.data) throw badInput(file, 'has no voxel data')
  const dim = img.imageType.dimension
  if (dim < 2 || dim > 3) throw badInput(file, `is ${dim}-dimensional; nodal reads 2D and 3D images`)
  const shape: Vec3 = [img.size[0], img.size[1], dim === 3 ? img.size[2] : 1]
  const spacing: Vec3 = [img.spacing[0], img.spacing[1], dim === 3 ? img.spacing[2] : 1]
  if (!spacing.every((s) => s > 0 && s < Infinity)) throw badInput(file, `has an unusable voxel spacing (${spacing.join(' x ')})`) // ITK passes zero and negative spacings through
  const origin: Vec3 = [img.origin[0], img.origin[1], dim === 3 ? img.origin[2] : 0]
  // itk-wasm serialises ITK's direction matrix row by row: direction[r*dim + c] = D[r][c],
  // and column c of D is the LPS direction of voxel axis c.
  const D = (r: number, c: number) => (r < dim && c < dim ? img.direction[r * dim + c] : r === c ? 1 : 0)
  const axes = [0, 1, 2].map((c) => [0, 1, 2].map((r) => D(r, c))) as Axes
  return new Volume(img.data as VoxelArray, shape, spacing, origin, axes, {})
}

export function itkImageFromVolume(vol: Volume): Image {
  const direction = new Float64Array(9)
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) direction[r * 3 + c] = vol.axes[c][r]
  return {
    imageType: { dimension: 3, componentType: vol.dtype as DType, pixelType: 'Scalar', components: 1 },
    name: 'image',
    origin: [...vol.origin],
    spacing: [...vol.spacing],
    direction,
    size: [...vol.shape],
    metadata: new Map(),
    data: vol.data,
  } as unknown as Image
}

export async function writeItkImage(vol: Volume, file: string): Promise<void> {
  await quietly(() => writeImageNode(itkImageFromVolume(vol), file, { useCompression: true }))
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message.split(/[\r\n]/)[0]
  return 'not a valid file of this format'
}

// ---------------------------------------------------------------- header sizes

/** What a header says about its voxels and where they are, as far as the allocation goes. */
interface HeaderSizes {
  /** Bytes of the decoded voxels: the buffer ITK allocates before reading. */
  voxelBytes: number
  /** How many voxel bytes one byte of stored data can give (1 raw, 1032 deflate, 4 for numbers as text). */
  expansion: number
  /** MetaImage's CompressedDataSize: ITK allocates it to read the compressed stream into. */
  compressedSize?: number
  /** 'attached' (data follows the header at `headerEnd`) or the detached data file's name. */
  data: 'attached' | string
  headerEnd: number
  /** MetaImage data inflated by MetaIO (zlib). */
  zlib?: boolean
}

/** The most a deflate stream expands (1032:1). */
const DEFLATE_RATIO = 1032
/** How much more than its data holds a header may claim (ITK then reports the short data itself); itk-wasm holds the image twice. */
const SLACK = 16 * 2 ** 20

/**
 * Refuses a NRRD or MetaImage header that asks for far more voxel bytes than its data could hold. ITK
 * allocates what the header says before it reads the data, so a 2 kB file declaring
 * CompressedDataSize = 1500000000 or sizes of 10^5 voxels a side made nodal allocate gigabytes.
 * Only the fields that size the allocation are read; anything this does not follow (bzip2, an odd
 * header) is left to ITK.
 */
function refuseOversizedHeader(file: string): void {
  const head = readHead(file, 65536)
  const h = /\.(mha|mhd)$/i.test(file) ? metaImageSizes(head) : nrrdSizes(head)
  if (!h) return
  if (Number.isNaN(h.voxelBytes)) throw badInput(file, 'declares NDims, sizes or channels that are not positive numbers (or an NDims over 16)')
  const stored = dataBytes(file, h)
  if (h.compressedSize !== undefined && !(h.compressedSize >= 0 && h.compressedSize <= stored + SLACK)) throw badInput(file, `declares CompressedDataSize ${h.compressedSize} but holds ${stored} bytes of data`)
  if (h.voxelBytes > stored * h.expansion + SLACK) throw badInput(file, `declares ${h.voxelBytes} bytes of voxels but holds ${stored} bytes of data`)
  if (h.zlib && asksForDictionary(file, h)) throw badInput(file, 'has compressed data that asks for a zlib preset dictionary (ITK would never return)')
}

/** A zlib stream whose header sets FDICT: MetaIO's inflate loop never ends on it (Z_NEED_DICT). */
function asksForDictionary(file: string, h: HeaderSizes): boolean {
  const dataFile = h.data === 'attached' ? file : resolve(dirname(file), h.data)
  if (/^LIST|[%\s]/.test(h.data) || !existsSync(dataFile) || !statSync(dataFile).isFile()) return false
  const b = readAt(dataFile, h.data === 'attached' ? h.headerEnd : 0, 2)
  return b.length === 2 && (b[0] & 0x0f) === 8 && ((b[0] << 8) | b[1]) % 31 === 0 && (b[1] & 0x20) !== 0
}

/** Bytes of stored data: after the header, in the data file, or (a LIST or a file pattern) in the files beside the header. */
function dataBytes(file: string, h: HeaderSizes): number {
  if (h.data === 'attached') return statSync(file).size - h.headerEnd
  const size = (f: string) => (existsSync(f) && statSync(f).isFile() ? statSync(f).size : 0)
  if (/^LIST|[%\s]/.test(h.data)) return readdirSync(dirname(file)).reduce((sum, f) => sum + size(join(dirname(file), f)), 0)
  return size(resolve(dirname(file), h.data))
}

function readHead(file: string, max: number): string {
  return readAt(file, 0, max).toString('latin1')
}

function readAt(file: string, position: number, length: number): Buffer {
  const fd = openSync(file, 'r')
  try {
    const buf = Buffer.alloc(Math.max(0, Math.min(length, statSync(file).size - position)))
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, position))
  } finally {
    closeSync(fd)
  }
}

/** Bytes per value of a NRRD or MetaImage type name (1 when unknown: lenient). */
function typeBytes(type: string): number {
  const t = type.toLowerCase()
  if (/char|(^|\D)8(_t)?$/.test(t)) return 1
  if (/64|long.?long|double/.test(t)) return 8
  if (/16|short/.test(t)) return 2
  if (/32|int|float|long/.test(t)) return 4
  return 1
}

/**
 * The product of the first `dims` voxel counts of a list (all when dims is not a count): null when
 * there is no list, NaN when a count is not a positive number (ITK reads -1 as 2^64 - 1).
 */
function product(list: string | undefined, dims: string | undefined): number | null {
  if (!list?.trim()) return null
  const all = list.trim().split(/\s+/).map(Number)
  const n = Number(dims) > 0 ? all.slice(0, Number(dims)) : all
  return n.every((x) => x >= 1 && x < Infinity) ? n.reduce((a, b) => a * Math.floor(b), 1) : NaN
}

function metaImageSizes(head: string): HeaderSizes | null {
  const end = /^ElementDataFile *=.*(\r?\n|$)/m.exec(head)
  if (!end) return null
  const lines = [...head.slice(0, end.index).matchAll(/^(\w+) *= *(.*?)\r?$/gm)]
  // a key given twice: every value is checked (MetaIO may use either); MetaIO reads the first number of a value
  const numbers = (key: string) => lines.filter((m) => m[1] === key).map((m) => parseFloat(m[2]))
  const ndims = numbers('NDims')
  const dims = ndims.every((n) => Number.isInteger(n) && n >= 1 && n <= 16) ? String(ndims[0] ?? '') : 'invalid' // MetaIO loops NDims times
  const counts = lines.filter((m) => m[1] === 'DimSize').map((m) => (dims === 'invalid' ? NaN : product(m[2], dims)))
  const name = end[0].replace(/^ElementDataFile *= */, '').trim()
  if (counts.length === 0 || counts.includes(null)) return null
  const channels = numbers('ElementNumberOfChannels')
  const perVoxel = channels.every((c) => c >= 1 && c < Infinity) ? Math.max(1, ...channels.map(Math.floor)) : NaN
  const compressed = lines.some((m) => m[1] === 'CompressedData' && /^[Tt1]/.test(m[2])) // MetaIO's booleans: T..., t... or 1...
  const declared = numbers('CompressedDataSize').filter(Number.isFinite)
  return {
    voxelBytes: Math.max(...(counts as number[])) * perVoxel * typeBytes(lines.find((m) => m[1] === 'ElementType')?.[2] ?? ''),
    expansion: compressed ? DEFLATE_RATIO : 1,
    zlib: compressed,
    compressedSize: compressed && declared.length ? declared.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a)) : undefined,
    data: name === 'LOCAL' ? 'attached' : name,
    headerEnd: end.index + end[0].length,
  }
}

function nrrdSizes(head: string): HeaderSizes | null {
  const blank = /\r?\n\r?\n/.exec(head)
  const header = blank ? head.slice(0, blank.index) : head
  const fields = new Map([...header.matchAll(/^([^#:\n][^:\n]*): *(.*?)\r?$/gm)].map((m) => [m[1].trim().toLowerCase(), m[2].trim()]))
  const count = product(fields.get('sizes'), fields.get('dimension'))
  const encoding = (fields.get('encoding') ?? 'raw').toLowerCase()
  const expansion = encoding === 'raw' ? 1 : /^(gzip|gz)$/.test(encoding) ? DEFLATE_RATIO : /^(ascii|text|txt|hex)$/.test(encoding) ? 4 : null
  const name = fields.get('data file') ?? fields.get('datafile')
  if (count === null || expansion === null) return null
  if (name === undefined && !blank) return null
  return {
    voxelBytes: count * typeBytes(fields.get('type') ?? ''),
    expansion,
    data: name ?? 'attached',
    headerEnd: blank ? blank.index + blank[0].length : head.length,
  }
}
