/**
 * Contours of a binary mask, slice by slice, at sub-voxel precision: marching squares at the 0.5
 * iso-level between voxel centres. On a binary mask each vertex falls halfway between a voxel inside
 * and a voxel outside, so corners are cut diagonally instead of following voxel staircases, and every
 * voxel centre stays on its own side of the line (rasterising the contours by voxel centres gives the
 * mask back exactly).
 *
 * Every boundary becomes its own closed loop: outer boundaries, holes and islands inside holes alike.
 * Planning systems (and plastimatch) fill the contours of one slice with the even-odd rule, so a
 * hole's loop inside its outer loop reads as a hole without any extra marking.
 */
import type { Vec3 } from '../../volume/volume.js'

/** A closed polygon in continuous voxel index coordinates (i, j) of one slice; the last point joins the first. */
export type Loop = Array<[number, number]>

/**
 * Cell corners a=(i,j) b=(i+1,j) c=(i+1,j+1) d=(i,j+1); case = a + 2b + 4c + 8d (1 = inside).
 * Edges: 0 top (a-b), 1 right (b-c), 2 bottom (d-c), 3 left (a-d). Each entry lists edge pairs joined
 * by a segment. The saddles (5, 10) join the inside corners, so diagonal neighbours stay one region
 * (the same 8-connectivity as the connected components of a slice).
 */
const SEGMENTS: number[][][] = [
  [], [[3, 0]], [[0, 1]], [[3, 1]], [[1, 2]], [[3, 2], [0, 1]], [[0, 2]], [[3, 2]],
  [[2, 3]], [[2, 0]], [[2, 1], [0, 3]], [[2, 1]], [[1, 3]], [[1, 0]], [[0, 3]], [],
]

/** Closed loops of the inside region (value != 0) of slice k of a mask with shape [nx, ny, nz]. */
export function traceSlice(mask: ArrayLike<number>, shape: Vec3, k: number): Loop[] {
  const [nx, ny] = shape
  const base = k * nx * ny
  const inside = (i: number, j: number) => i >= 0 && j >= 0 && i < nx && j < ny && mask[base + i + nx * j] !== 0
  // Edge points are keyed by the cell grid of the mask padded by one voxel on each side.
  const w = nx + 2
  const hKey = (i: number, j: number) => 2 * ((i + 1) + w * (j + 1)) // between (i,j) and (i+1,j)
  const vKey = (i: number, j: number) => 2 * ((i + 1) + w * (j + 1)) + 1 // between (i,j) and (i,j+1)
  const next = new Map<number, number>()
  const point = new Map<number, [number, number]>()
  for (let j = -1; j < ny; j++) {
    for (let i = -1; i < nx; i++) {
      const a = inside(i, j), b = inside(i + 1, j), c = inside(i + 1, j + 1), d = inside(i, j + 1)
      const code = (a ? 1 : 0) | (b ? 2 : 0) | (c ? 4 : 0) | (d ? 8 : 0)
      if (code === 0 || code === 15) continue
      const edges: Array<[number, [number, number]]> = [
        [hKey(i, j), [i + 0.5, j]], [vKey(i + 1, j), [i + 1, j + 0.5]],
        [hKey(i, j + 1), [i + 0.5, j + 1]], [vKey(i, j), [i, j + 0.5]],
      ]
      for (const [e0, e1] of SEGMENTS[code]) {
        const [from, to] = orient(edges[e0], edges[e1], [i, j], [a, b, c, d])
        next.set(from[0], to[0])
        point.set(from[0], from[1])
      }
    }
  }
  return linkLoops(next, point)
}

/**
 * Directs a segment so that the inside lies on its left in (i, j) coordinates. The side is decided
 * by a corner whose state is known: the corner both edges touch, or for a straight cut any inside corner.
 */
function orient<T extends [number, [number, number]]>(p: T, q: T, [i, j]: [number, number], state: boolean[]): [T, T] {
  const corners: Array<[number, number]> = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]]
  const [px, py] = p[1], [qx, qy] = q[1]
  const shared = corners.findIndex(([x, y]) => Math.abs(x - px) + Math.abs(y - py) === 0.5 && Math.abs(x - qx) + Math.abs(y - qy) === 0.5)
  const ref = shared >= 0 ? shared : state.indexOf(true)
  const [rx, ry] = corners[ref]
  const leftOf = (qx - px) * (ry - py) - (qy - py) * (rx - px) > 0
  return leftOf === state[ref] ? [p, q] : [q, p]
}

function linkLoops(next: Map<number, number>, point: Map<number, [number, number]>): Loop[] {
  const loops: Loop[] = []
  const used = new Set<number>()
  for (const start of next.keys()) {
    if (used.has(start)) continue
    const loop: Loop = []
    let key = start
    while (!used.has(key)) {
      used.add(key)
      loop.push(point.get(key)!)
      key = next.get(key)!
    }
    loops.push(dropCollinear(loop))
  }
  return loops
}

/** Removes vertices that lie on the straight line through their neighbours (exact: vertices are on a half-voxel grid). */
export function dropCollinear(loop: Loop): Loop {
  const out: Loop = []
  const n = loop.length
  for (let m = 0; m < n; m++) {
    const [ax, ay] = loop[(m + n - 1) % n], [bx, by] = loop[m], [cx, cy] = loop[(m + 1) % n]
    if ((bx - ax) * (cy - by) - (by - ay) * (cx - bx) !== 0) out.push(loop[m])
  }
  return out
}
