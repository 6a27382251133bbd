import type { Vec3 } from './volume.js'

export interface Components {
  /** Component id per voxel, 1..count; 0 for background. */
  labels: Int32Array
  count: number
  /** sizes[c] = voxel count of component c; sizes[0] = 0. */
  sizes: number[]
}

/**
 * Connected components of the non-zero voxels (6, 18 or 26-connectivity), numbered in scan order
 * (x fastest) of their first voxel. Two-pass labelling with a union-find over provisional labels.
 */
export function connectedComponents(mask: ArrayLike<number>, shape: Vec3, connectivity: 6 | 18 | 26 = 26): Components {
  const [nx, ny, nz] = shape
  const labels = new Int32Array(nx * ny * nz)
  const parent: number[] = [0]
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]]
      a = parent[a]
    }
    return a
  }
  const union = (a: number, b: number): number => {
    const ra = find(a), rb = find(b)
    if (ra === rb) return ra
    const [lo, hi] = ra < rb ? [ra, rb] : [rb, ra]
    parent[hi] = lo
    return lo
  }
  const offsets = backwardNeighbours(connectivity)
  let n = 0
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        if (!mask[n]) continue
        let label = 0
        for (const [di, dj, dk] of offsets) {
          const ii = i + di, jj = j + dj, kk = k + dk
          if (ii < 0 || jj < 0 || kk < 0 || ii >= nx || jj >= ny) continue
          const l = labels[ii + nx * (jj + ny * kk)]
          if (l === 0) continue
          label = label === 0 ? find(l) : union(label, l)
        }
        if (label === 0) {
          label = parent.length
          parent.push(label)
        }
        labels[n] = label
      }
    }
  }
  // second pass: final ids in order of first appearance
  const finalId = new Int32Array(parent.length)
  const sizes = [0]
  for (let v = 0; v < labels.length; v++) {
    if (labels[v] === 0) continue
    const root = find(labels[v])
    if (finalId[root] === 0) {
      finalId[root] = sizes.length
      sizes.push(0)
    }
    const id = finalId[root]
    labels[v] = id
    sizes[id]++
  }
  return { labels, count: sizes.length - 1, sizes }
}

/** Neighbour offsets already visited in scan order (k, then j, then i ascending). */
function backwardNeighbours(connectivity: 6 | 18 | 26): Vec3[] {
  const out: Vec3[] = []
  for (let dk = -1; dk <= 0; dk++) {
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        if (dk === 0 && (dj > 0 || (dj === 0 && di >= 0))) continue
        const order = Math.abs(di) + Math.abs(dj) + Math.abs(dk)
        if (connectivity === 6 && order > 1) continue
        if (connectivity === 18 && order > 2) continue
        out.push([di, dj, dk])
      }
    }
  }
  return out
}
