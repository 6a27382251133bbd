/**
 * The fuzzer's seeds: small valid files of every format nodal reads, all made from the repository's
 * real samples (samples/ct, samples/dicom/ct-3slice) with nodal's own writers, or cut from the real
 * files byte by byte so that their original headers survive:
 *   - NIfTI-1: the real headers of both abdomen samples over a 16x16x4 crop, nodal's encoding of it,
 *     and the whole organ label map; the real .nii.gz files for damage to the gzip stream;
 *   - NIfTI-2: writeVolume of a 32768-voxel row of the CT (nodal writes NIfTI-2 past 32767), and that
 *     header over the 16x16x4 crop;
 *   - NRRD (.nrrd; .nhdr + .raw.gz) and MetaImage (.mha; .mhd + .zraw): writeVolume of the crop, plus
 *     raw-encoded variants of the attached ones;
 *   - DICOM: the three real slices cut to their central 32x32 pixels (header bytes kept, Rows,
 *     Columns and Image Position patched), one full real slice, and nodal's writeDicomSeries output;
 *   - RTSTRUCT and DICOM-SEG: exportLabelVolume of a label map of the crop onto the cut series;
 *   - dataset.json and instance JSON: `nodal phantom` output (and an explicit-list dataset.json).
 * Small seeds keep each input fast, so that 100,000 inputs per format fit in hours, not days.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { readVolume, writeVolume } from '../../src/io/index.js'
import { writeDicomSeries } from '../../src/io/dicom/write-series.js'
import { exportLabelVolume } from '../../src/io/rtstruct/export.js'
import { readReferenceSeries } from '../../src/io/rtstruct/reference.js'
import { Volume } from '../../src/volume/volume.js'
import { concat, writeInt } from './mutate.js'
import { scanDicom } from './dicom-scan.js'

export const REPO = new URL('../../../', import.meta.url).pathname
const SAMPLES = join(REPO, 'samples')
const CT = join(SAMPLES, 'ct', 'abdomen_ct_3mm_sm.nii.gz')
const ORGANS = join(SAMPLES, 'ct', 'abdomen_ct_3mm_sm_organs.nii.gz')
const DICOM = join(SAMPLES, 'dicom', 'ct-3slice')
const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js')

/** The crop every volume seed holds: 16x16x4 voxels from inside the abdomen. */
const CROP = { at: [50, 40, 12], size: [16, 16, 4] } as const

export async function makeSeeds(dir: string): Promise<void> {
  for (const sub of ['nifti', 'itk', 'dicom', 'ref', 'structures', 'json']) mkdirSync(join(dir, sub), { recursive: true })
  const ct = await readVolume(CT)
  const crop = cropVolume(ct, CROP.at, CROP.size)
  await niftiSeeds(join(dir, 'nifti'), ct, crop)
  await itkSeeds(join(dir, 'itk'), crop)
  await dicomSeeds(dir)
  await structureSeeds(dir)
  phantomSeeds(join(dir, 'json'))
}

function cropVolume(v: Volume, at: readonly number[], size: readonly number[]): Volume {
  const [nx, ny, nz] = size
  const Ctor = v.data.constructor as new (n: number) => Volume['data']
  const data = new Ctor(nx * ny * nz)
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) data[i + nx * (j + ny * k)] = v.at(at[0] + i, at[1] + j, at[2] + k)
  return new Volume(data, [nx, ny, nz], [...v.spacing], v.indexToWorld(at[0], at[1], at[2]), v.axes, { ...v.meta })
}

// ------------------------------------------------------------------ NIfTI

