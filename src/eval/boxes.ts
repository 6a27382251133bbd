import type { Vec3 } from '../volume/volume.js'

/** An axis-aligned box in mm: [min, max] corners along the voxel axes. */
export interface Box {
  min: Vec3
  max: Vec3
}

/** The box of voxels lo..hi (inclusive indices), out to the voxels' outer faces, in mm. */
export function voxelBox(lo: Vec3, hi: Vec3, spacing: Vec3): Box {
  return {
    min: [0, 1, 2].map((d) => (lo[d] - 0.5) * spacing[d]) as Vec3,
    max: [0, 1, 2].map((d) => (hi[d] + 0.5) * spacing[d]) as Vec3,
  }
}

function boxVolume(b: Box): number {
  return Math.max(0, b.max[0] - b.min[0]) * Math.max(0, b.max[1] - b.min[1]) * Math.max(0, b.max[2] - b.min[2])
}

function intersectionVolume(a: Box, b: Box): number {
  let v = 1
  for (let d = 0; d < 3; d++) v *= Math.max(0, Math.min(a.max[d], b.max[d]) - Math.max(a.min[d], b.min[d]))
  return v
}

/**
 * Box IoU |A∩B| / |A∪B| of two axis-aligned boxes. Degenerate boxes (both of zero volume): 0.
 * Reference: the detection IoU of PASCAL VOC / COCO, in 3D as nnDetection uses it.
 */
export function boxIou(a: Box, b: Box): number {
  const inter = intersectionVolume(a, b)
  const union = boxVolume(a) + boxVolume(b) - inter
  return union > 0 ? inter / union : 0
}

/**
 * Generalised IoU: IoU − |C \ (A∪B)| / |C| with C the smallest box enclosing A and B; in [−1, 1],
 * and it still ranks disjoint boxes by how far apart they are.
 * Reference: Rezatofighi et al., "Generalized Intersection over Union", CVPR 2019.
 */
export function boxGiou(a: Box, b: Box): number {
  const inter = intersectionVolume(a, b)
  const union = boxVolume(a) + boxVolume(b) - inter
  const hull = boxVolume({
    min: [0, 1, 2].map((d) => Math.min(a.min[d], b.min[d])) as Vec3,
    max: [0, 1, 2].map((d) => Math.max(a.max[d], b.max[d])) as Vec3,
  })
  if (hull <= 0) return 0
  return (union > 0 ? inter / union : 0) - (hull - union) / hull
}
