import { extendBox } from './crop.js'
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

/**
 * Breadth-first from every labelled voxel at once (26-neighbours): each unlabelled voxel that `canTake`
 * gets the label of the region that reaches it first, i.e. of the nearest region (in steps). Splits touching
 * nodes along a border or crease (infer/) and gives a reviewer's painted voxels to their nodes (view/).
 */
export function growLabels(labels: Int32Array | Uint16Array, shape: Vec3, canTake: (v: number) => boolean): void {
  const [nx, ny, nz] = shape
  let frontier: number[] = []
  for (let v = 0; v < labels.length; v++) if (labels[v] !== 0) frontier.push(v)
  while (frontier.length > 0) {
    const next: number[] = []
    for (const v of frontier) {
      const i = v % nx, j = Math.floor(v / nx) % ny, k = Math.floor(v / (nx * ny))
      for (let dk = -1; dk <= 1; dk++) for (let dj = -1; dj <= 1; dj++) for (let di = -1; di <= 1; di++) {
        const a = i + di, b = j + dj, c = k + dk
        if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz) continue
        const u = a + nx * (b + ny * c)
        if (labels[u] !== 0 || !canTake(u)) continue
        labels[u] = labels[v]!
        next.push(u)
      }
    }
    frontier = next
  }
}

/** Inclusive voxel index bounds of one component. */
export interface ComponentBox { lo: Vec3; hi: Vec3 }

/** Each component's box, indexed by id 1..count (undefined for an id with no voxel); ids from a component or instance map. */
export function componentBoxes(ids: ArrayLike<number>, count: number, shape: Vec3): (ComponentBox | undefined)[] {
  const boxes: (ComponentBox | undefined)[] = new Array(count + 1)
  const [nx, ny] = shape
  for (let v = 0; v < ids.length; v++) {
    const c = ids[v]!
    if (c === 0) continue
    const i = v % nx, j = Math.floor(v / nx) % ny, k = Math.floor(v / (nx * ny))
    const b = boxes[c] ?? (boxes[c] = { lo: [i, j, k], hi: [i, j, k] })
    extendBox(b.lo, b.hi, i, j, k)
  }
  return boxes
}
