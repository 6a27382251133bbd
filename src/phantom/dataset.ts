/**
 * Writes an nnU-Net v2 raw dataset (the layout of src/dataset) plus nodal's instance maps
 * and node records (instancesTr), PET on its own grid (petTr) and previews. Everything is written
 * into a temporary folder beside the target and renamed into place at the end, so a failure never
 * leaves a dataset that looks whole.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { releaseTemp, trackTemp } from '../io/temp.js'
import { basename, dirname, join, resolve } from 'node:path'
import { imageFileName, IMAGES_DIR, INSTANCES_DIR, LABELS, labelFileName, LABELS_DIR, writeDatasetJson } from '../dataset/index.js'
import { NodalError } from '../errors.js'
import { encodeNifti } from '../io/nifti.js'
import { Volume } from '../volume/volume.js'

export { LABELS }

export interface CaseFiles {
  name: string
  /** Image channels, written as <name>_0000.nii.gz, <name>_0001.nii.gz, ... */
  channels: Volume[]
  labels: Volume
  instances: Volume
  /** The instance JSON ({"instances": {...}, ...}). */
  record: object
  petNative?: Volume | null
  preview?: Buffer | null
}

export class DatasetWriter {
  readonly target: string
  private readonly tmp: string
  private names: string[] = []

  /** Refuses a target that already holds files; an empty folder is replaced. */
  constructor(out: string) {
    this.target = resolve(out)
    if (existsSync(this.target) && readdirSync(this.target).length > 0) {
      throw new NodalError('bad-output', `${out}: already exists and is not empty; choose a new folder`)
    }
    mkdirSync(dirname(this.target), { recursive: true })
    this.tmp = trackTemp(mkdtempSync(join(dirname(this.target), `.${basename(this.target)}.tmp-`)))
    for (const sub of [IMAGES_DIR, LABELS_DIR, INSTANCES_DIR]) mkdirSync(join(this.tmp, sub))
  }

  writeCase(c: CaseFiles): void {
    c.channels.forEach((vol, ch) => this.put(join(IMAGES_DIR, imageFileName(c.name, ch)), encodeNifti(vol, true)))
    this.put(join(LABELS_DIR, labelFileName(c.name)), encodeNifti(c.labels, true))
    this.put(join(INSTANCES_DIR, labelFileName(c.name)), encodeNifti(c.instances, true))
    this.put(join(INSTANCES_DIR, `${c.name}.json`), JSON.stringify(c.record, null, 2) + '\n')
    if (c.petNative) this.put(join('petTr', `${c.name}.nii.gz`), encodeNifti(c.petNative, true))
    if (c.preview) this.put(join('preview', `${c.name}.png`), c.preview)
    this.names.push(c.name)
  }

  /** Writes dataset.json and moves the finished dataset into place. */
  finish(channelNames: Record<string, string>, extra: Record<string, unknown>): void {
    writeDatasetJson(this.tmp, {
      channelNames,
      labels: LABELS,
      numTraining: this.names.length,
      name: extra.name as string | undefined,
      description: extra.description as string | undefined,
      extra: { nodal: extra.nodal },
    })
    if (existsSync(this.target)) rmSync(this.target, { recursive: true }) // an empty folder (checked above)
    renameSync(this.tmp, this.target)
    releaseTemp(this.tmp)
    // mkdtemp made the folder private (0700); the dataset gets the permissions any new folder gets
    const umask = process.umask()
    chmodSync(this.target, 0o777 & ~umask)
  }

  abort(): void {
    rmSync(this.tmp, { recursive: true, force: true })
    releaseTemp(this.tmp)
  }

  private put(rel: string, data: Buffer | string): void {
    mkdirSync(dirname(join(this.tmp, rel)), { recursive: true })
    writeFileSync(join(this.tmp, rel), data)
  }
}

/** Lets pending events (a SIGINT, a progress redraw) run between cases of a long synchronous loop. */
export function yieldToSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Runs `write` with a DatasetWriter, removing the temporary folder if anything fails. */
export async function withDataset<T>(out: string, write: (w: DatasetWriter) => Promise<T> | T): Promise<T> {
  const writer = new DatasetWriter(out)
  try {
    return await write(writer)
  } catch (e) {
    writer.abort()
    throw e
  }
}
