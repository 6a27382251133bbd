/**
 * The fuzzer's formats: for each, its seeds, a fast-check arbitrary of structured mutations, how an
 * input becomes files, and the reader the CLI uses on them (readVolume, readRtstruct + rasterizeRoi,
 * readSeg + segmentMask, readDataset, readInstanceClasses).
 */
import { cpSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { readDataset } from '../../src/dataset/layout.js'
import { readDicomHeader } from '../../src/io/dicom/header.js'
import { readVolume } from '../../src/io/index.js'
import { rasterizeRoi, readRtstruct } from '../../src/io/rtstruct/read.js'
import { readReferenceSeries } from '../../src/io/rtstruct/reference.js'
import { readInstanceClasses } from '../../src/io/rtstruct/structures.js'
import { nonOverlappingLabelMaps, readSeg, segmentMask } from '../../src/io/seg/read.js'
import {
  applyBytes, applyElements, applyField, applyJson, applyText, byteMutations, ByteMutation, concat, elementMutation,
  ElementMutation, Field, FieldMutation, fieldMutation, Json, jsonMutation, JsonMutation, jsonText, renderJson, textMutation, TextMutation, writeInt,
} from './mutate.js'

/** An input as files (relative paths in the work folder); `main` is the mutated one. */
export interface Built {
  files: Record<string, Uint8Array>
  main: string
  /** Bytes the input holds (before compression where the harness compressed it): the allocation budget's base. */
  capacity: number
}

export interface Target<I = any> {
  name: string
  reader: string
  arbitrary: fc.Arbitrary<I>
  build(input: I): Built
  /** Reads the input's files from `dir` with nodal's reader; throws what the reader throws. */
  run(dir: string): Promise<unknown>
  /** Folders the run needs in the work folder besides the input (copied once). */
  prepare?(dir: string): void
}

export const FORMATS = [
  'nifti1', 'nifti1-gz', 'nifti2', 'nifti2-gz', 'nrrd', 'nhdr', 'mha', 'mhd',
  'dicom', 'dicom-series', 'rtstruct', 'seg', 'dataset-json', 'instance-json',
] as const
export type Format = (typeof FORMATS)[number]

const few = <T>(arb: fc.Arbitrary<T>, max: number) => fc.oneof({ weight: 1, arbitrary: fc.constant([] as T[]) }, { weight: 3, arbitrary: fc.array(arb, { minLength: 1, maxLength: max }) })
const someBytes = (max: number) => fc.oneof({ weight: 1, arbitrary: fc.constant([] as ByteMutation[]) }, { weight: 2, arbitrary: byteMutations(max) })
const pick = <T>(xs: T[], n: number) => xs[n % xs.length]
const read = (...p: string[]) => new Uint8Array(readFileSync(join(...p)))

export function makeTarget(format: Format, seedDir: string): Target {
  switch (format) {
    case 'nifti1': return niftiTarget(format, seedDir, 1, false)
    case 'nifti1-gz': return niftiTarget(format, seedDir, 1, true)
    case 'nifti2': return niftiTarget(format, seedDir, 2, false)
    case 'nifti2-gz': return niftiTarget(format, seedDir, 2, true)
    case 'nrrd': return attachedTextTarget(format, seedDir, ['crop.nrrd', 'crop-raw.nrrd'], '\n\n', ': ', NRRD_KEYS, NRRD_ENUMS)
    case 'mha': return attachedTextTarget(format, seedDir, ['crop.mha', 'crop-raw.mha'], 'ElementDataFile = LOCAL\n', ' = ', MHA_KEYS, MHA_ENUMS)
    case 'nhdr': return detachedTextTarget(format, seedDir, 'crop.nhdr', 'crop.raw.gz', ': ', NRRD_KEYS, NRRD_ENUMS)
    case 'mhd': return detachedTextTarget(format, seedDir, 'crop.mhd', 'crop.zraw', ' = ', MHA_KEYS, MHA_ENUMS)
    case 'dicom': return dicomTarget(seedDir)
    case 'dicom-series': return seriesTarget(seedDir)
    case 'rtstruct': return rtstructTarget(seedDir)
    case 'seg': return segTarget(seedDir)
    case 'dataset-json': return datasetTarget(seedDir)
    case 'instance-json': return instanceTarget(seedDir)
  }
}

// ------------------------------------------------------------------ NIfTI

const f = (name: string, offset: number, type: Field['type'], size?: number): Field => ({ name, offset, type, size })
const range = (n: number, make: (i: number) => Field) => Array.from({ length: n }, (_, i) => make(i))

const NIFTI1_FIELDS: Field[] = [
  f('sizeof_hdr', 0, 'i32'), ...range(8, (i) => f(`dim${i}`, 40 + 2 * i, 'i16')), f('intent_code', 68, 'i16'),
  f('datatype', 70, 'i16'), f('bitpix', 72, 'i16'), ...range(8, (i) => f(`pixdim${i}`, 76 + 4 * i, 'f32')),
  f('vox_offset', 108, 'f32'), f('scl_slope', 112, 'f32'), f('scl_inter', 116, 'f32'), f('xyzt_units', 123, 'u8'),
  f('descrip', 148, 'bytes', 8), f('qform_code', 252, 'i16'), f('sform_code', 254, 'i16'),
  ...range(6, (i) => f(`quatern${i}`, 256 + 4 * i, 'f32')), ...range(12, (i) => f(`srow${i}`, 280 + 4 * i, 'f32')), f('magic', 344, 'bytes', 4),
]
const NIFTI2_FIELDS: Field[] = [
  f('sizeof_hdr', 0, 'i32'), f('magic', 4, 'bytes', 8), f('datatype', 12, 'i16'), f('bitpix', 14, 'i16'),
  ...range(8, (i) => f(`dim${i}`, 16 + 8 * i, 'i64')), ...range(8, (i) => f(`pixdim${i}`, 104 + 8 * i, 'f64')),
  f('vox_offset', 168, 'i64'), f('scl_slope', 176, 'f64'), f('scl_inter', 184, 'f64'), f('descrip', 240, 'bytes', 8),
  f('qform_code', 344, 'i32'), f('sform_code', 348, 'i32'), ...range(6, (i) => f(`quatern${i}`, 352 + 8 * i, 'f64')),
  ...range(12, (i) => f(`srow${i}`, 400 + 8 * i, 'f64')), f('xyzt_units', 500, 'i32'), f('intent_code', 504, 'i32'),
]

interface NiftiInput { seed: number; fields: FieldMutation[]; bytes: ByteMutation[]; bigEndianSize: boolean }
interface NiftiGzInput { plain: NiftiInput; level: number; stream: ByteMutation[]; realStream: boolean }

const niftiInput: fc.Arbitrary<NiftiInput> = fc.record({
  seed: fc.nat(), fields: few(fieldMutation, 4), bytes: someBytes(4),
  bigEndianSize: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
})

function niftiTarget(name: Format, seedDir: string, version: 1 | 2, gz: boolean): Target {
  const dir = join(seedDir, 'nifti')
  const seeds = (version === 1 ? ['ct-header-crop.nii', 'organs-header-crop.nii', 'nodal-crop.nii', 'organs-full.nii'] : ['v2-crop.nii', 'v2-row.nii']).map((n) => read(dir, n))
  const realGz = read(dir, 'organs-full.nii.gz')
  const fields = version === 1 ? NIFTI1_FIELDS : NIFTI2_FIELDS
  const plain = (m: NiftiInput) => {
    const b = Uint8Array.from(pick(seeds, m.seed))
    for (const fm of m.fields) applyField(b, fields, fm)
    if (m.bigEndianSize) writeInt(b, 0, 4, version === 1 ? 348 : 540, false)
    return applyBytes(b, m.bytes)
  }
  const file = gz ? 'input.nii.gz' : 'input.nii'
  const run = (d: string) => readVolume(join(d, file))
  if (!gz) return { name, reader: 'readVolume (.nii)', arbitrary: niftiInput, build: (m) => one(file, plain(m)), run }
  const arbitrary: fc.Arbitrary<NiftiGzInput> = fc.record({
    plain: niftiInput, level: fc.integer({ min: 0, max: 9 }), stream: someBytes(3),
    realStream: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  const build = (m: NiftiGzInput): Built => {
    // the real .nii.gz stream itself (organ sample, version 1 only), or gzip of the mutated plain bytes
    if (m.realStream && version === 1) return { ...one(file, applyBytes(realGz, m.stream)), capacity: seeds[3].length }
    const p = plain(m.plain)
    return { ...one(file, applyBytes(gzipSync(p, { level: m.level }), m.stream)), capacity: p.length }
  }
  return { name, reader: 'readVolume (.nii.gz)', arbitrary, build, run }
}

function one(name: string, bytes: Uint8Array): Built {
  return { files: { [name]: bytes }, main: name, capacity: bytes.length }
}

// ------------------------------------------------------------------ NRRD and MetaImage (ITK)

const NRRD_KEYS = [
  'type', 'dimension', 'space', 'sizes', 'space directions', 'kinds', 'endian', 'encoding', 'space origin', 'data file',
  'byte skip', 'line skip', 'spacings', 'thicknesses', 'axis mins', 'axis maxs', 'centers', 'labels', 'units',
  'space units', 'measurement frame', 'content', 'min', 'max', 'old min', 'old max', 'space dimension', 'block size', 'NRRD0004', 'NRRD0001',
]
const NRRD_ENUMS = [
  'short', 'int', 'float', 'double', 'uchar', 'signed char', 'unsigned short', 'uint', 'int64', 'uint64', 'block', '???',
  'raw', 'gzip', 'gz', 'bzip2', 'hex', 'ascii', 'text', 'zrle', 'little', 'big', 'left-posterior-superior',
  'right-anterior-superior', '3D-right-handed', 'scanner-xyz', 'domain', 'space', 'none', 'vector', 'RGB-color', '3-color',
  'LIST', 'crop.raw.gz', 'missing.raw', 'crop%03d.raw 0 2 1', 'cell', 'node', '-1', '0',
]
const MHA_KEYS = [
  'ObjectType', 'NDims', 'BinaryData', 'BinaryDataByteOrderMSB', 'ElementByteOrderMSB', 'CompressedData', 'CompressedDataSize',
  'TransformMatrix', 'Offset', 'Position', 'Origin', 'CenterOfRotation', 'AnatomicalOrientation', 'ElementSpacing', 'ElementSize',
  'DimSize', 'ElementType', 'ElementNumberOfChannels', 'HeaderSize', 'ElementDataFile', 'Comment', 'ElementMin', 'ElementMax',
]
const MHA_ENUMS = [
  'Image', 'Transform', 'True', 'False', 'MET_SHORT', 'MET_UCHAR', 'MET_CHAR', 'MET_USHORT', 'MET_INT', 'MET_UINT', 'MET_FLOAT',
  'MET_DOUBLE', 'MET_LONG_LONG', 'MET_ULONG_LONG', 'MET_OTHER', 'MET_FLOAT_ARRAY', 'MET_STRING', 'LPI', 'RAI', '???', 'LOCAL',
  'LIST', 'crop.zraw', 'missing.raw', 'crop%d.raw 1 3 1', '-1', '0',
]

interface TextInput { seed: number; header: TextMutation[]; body: ByteMutation[]; whole: ByteMutation[] }

const textInput = (keys: string[], enums: string[]): fc.Arbitrary<TextInput> => fc.record({
  seed: fc.nat(), header: few(textMutation(keys, enums), 4), body: someBytes(3),
  whole: fc.oneof({ weight: 5, arbitrary: fc.constant([] as ByteMutation[]) }, { weight: 1, arbitrary: byteMutations(2) }),
})

/** A header and its data in one file (.nrrd, .mha): the header ends at `marker` (inclusive). */
function attachedTextTarget(name: Format, seedDir: string, seedNames: string[], marker: string, sep: string, keys: string[], enums: string[]): Target {
  const seeds = seedNames.map((n) => {
    const b = Buffer.from(read(seedDir, 'itk', n))
    const end = b.indexOf(marker, 0, 'latin1') + marker.length
    return { header: b.toString('latin1', 0, end - (marker === '\n\n' ? 2 : 0)), tail: marker === '\n\n' ? '\n\n' : '', body: new Uint8Array(b.subarray(end)) }
  })
  const file = `input.${name}`
  const build = (m: TextInput): Built => {
    const s = pick(seeds, m.seed)
    const header = Buffer.from(applyText(s.header, sep, m.header) + s.tail, 'latin1')
    return one(file, applyBytes(concat(header, applyBytes(s.body, m.body)), m.whole))
  }
  return { name, reader: `readVolume (.${name}, itk-wasm)`, arbitrary: textInput(keys, enums), build, run: (d) => readVolume(join(d, file)) }
}

/** A header file and its data file (.nhdr + .raw.gz, .mhd + .zraw); the data keeps its seed name. */
function detachedTextTarget(name: Format, seedDir: string, headerName: string, dataName: string, sep: string, keys: string[], enums: string[]): Target {
  const header = readFileSync(join(seedDir, 'itk', headerName), 'latin1')
  const data = read(seedDir, 'itk', dataName)
  const file = `input.${name}`
  const build = (m: TextInput): Built => {
    const h = applyBytes(Buffer.from(applyText(header, sep, m.header), 'latin1'), m.whole)
    return { files: { [file]: h, [dataName]: applyBytes(data, m.body) }, main: file, capacity: h.length + data.length }
  }
  return { name, reader: `readVolume (.${name} + ${dataName}, itk-wasm)`, arbitrary: textInput(keys, enums), build, run: (d) => readVolume(join(d, file)) }
}

// ------------------------------------------------------------------ DICOM

interface DicomInput { seed: number; elements: ElementMutation[]; bytes: ByteMutation[] }

const dicomInput: fc.Arbitrary<DicomInput> = fc.record({ seed: fc.nat(), elements: few(elementMutation, 3), bytes: someBytes(3) })

function mutateDicom(seed: Uint8Array, m: DicomInput): Uint8Array {
  return applyBytes(applyElements(seed, m.elements), m.bytes)
}

/** One file, as a one-file series folder; readDicomHeader first (its raw parse errors are wrapped by its callers). */
function dicomTarget(seedDir: string): Target {
  const seeds = ['cut-1.dcm', 'cut-2.dcm', 'cut-3.dcm', 'real-full.dcm', 'nodal-written.dcm'].map((n) => read(seedDir, 'dicom', n))
  const build = (m: DicomInput): Built => one('series/slice.dcm', mutateDicom(pick(seeds, m.seed), m))
  const run = async (d: string) => {
    try { readDicomHeader(join(d, 'series', 'slice.dcm')) } catch { /* wrapped by scanFolder: checked below */ }
    return readVolume(join(d, 'series'))
  }
  return { name: 'dicom', reader: 'readDicomHeader + readVolume (one-file series folder)', arbitrary: dicomInput, build, run }
}

/** The three cut real slices as a series, one of them mutated. */
function seriesTarget(seedDir: string): Target {
  const names = ['cut-1.dcm', 'cut-2.dcm', 'cut-3.dcm']
  const seeds = names.map((n) => read(seedDir, 'dicom', n))
  const build = (m: DicomInput): Built => {
    const k = m.seed % 3
    const files = Object.fromEntries(names.map((n, i) => [`series/${n}`, i === k ? mutateDicom(seeds[i], m) : seeds[i]]))
    return { files, main: `series/${names[k]}`, capacity: Object.values(files).reduce((s, b) => s + b.length, 0) }
  }
  return { name: 'dicom-series', reader: 'readVolume (3-slice series folder, one slice mutated)', arbitrary: dicomInput, build, run: (d) => readVolume(join(d, 'series')) }
}

const structureInput: fc.Arbitrary<DicomInput> = fc.record({
  seed: fc.nat(), elements: fc.array(elementMutation, { minLength: 1, maxLength: 4 }), bytes: someBytes(2),
})

function rtstructTarget(seedDir: string): Target {
  const seed = read(seedDir, 'structures', 'rtstruct.dcm')
  const grid = readReferenceSeries(join(seedDir, 'ref')).grid
  const run = async (d: string) => {
    const file = join(d, 'rtstruct.dcm')
    const rt = readRtstruct(file)
    for (const roi of rt.rois) rasterizeRoi(roi, grid, file)
    return rt
  }
  return { name: 'rtstruct', reader: 'readRtstruct + rasterizeRoi (32x32x3 reference grid)', arbitrary: structureInput, build: (m) => one('rtstruct.dcm', mutateDicom(seed, m)), run }
}

function segTarget(seedDir: string): Target {
  const seed = read(seedDir, 'structures', 'seg.dcm')
  const run = async (d: string) => {
    const seg = readSeg(join(d, 'seg.dcm'))
    seg.segments.forEach((_, i) => segmentMask(seg, i))
    return nonOverlappingLabelMaps(seg)
  }
  return { name: 'seg', reader: 'readSeg + segmentMask + nonOverlappingLabelMaps', arbitrary: structureInput, build: (m) => one('seg.dcm', mutateDicom(seed, m)), run }
}

// ------------------------------------------------------------------ JSON

interface JsonInput { seed: number; json: JsonMutation[]; text: { indent: number; damage: ByteMutation[]; prefix: string } }

const jsonInput: fc.Arbitrary<JsonInput> = fc.record({ seed: fc.nat(), json: fc.array(jsonMutation, { minLength: 0, maxLength: 4 }), text: jsonText })

/** dataset.json of a phantom dataset (its image, label and instance files stay as written). */
function datasetTarget(seedDir: string): Target {
  const json = join(seedDir, 'json')
  const seeds = [
    { root: 'phantom-1', json: JSON.parse(readFileSync(join(json, 'phantom-1', 'dataset.json'), 'utf8')) },
    { root: 'phantom-2', json: JSON.parse(readFileSync(join(json, 'phantom-2', 'dataset.json'), 'utf8')) },
    { root: 'phantom-2-explicit', json: JSON.parse(readFileSync(join(json, 'explicit-dataset.json'), 'utf8')) },
  ]
  let last = ''
  const build = (m: JsonInput): Built => {
    const s = pick(seeds, m.seed)
    last = s.root
    return one(`${s.root}/dataset.json`, renderJson(applyJson(s.json as Json, m.json), m.text))
  }
  const prepare = (d: string) => {
    for (const [to, from] of [['phantom-1', 'phantom-1'], ['phantom-2', 'phantom-2'], ['phantom-2-explicit', 'phantom-2']]) cpSync(join(json, from), join(d, to), { recursive: true })
  }
  return { name: 'dataset-json', reader: 'readDataset (phantom dataset folder)', arbitrary: jsonInput, build, run: async (d) => readDataset(join(d, last)), prepare }
}

function instanceTarget(seedDir: string): Target {
  const json = join(seedDir, 'json')
  const files = [join(json, 'phantom-1', 'instancesTr', 'chest_000.json'), join(json, 'phantom-2', 'instancesTr', 'chest_000.json'), join(json, 'classes.json')]
  const seeds = files.map((p) => JSON.parse(readFileSync(p, 'utf8')) as Json)
  const build = (m: JsonInput): Built => one('instances.json', renderJson(applyJson(pick(seeds, m.seed), m.json), m.text))
  return { name: 'instance-json', reader: 'readInstanceClasses', arbitrary: jsonInput, build, run: async (d) => readInstanceClasses(join(d, 'instances.json')) }
}

