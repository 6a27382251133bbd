/**
 * Tiny CT datasets of labelled boxes for the plan and training tests: the CT is -1000 outside the labels
 * and numbers the labelled voxels 0, 1, 2, ... over all cases (in case order, then x fastest), so the
 * foreground intensity statistics are known by hand: n labelled voxels hold exactly the values 0..n-1.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeNifti } from '../../src/io/nifti.js'
import { type Vec3, Volume } from '../../src/volume/volume.js'

export interface Box {
  /** First voxel (x, y, z) and size in voxels. */
  at: Vec3
  size: Vec3
  label: number
}

export interface BlobCase {
  name: string
  /** (x, y, z) voxels and mm. */
  shape: Vec3
  spacing: Vec3
  boxes: Box[]
  origin?: Vec3
}

export const BACKGROUND_HU = -1000

export const CT_LABELS = { background: 0, benign_node: 1, malignant_node: 2 }

/** The image and label volumes of a case; `next` is the first CT value its labelled voxels take. */
export function blobVolumes(c: BlobCase, next = 0): { image: Volume; label: Volume; next: number } {
  const [nx, ny, nz] = c.shape
  const label = new Uint8Array(nx * ny * nz)
  for (const b of c.boxes) {
    for (let z = b.at[2]; z < b.at[2] + b.size[2]; z++) {
      for (let y = b.at[1]; y < b.at[1] + b.size[1]; y++) {
        for (let x = b.at[0]; x < b.at[0] + b.size[0]; x++) label[x + nx * (y + ny * z)] = b.label
      }
    }
  }
  const image = new Int16Array(label.length).fill(BACKGROUND_HU)
  for (let i = 0; i < label.length; i++) if (label[i] !== 0 && label[i] !== 255) image[i] = next++
  const origin = c.origin ?? [0, 0, 0]
  return {
    image: new Volume(image, [...c.shape], [...c.spacing], [...origin]),
    label: new Volume(label, [...c.shape], [...c.spacing], [...origin]),
    next,
  }
}

export function writeFile(root: string, rel: string, data: Buffer | string | Volume): string {
  const path = join(root, rel)
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, data instanceof Volume ? encodeNifti(data, rel.endsWith('.gz')) : data)
  return path
}

/**
 * Writes an nnU-Net v2 dataset of CT boxes (channel 0 "CT"). Returns the number of labelled voxels
 * (not background, not 255), whose CT values are 0..n-1.
 */
export function writeBlobDataset(root: string, cases: BlobCase[], labels: Record<string, number> = CT_LABELS): number {
  writeFile(root, 'dataset.json', JSON.stringify({ channel_names: { 0: 'CT' }, labels, numTraining: cases.length, file_ending: '.nii.gz', name: 'blobs' }))
  let next = 0
  for (const c of cases) {
    const v = blobVolumes(c, next)
    next = v.next
    writeFile(root, `imagesTr/${c.name}_0000.nii.gz`, v.image)
    writeFile(root, `labelsTr/${c.name}.nii.gz`, v.label)
  }
  return next
}

/** Three 24x24x12 cases at 1 x 1 x 1.5 mm with two to three boxes each (labels 1 and 2). */
export const ISOTROPIC_CASES: BlobCase[] = [
  { name: 'case_a', shape: [24, 24, 12], spacing: [1, 1, 1.5], boxes: [{ at: [3, 4, 2], size: [5, 5, 4], label: 1 }, { at: [14, 14, 6], size: [4, 3, 3], label: 2 }] },
  { name: 'case_b', shape: [24, 24, 12], spacing: [1, 1, 1.5], boxes: [{ at: [10, 2, 3], size: [6, 6, 4], label: 1 }, { at: [2, 16, 7], size: [3, 3, 3], label: 1 }, { at: [17, 18, 1], size: [4, 4, 3], label: 2 }] },
  { name: 'case_c', shape: [24, 24, 12], spacing: [1, 1, 1.5], boxes: [{ at: [8, 9, 4], size: [7, 6, 5], label: 2 }, { at: [0, 0, 0], size: [3, 3, 2], label: 1 }] },
]

/** Thick slices: 48x48x8 in-plane 0.8 mm, slices 4, 5 and 6 mm. */
export const ANISOTROPIC_CASES: BlobCase[] = [4, 5, 6].map((dz, i) => ({
  name: `thick_${i}`, shape: [48, 48, 8] as Vec3, spacing: [0.8, 0.8, dz] as Vec3,
  boxes: [{ at: [10 + 3 * i, 12, 2], size: [12, 10, 3], label: 1 }, { at: [30, 28, 4], size: [8, 8, 2], label: 2 }],
}))
