/**
 * The coarse grid the host anatomy is found on. The host CT is block-averaged to about 2.5 mm in its
 * own voxel frame, then its axes are permuted and flipped (exactly, no interpolation) so that index
 * i runs to the patient's left, j to posterior and k to superior (LPS). Every rule of the detector
 * can then speak of "left", "anterior" or "above" as index directions, whatever the scan's
 * orientation. A residual obliquity of the scan is ignored by the rules (it stays in the axes).
 */
import { reorient } from '../../volume/orient.js'
import { Vec3, Volume } from '../../volume/volume.js'

/** Target voxel size (mm) of the analysis grid. */
const TARGET_MM = 2.5

/** Shape, spacing and indexing of the canonical (LPS-ordered) coarse grid. */
export interface Lattice {
  nx: number
  ny: number
  nz: number
  /** Voxel size in mm along i (left), j (posterior), k (superior). */
  h: Vec3
  /** nx * ny. */
  slice: number
  voxels: number
}

export interface AnalysisGrid {
  lattice: Lattice
  /** Block-mean HU on the canonical grid (i: left, j: posterior, k: superior). */
  hu: Float32Array
  /** The canonical grid as a volume (for world positions of its voxels). */
  volume: Volume
  /** Block size along each host voxel axis. */
  block: Vec3
  /** Shape of the block grid in the host's voxel frame. */
  blockShape: Vec3
  /** Offset into the block grid (host frame) of every canonical voxel. */
  blockOfCanonical: Int32Array
}

export function latticeOf(shape: Vec3, h: Vec3): Lattice {
  return { nx: shape[0], ny: shape[1], nz: shape[2], h, slice: shape[0] * shape[1], voxels: shape[0] * shape[1] * shape[2] }
}

/** Builds the analysis grid of a host CT (HU). */
export function analysisGrid(host: Volume): AnalysisGrid {
  const block = host.spacing.map((s) => Math.max(1, Math.round(TARGET_MM / s))) as Vec3
  const blocks = blockMean(host, block)
  const canonical = reorient(blocks, 'LPS')
  const lattice = latticeOf(canonical.shape, canonical.spacing)
  return {
    lattice, hu: canonical.data as Float32Array, volume: canonical, block, blockShape: blocks.shape,
    blockOfCanonical: canonicalToBlock(canonical, blocks),
  }
}

/** Mean of each block of host voxels, as a volume on the host's axes with the blocks' spacing. */
function blockMean(host: Volume, block: Vec3): Volume {
  const [nx, ny, nz] = host.shape
  const shape = host.shape.map((n, d) => Math.ceil(n / block[d])) as Vec3
  const [bx, by] = shape
  const sum = new Float64Array(shape[0] * shape[1] * shape[2])
  const count = new Uint16Array(sum.length)
  const bi = Int32Array.from({ length: nx }, (_, i) => Math.floor(i / block[0]))
  const data = host.data
  let v = 0
  for (let k = 0; k < nz; k++) {
    const bk = Math.floor(k / block[2]) * bx * by
    for (let j = 0; j < ny; j++) {
      const row = bk + Math.floor(j / block[1]) * bx
      for (let i = 0; i < nx; i++, v++) {
        sum[row + bi[i]] += data[v]
        count[row + bi[i]]++
      }
    }
  }
  const mean = new Float32Array(sum.length)
  for (let b = 0; b < mean.length; b++) mean[b] = sum[b] / count[b]
  const origin = host.indexToWorld((block[0] - 1) / 2, (block[1] - 1) / 2, (block[2] - 1) / 2)
  const spacing = host.spacing.map((s, d) => s * block[d]) as Vec3
  return new Volume(mean, shape, spacing, origin, host.axes)
}

/** For every canonical voxel, the offset of the same voxel in the block grid (an exact permutation). */
function canonicalToBlock(canonical: Volume, blocks: Volume): Int32Array {
  const at = (i: number, j: number, k: number) => blocks.worldToIndex(canonical.indexToWorld(i, j, k)).map(Math.round) as Vec3
  const base = at(0, 0, 0)
  const steps = [at(1, 0, 0), at(0, 1, 0), at(0, 0, 1)].map((p) => p.map((c, d) => c - base[d]))
  const [bx, by] = blocks.shape
  const offset = (p: number[]) => p[0] + bx * (p[1] + by * p[2])
  const o0 = offset(base), [si, sj, sk] = steps.map(offset)
  const [nx, ny, nz] = canonical.shape
  const out = new Int32Array(nx * ny * nz)
  let n = 0
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      let o = o0 + j * sj + k * sk
      for (let i = 0; i < nx; i++, n++, o += si) out[n] = o
    }
  }
  return out
}