async function niftiSeeds(dir: string, ct: Volume, crop: Volume): Promise<void> {
  const organs = await readVolume(ORGANS)
  writeFileSync(join(dir, 'ct-header-crop.nii'), realHeaderOver(CT, crop))
  writeFileSync(join(dir, 'organs-header-crop.nii'), realHeaderOver(ORGANS, cropVolume(organs, CROP.at, CROP.size)))
  writeFileSync(join(dir, 'organs-full.nii'), gunzipSync(readFileSync(ORGANS)))
  copyFileSync(ORGANS, join(dir, 'organs-full.nii.gz'))
  await writeVolume(crop, join(dir, 'nodal-crop.nii'))
  // NIfTI-2: nodal writes it when a dimension passes 32767, so a row of 32768 voxels of the CT
  const row = new Volume(ct.data.slice(0, 32768), [32768, 1, 1], [...ct.spacing], [...ct.origin], ct.axes, { modality: 'CT' })
  await writeVolume(row, join(dir, 'v2-row.nii'))
  const v2 = readFileSync(join(dir, 'v2-row.nii'))
  const header = Uint8Array.from(v2.subarray(0, 544))
  crop.shape.forEach((s, d) => writeInt(header, 16 + 8 * (d + 1), 8, s))
  writeFileSync(join(dir, 'v2-crop.nii'), concat(header, bytesOf(crop)))
}

/** The real file's header (with any extensions) over the crop's voxels: only dim[1..3] change. */
function realHeaderOver(file: string, crop: Volume): Uint8Array {
  const raw = gunzipSync(readFileSync(file))
  const voxOffset = raw.readFloatLE(108)
  const header = Uint8Array.from(raw.subarray(0, voxOffset))
  crop.shape.forEach((s, d) => writeInt(header, 42 + 2 * d, 2, s))
  return concat(header, bytesOf(crop))
}

function bytesOf(v: Volume): Uint8Array {
  return new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength).slice()
}

// ------------------------------------------------------------------ NRRD and MetaImage

async function itkSeeds(dir: string, crop: Volume): Promise<void> {
  for (const ext of ['nrrd', 'nhdr', 'mha', 'mhd']) await writeVolume(crop, join(dir, `crop.${ext}`))
  const raw = bytesOf(crop)
  const nrrd = readFileSync(join(dir, 'crop.nrrd'), 'latin1')
  const nrrdHeader = nrrd.slice(0, nrrd.indexOf('\n\n') + 2).replace('encoding: gzip', 'encoding: raw')
  writeFileSync(join(dir, 'crop-raw.nrrd'), concat(Buffer.from(nrrdHeader, 'latin1'), raw))
  const mha = readFileSync(join(dir, 'crop.mha'), 'latin1')
  const mhaHeader = mha.slice(0, mha.indexOf('ElementDataFile = LOCAL\n') + 24)
    .replace('CompressedData = True', 'CompressedData = False').replace(/CompressedDataSize = \d+\n/, '')
  writeFileSync(join(dir, 'crop-raw.mha'), concat(Buffer.from(mhaHeader, 'latin1'), raw))
}

// ------------------------------------------------------------------ DICOM

const CUT = { row: 240, col: 240, size: 32 }

async function dicomSeeds(dir: string): Promise<void> {
  const names = readdirSync(DICOM).filter((n) => n.endsWith('.dcm')).sort()
  names.forEach((n, i) => {
    const cut = cutSlice(readFileSync(join(DICOM, n)))
    writeFileSync(join(dir, 'dicom', `cut-${i + 1}.dcm`), cut)
    writeFileSync(join(dir, 'ref', `cut-${i + 1}.dcm`), cut)
  })
  copyFileSync(join(DICOM, names[0]), join(dir, 'dicom', 'real-full.dcm'))
  const ref = await readVolume(join(dir, 'ref'))
  const one = cropVolume(ref, [0, 0, 0], [ref.shape[0], ref.shape[1], 1])
  const written = await writeDicomSeries(one, join(dir, 'nodal-series'), { like: DICOM })
  copyFileSync(written[0], join(dir, 'dicom', 'nodal-written.dcm'))
}

/**
 * A real slice cut to its central 32x32 pixels: every header byte is kept; Rows, Columns, the Image
 * Position (same length, space-padded) and the pixel data element (the file's last) are rewritten.
 */
