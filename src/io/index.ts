/**
 * Reading and writing volumes, chosen by path: a folder is a DICOM series; files by extension.
 * Writers never leave a half-written file: they write into a temporary folder beside the target
 * and rename into place (detached-header formats move both files).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { badInput, NodalError } from '../errors.js'
import { Volume } from '../volume/volume.js'
import { readDicomSeries, ReadSeriesOptions } from './dicom/series.js'
import { isItkPath, readItkImage, writeItkImage } from './itk.js'
import { decodeNifti, encodeNifti, isNiftiPath } from './nifti.js'
import { releaseTemp, trackTemp } from './temp.js'

export const WRITABLE_EXTENSIONS = ['.nii', '.nii.gz', '.nrrd', '.nhdr', '.mha', '.mhd']

export type ReadOptions = ReadSeriesOptions

export async function readVolume(path: string, opts: ReadOptions = {}): Promise<Volume> {
  if (!existsSync(path)) throw new NodalError('not-found', `${path}: no such file or folder`)
  const st = statSync(path)
  if (st.isDirectory()) return readDicomSeries(path, opts)
  if (st.size === 0) throw badInput(path, 'is empty')
  if (isNiftiPath(path)) return decodeNifti(path, readFileSync(path))
  if (isItkPath(path)) return readItkImage(path)
  if (/\.dcm$/i.test(path)) throw badInput(path, 'is a single DICOM file; give the folder that holds its series')
  throw badInput(path, `unsupported format (readable: ${WRITABLE_EXTENSIONS.join(' ')} or a DICOM folder)`)
}

/** A label map holds integers and, in practice, far fewer distinct values than this. */
export const MAX_LABEL_VALUES = 1000

/**
 * readVolume for a file that must be a label map (or an instance map): refuses, quickly and saying why,
 * non-integer values and more distinct values than a label map has (an image given by mistake would
 * otherwise be treated as thousands of structures, for many minutes).
 */
export async function readLabelMap(path: string, opts: { maxValues?: number } = {}): Promise<Volume> {
  const vol = await readVolume(path)
  const max = opts.maxValues ?? MAX_LABEL_VALUES
  const data = vol.data
  const integral = data instanceof Float32Array || data instanceof Float64Array ? false : true
  const seen = new Set<number>()
  for (let v = 0; v < data.length; v++) {
    const x = data[v]!
    if (!integral && !Number.isInteger(x)) throw badInput(path, `holds non-integer values (e.g. ${x}): an image, not a label map`)
    if (x < 0) throw badInput(path, `holds negative values (e.g. ${x}): an image, not a label map`)
    if (seen.size <= max && !seen.has(x)) {
      seen.add(x)
      if (seen.size > max) throw badInput(path, `holds more than ${max} distinct values: an image, not a label map`)
    }
  }
  return vol
}

export async function writeVolume(vol: Volume, path: string): Promise<void> {
  if (!WRITABLE_EXTENSIONS.some((e) => path.toLowerCase().endsWith(e))) {
    throw new NodalError('bad-output', `${path}: unsupported output format (writable: ${WRITABLE_EXTENSIONS.join(' ')})`)
  }
  await writeAtomically(path, async (tmpPath) => {
    if (isNiftiPath(path)) writeFileSync(tmpPath, encodeNifti(vol, path.toLowerCase().endsWith('.gz')))
    else await writeItkImage(vol, tmpPath)
  })
}

/**
 * Runs `write` on a path with the target's file name inside a fresh temporary folder next to the
 * target, then moves every file it produced into the target's folder. On failure nothing is moved.
 */
export async function writeAtomically(path: string, write: (tmpPath: string) => Promise<void> | void): Promise<void> {
  const dir = dirname(path)
  mkdirSync(dir, { recursive: true })
  const tmpDir = trackTemp(mkdtempSync(join(dir, '.nodal-tmp-')))
  try {
    await write(join(tmpDir, basename(path)))
    for (const name of readdirSync(tmpDir)) renameSync(join(tmpDir, name), join(dir, name))
  } finally {
    rmSync(tmpDir, { recursive: true, force: true })
    releaseTemp(tmpDir)
  }
}
