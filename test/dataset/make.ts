/** Tiny nnU-Net datasets in temp folders for the dataset tests. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeNifti } from '../../src/io/nifti.js'
import { Vec3, Volume } from '../../src/volume/volume.js'

export const SHAPE: Vec3 = [4, 3, 2]

export function volume(fill: (n: number) => number, origin: Vec3 = [0, 0, 0], shape: Vec3 = SHAPE): Volume {
  const data = new Int16Array(shape[0] * shape[1] * shape[2])
  for (let n = 0; n < data.length; n++) data[n] = fill(n)
  return new Volume(data, shape, [1, 1, 2], origin)
}

export function put(root: string, rel: string, data: Buffer | string | Volume): string {
  const path = join(root, rel)
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, data instanceof Volume ? encodeNifti(data, rel.endsWith('.gz')) : data)
  return path
}

export const DATASET_JSON = {
  channel_names: { 0: 'CT', 1: 'PET' },
  labels: { background: 0, benign_node: 1, malignant_node: 2 },
  numTraining: 2,
  file_ending: '.nii.gz',
}

/** Two PET/CT cases (a, b) with labels 0..2. */
export function makeDataset(root: string, json: object = DATASET_JSON): void {
  put(root, 'dataset.json', JSON.stringify(json))
  for (const name of ['a', 'b']) {
    put(root, `imagesTr/${name}_0000.nii.gz`, volume((n) => n * 10))
    put(root, `imagesTr/${name}_0001.nii.gz`, volume((n) => n))
    put(root, `labelsTr/${name}.nii.gz`, volume((n) => n % 3))
  }
}
