/**
 * Synthetic cases for the RTSTRUCT and SEG tests: a CT series written by nodal's series writer (in
 * any orientation and slice order) and a label map of spheres, a shell with a hole and two islands,
 * defined in millimetres along the grid's own axes so that every orientation holds the same shapes.
 */
import { join } from 'node:path'
import { writeDicomSeries } from '../../src/io/dicom/write-series.js'
import { writeVolume } from '../../src/io/index.js'
import { Axes, cross, Vec3, Volume } from '../../src/volume/volume.js'

export interface Scene {
  ctDir: string
  labelsPath: string
  labels: Volume
  /** label -> [name, largest diameter in mm] */
  structures: Map<number, [string, number]>
}

const SHAPE: Vec3 = [80, 80, 24]
const SPACING: Vec3 = [1, 1, 2]

/** Voxel axes rotated by `tilt` degrees about two axes (0: axial), optionally with descending slices. */
export function sceneAxes(tiltDeg = 0, descending = false): Axes {
  const t = (tiltDeg * Math.PI) / 180
  const row: Vec3 = [Math.cos(t), Math.sin(t), 0]
  const col: Vec3 = [-Math.sin(t) * Math.cos(t), Math.cos(t) * Math.cos(t), Math.sin(t)]
  const normal = cross(row, col)
  return [row, col, descending ? [-normal[0], -normal[1], -normal[2]] : normal]
}

export async function makeScene(dir: string, axes: Axes = sceneAxes()): Promise<Scene> {
  const origin: Vec3 = [-40, -30, 100]
  const n = SHAPE[0] * SHAPE[1] * SHAPE[2]
  const ct = new Volume(new Int16Array(n).fill(-1000), [...SHAPE], [...SPACING], origin, axes, { modality: 'CT' })
  const labels = ct.withData(new Uint8Array(n), {})
  // centre (mm along the three axes from voxel 0), radius, hole radius, label
  const balls: Array<[Vec3, number, number, number]> = [
    [[24, 24, 24], 18, 0, 1], // 36 mm
    [[57, 23, 24], 11, 5, 2], // 22 mm shell with a 10 mm hole
    [[58, 58, 16], 6, 0, 3], // 12 mm
    [[22, 60, 30], 4, 0, 4], // 8 mm
    [[40, 70, 36], 4.5, 0, 5], [[70, 42, 36], 4.5, 0, 5], // two 9 mm islands of one label
  ]
  let v = 0
  for (let k = 0; k < SHAPE[2]; k++) for (let j = 0; j < SHAPE[1]; j++) for (let i = 0; i < SHAPE[0]; i++, v++) {
    const p = [i * SPACING[0], j * SPACING[1], k * SPACING[2]]
    for (const [c, r, hole, label] of balls) {
      const d = Math.hypot(p[0] - c[0], p[1] - c[1], p[2] - c[2])
      if (d <= r && d > hole) labels.data[v] = label
    }
    ct.data[v] = labels.data[v] ? 40 : -1000 + ((i + j + k) % 7)
  }
  const ctDir = join(dir, 'ct')
  const labelsPath = join(dir, 'labels.nii.gz')
  await writeDicomSeries(ct, ctDir)
  await writeVolume(labels, labelsPath)
  const structures = new Map<number, [string, number]>([
    [1, ['LN_large', 36]], [2, ['GTVn_shell', 22]], [3, ['LN_medium', 12]], [4, ['LN_small', 8]], [5, ['GTVn_islands', 9]],
  ])
  return { ctDir, labelsPath, labels, structures }
}

/** Dice of two binary masks (value != 0). */
export function dice(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let both = 0, na = 0, nb = 0
  for (let n = 0; n < a.length; n++) {
    const x = a[n] !== 0, y = b[n] !== 0
    if (x) na++
    if (y) nb++
    if (x && y) both++
  }
  return na + nb === 0 ? 1 : (2 * both) / (na + nb)
}
