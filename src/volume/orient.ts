import { allocate, Axes, Vec3, Volume, indexToWorld } from './volume.js'

/**
 * Orientation codes name, for each voxel axis, the patient direction that index increases towards,
 * as ITK and DICOM viewers do: 'LPS' means x runs to the patient's Left, y to Posterior, z to Superior.
 * (nibabel's aff2axcodes uses the same meaning, so its 'RAS' equals ours.)
 */
const POSITIVE = ['L', 'P', 'S'] as const
const NEGATIVE = ['R', 'A', 'I'] as const

/** The closest axis letter of each voxel axis, e.g. 'LPS', 'RAS', 'LIP' for a coronal stack. */
export function orientationCode(axes: Axes): string {
  return axes.map((a) => {
    const r = dominantAxis(a)
    return a[r] >= 0 ? POSITIVE[r] : NEGATIVE[r]
  }).join('')
}

function dominantAxis(a: Vec3): number {
  const abs = a.map(Math.abs)
  return abs[0] >= abs[1] && abs[0] >= abs[2] ? 0 : abs[1] >= abs[2] ? 1 : 2
}

/** True when the axes are not aligned with the patient axes (within tol in direction cosine). */
export function isOblique(axes: Axes, tol = 1e-4): boolean {
  return axes.some((a) => a.filter((v) => Math.abs(v) > tol).length > 1)
}

/**
 * Permutes and flips the voxel axes so the orientation code becomes `target` (default 'LPS').
 * Voxels are not interpolated: each keeps its world position, so this is exact. For oblique
 * volumes the closest canonical orientation is reached; the residual obliquity stays in `axes`.
 */
export function reorient(vol: Volume, target = 'LPS'): Volume {
  const want = parseCode(target)
  // perm[d] = source axis that becomes output axis d; flip[d] when it runs the opposite way
  const perm: number[] = [], flip: boolean[] = []
  for (let d = 0; d < 3; d++) {
    const src = vol.axes.findIndex((a) => dominantAxis(a) === want[d].axis)
    if (src < 0 || perm.includes(src)) throw new Error(`cannot reorient ${orientationCode(vol.axes)} to ${target}`)
    perm.push(src)
    flip.push(Math.sign(vol.axes[src][want[d].axis]) !== want[d].sign)
  }
  const inShape = vol.shape
  const shape = perm.map((p) => inShape[p]) as Vec3
  const spacing = perm.map((p) => vol.spacing[p]) as Vec3
  const axes = perm.map((p, d) => vol.axes[p].map((v) => (flip[d] ? -v : v))) as Axes
  // origin: world position of the source voxel that lands at output (0,0,0)
  const srcCorner: Vec3 = [0, 0, 0]
  for (let d = 0; d < 3; d++) srcCorner[perm[d]] = flip[d] ? inShape[perm[d]] - 1 : 0
  const origin = indexToWorld(vol, srcCorner)

  const out = allocate(vol.dtype, vol.data.length)
  const srcStride = [1, inShape[0], inShape[0] * inShape[1]]
  // step in the source array per output index step, and start offset
  const step = perm.map((p, d) => (flip[d] ? -srcStride[p] : srcStride[p]))
  const start = srcCorner[0] * srcStride[0] + srcCorner[1] * srcStride[1] + srcCorner[2] * srcStride[2]
  let n = 0
  for (let k = 0; k < shape[2]; k++) {
    for (let j = 0; j < shape[1]; j++) {
      let s = start + j * step[1] + k * step[2]
      for (let i = 0; i < shape[0]; i++, s += step[0]) out[n++] = vol.data[s]
    }
  }
  return new Volume(out, shape, spacing, origin, axes, { ...vol.meta })
}

function parseCode(code: string): { axis: number; sign: number }[] {
  const up = code.toUpperCase()
  if (!/^[LRPASI]{3}$/.test(up)) throw new Error(`bad orientation code '${code}'`)
  const parsed = [...up].map((c) => {
    const pos = POSITIVE.indexOf(c as never), neg = NEGATIVE.indexOf(c as never)
    return pos >= 0 ? { axis: pos, sign: 1 } : { axis: neg, sign: -1 }
  })
  if (new Set(parsed.map((p) => p.axis)).size !== 3) throw new Error(`bad orientation code '${code}'`)
  return parsed
}