function cutSlice(file: Buffer): Uint8Array {
  const elements = scanDicom(file)
  const el = (tag: string) => elements.find((e) => e.tag === tag)!
  const out = Uint8Array.from(file.subarray(0, el('7FE00010').valueAt))
  const { size } = CUT
  writeInt(out, el('00280010').valueAt, 2, size)
  writeInt(out, el('00280011').valueAt, 2, size)
  const ipp = el('00200032')
  const spacing = file.toString('latin1', el('00280030').valueAt, el('00280030').valueAt + el('00280030').length).split('\\').map(Number)
  const position = file.toString('latin1', ipp.valueAt, ipp.valueAt + ipp.length).split('\\').map(Number)
  const moved = [position[0] + CUT.col * spacing[1], position[1] + CUT.row * spacing[0], position[2]] // orientation is axial identity
  out.set(Buffer.from(moved.map((v) => v.toFixed(4)).join('\\').padEnd(ipp.length, ' '), 'latin1'), ipp.valueAt)
  const columns = file.readUInt16LE(el('00280011').valueAt)
  const pixels = new Uint8Array(size * size * 2)
  const src = el('7FE00010').valueAt
  for (let j = 0; j < size; j++) pixels.set(file.subarray(src + 2 * ((CUT.row + j) * columns + CUT.col), src + 2 * ((CUT.row + j) * columns + CUT.col + size)), 2 * j * size)
  writeInt(out, el('7FE00010').lenAt, 4, pixels.length)
  return concat(out, pixels)
}

// ------------------------------------------------------------------ RTSTRUCT and SEG

/**
 * Labels on the cut series: 2 = dense (> 150 HU, the real shapes), 1 = a disc of radius 6 voxels
 * (soft tissue by threshold gave a hundred tiny loops: a 51 kB seed, slow to fuzz).
 */
async function structureSeeds(dir: string): Promise<void> {
  const refDir = join(dir, 'ref')
  const ref = await readVolume(refDir)
  const [nx, ny] = ref.shape
  const labels = new Uint8Array(ref.data.length)
  for (let n = 0; n < labels.length; n++) {
    const i = n % nx, j = Math.floor(n / nx) % ny
    labels[n] = ref.data[n] > 150 ? 2 : Math.hypot(i - 10, j - 20) <= 6 ? 1 : 0
  }
  const grid = readReferenceSeries(refDir).grid
  const vol = new Volume(labels, [...grid.shape], [...grid.spacing], [...grid.origin], grid.axes)
  await exportLabelVolume(vol, refDir, join(dir, 'structures', 'rtstruct.dcm'), { format: 'rtstruct' })
  await exportLabelVolume(vol, refDir, join(dir, 'structures', 'seg.dcm'), { format: 'seg' })
}

// ------------------------------------------------------------------ dataset.json and instance JSON

/** `nodal phantom` as the issue asks (no nodes fit 32x32x16 voxels at its spacing), and at 8 mm (nodes). */
function phantomSeeds(dir: string): void {
  phantom(join(dir, 'phantom-1'), ['--cases', '1', '--seed', '1', '--size', '32,32,16'])
  phantom(join(dir, 'phantom-2'), ['--cases', '2', '--seed', '1', '--size', '32,32,16', '--spacing', '8,8,8'])
  const json = JSON.parse(readFileSync(join(dir, 'phantom-2', 'dataset.json'), 'utf8'))
  const explicit = {
    ...json,
    dataset: Object.fromEntries(['chest_000', 'chest_001'].map((c) => [c, {
      images: [`imagesTr/${c}_0000.nii.gz`], label: `labelsTr/${c}.nii.gz`,
      instances: { map: `instancesTr/${c}.nii.gz`, json: `instancesTr/${c}.json` },
    }])),
    nodal: { ...json.nodal, patients: { chest_000: 'patient_a', chest_001: 'patient_a' } },
  }
  writeFileSync(join(dir, 'explicit-dataset.json'), JSON.stringify(explicit, null, 2))
  writeFileSync(join(dir, 'classes.json'), JSON.stringify({ instances: { 1: 0, 2: 'GTVn', 3: { label: 1, name: 'LN' }, 4: { class: 'malignant' }, 5: { class_index: 2, roi: 'LN_5' } } }, null, 2))
}

function phantom(out: string, args: string[]): void {
  const r = spawnSync(process.execPath, [CLI, 'phantom', '--site', 'chest', ...args, '--out', out], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`nodal phantom failed: ${r.stderr}`)
}
