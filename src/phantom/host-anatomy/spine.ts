/**
 * The midline and the front of the spine, per axial slice of the canonical grid.
 *
 * The spinal canal is found first: a voxel of fluid or soft tissue (-40..110 HU) with bone
 * (> 180 HU) around it, 4-16 mm away, in at least 5 of 8 directions, in the back of the body near
 * its centre (within 110 mm of the back, which must be in view). Nothing else in the trunk is a soft hole ringed by bone: contrast-filled vessels are
 * bright inside, the airway is air. The canal gives the midline; going forward from it through the
 * vertebral body (bone or marrow, > 60 HU), the first soft tissue is the front of the spine, which
 * bounds the mediastinum and the retroperitoneum behind. Both are smoothed along z with a running
 * median, which also bridges slices where the ring is open.
 */
import { Lattice } from './grid.js'
import { fillGaps, medianAlongZ } from './masks.js'

const RING_BONE_HU = 180, CANAL_HU: [number, number] = [-40, 110], MARROW_HU = 60
const DIRECTIONS: [number, number][] = [[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]]

export interface Spine {
  /** Left-right index of the midline per slice (the canal, or the body's centre where no canal is seen). */
  midI: Float64Array
  /** Anterior-posterior index of the canal's centre per slice (NaN when no canal was found in the scan). */
  canalJ: Float64Array
  /** Anterior-posterior index of the front of the vertebral body per slice (NaN when no canal was found). */
  frontJ: Float64Array
  /** First and last body index along the midline column per slice (the body's anterior and posterior surfaces). */
  bodyFront: Float64Array
  bodyBack: Float64Array
  /** Slices where the canal was seen. */
  found: number
}

export function findSpine(hu: Float32Array, body: Uint8Array, L: Lattice): Spine {
  const canalI = new Float64Array(L.nz).fill(NaN), canalJ = new Float64Array(L.nz).fill(NaN), centre = new Float64Array(L.nz).fill(NaN)
  let found = 0
  for (let k = 0; k < L.nz; k++) {
    centre[k] = bodyCentreI(body, L, k)
    if (Number.isNaN(centre[k])) continue
    const canal = findCanal(hu, body, L, k, centre[k])
    if (!canal) continue
    canalI[k] = canal[0]
    canalJ[k] = canal[1]
    found++
  }
  const midI = fillGaps(medianAlongZ(found > 0 ? canalI : centre, 4))
  const cj = fillGaps(medianAlongZ(canalJ, 4))
  const frontRaw = new Float64Array(L.nz).fill(NaN), bodyFront = new Float64Array(L.nz).fill(NaN), bodyBack = new Float64Array(L.nz).fill(NaN)
  for (let k = 0; k < L.nz; k++) {
    if (Number.isNaN(midI[k])) continue
    const [f, b] = bodyExtentJ(body, L, k, Math.round(midI[k]))
    bodyFront[k] = f
    bodyBack[k] = b
    if (!Number.isNaN(cj[k])) frontRaw[k] = vertebralFront(hu, L, k, Math.round(midI[k]), Math.round(cj[k]))
  }
  return { midI, canalJ: cj, frontJ: fillGaps(medianAlongZ(frontRaw, 4)), bodyFront: fillGaps(bodyFront), bodyBack: fillGaps(bodyBack), found }
}

function bodyCentreI(body: Uint8Array, L: Lattice, k: number): number {
  let sum = 0, n = 0
  for (let j = 0; j < L.ny; j++) {
    const row = k * L.slice + j * L.nx
    for (let i = 0; i < L.nx; i++) if (body[row + i]) { sum += i; n++ }
  }
  return n > 0 ? sum / n : NaN
}

/** First and last body voxel along the anterior-posterior column at i. */
function bodyExtentJ(body: Uint8Array, L: Lattice, k: number, i: number): [number, number] {
  let first = NaN, last = NaN
  for (let j = 0; j < L.ny; j++) {
    if (!body[k * L.slice + j * L.nx + i]) continue
    if (Number.isNaN(first)) first = j
    last = j
  }
  return [first, last]
}

/** Centre [i, j] of the spinal canal in slice k, or null: the best-ringed soft voxels nearest the body centre. */
function findCanal(hu: Float32Array, body: Uint8Array, L: Lattice, k: number, centre: number): [number, number] | null {
  const [front, back] = bodyExtentJ(body, L, k, Math.round(centre))
  // the back must be in view: in a scan cropped through the trunk, a ring of bright contrast
  // around the myocardium could pass for the canal
  if (Number.isNaN(front) || back >= L.ny - 2) return null
  const reach = Math.round(60 / L.h[0])
  const from = Math.max(Math.round(front + 0.45 * (back - front)), back - Math.round(110 / L.h[1]))
  let best = 4, hits: [number, number][] = []
  for (let j = from; j <= back; j++) {
    for (let i = Math.max(0, Math.round(centre) - reach); i <= Math.min(L.nx - 1, Math.round(centre) + reach); i++) {
      const v = k * L.slice + j * L.nx + i
      if (!body[v] || hu[v] < CANAL_HU[0] || hu[v] > CANAL_HU[1]) continue
      const score = ringScore(hu, L, k, i, j)
      if (score > best) { best = score; hits = [] }
      if (score === best) hits.push([i, j])
    }
  }
  if (hits.length === 0) return null
  hits.sort((a, b) => Math.abs(a[0] - centre) - Math.abs(b[0] - centre))
  const [i0, j0] = hits[0]
  const near = hits.filter(([i, j]) => Math.abs(i - i0) * L.h[0] <= 8 && Math.abs(j - j0) * L.h[1] <= 8)
  return [near.reduce((s, p) => s + p[0], 0) / near.length, near.reduce((s, p) => s + p[1], 0) / near.length]
}

/** In how many of 8 directions bone lies 4-16 mm from (i, j). */
function ringScore(hu: Float32Array, L: Lattice, k: number, i: number, j: number): number {
  let score = 0
  for (const [di, dj] of DIRECTIONS) {
    const step = Math.hypot(di * L.h[0], dj * L.h[1])
    for (let t = Math.ceil(4 / step); t * step <= 16; t++) {
      const ii = i + di * t, jj = j + dj * t
      if (ii < 0 || jj < 0 || ii >= L.nx || jj >= L.ny) break
      if (hu[k * L.slice + jj * L.nx + ii] > RING_BONE_HU) { score++; break }
    }
  }
  return score
}

/**
 * Front of the vertebral body: from the canal forward past its front wall, then through bone or
 * marrow (> 60 HU) to the first two voxels of soft tissue; at most 50 mm in front of the canal.
 */
function vertebralFront(hu: Float32Array, L: Lattice, k: number, i: number, canal: number): number {
  const at = (j: number) => (j >= 0 ? hu[k * L.slice + j * L.nx + i] : -1000)
  let j = canal
  while (j > 0 && at(j) <= RING_BONE_HU && (canal - j) * L.h[1] < 15) j--
  const limit = canal - Math.round(50 / L.h[1])
  while (j > limit && (at(j - 1) > MARROW_HU || at(j - 2) > MARROW_HU)) j--
  return j
}
