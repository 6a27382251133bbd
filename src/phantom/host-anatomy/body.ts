/**
 * Body, outside air and the air spaces inside the body, from HU alone.
 *
 * The patient's tissue (> -400 HU) is the largest connected block of tissue. Everything else falls
 * into connected pieces: a piece is inside the body when most of its voxels have body tissue on
 * both sides along the anterior-posterior or the left-right line (lungs, trachea, bowel gas), and
 * outside otherwise (the air around the patient, the table's foam). A scan cropped through the
 * chest wall lets the lungs touch the image's side; they still count as inside, because lung is
 * not pure air: a piece of nearly pure air (mean below -960 HU) that touches the image's sides is
 * outside. Lungs are the large inside pieces of lung density: few of their voxels are pure gas,
 * while bowel gas is mostly pure gas.
 */
import { connectedComponents } from '../../volume/components.js'
import { Lattice } from './grid.js'

const TISSUE_HU = -400
/** A piece whose mean HU is below this is air, not lung. */
const PURE_AIR_HU = -960
/** Lung parenchyma is mostly -950..-600 HU on a 2.5 mm grid; bowel gas is mostly pure gas. */
const MAX_LUNG_GAS = 0.25
/** Smallest lung piece: a lung base at the top of an abdominal scan still counts. */
const MIN_LUNG_ML = 30

export interface AirPiece {
  id: number
  voxels: number
  meanHu: number
  /** Share of its voxels below -960 HU (pure gas: bowel gas, the airway; little of a lung). */
  gasShare: number
  /** Share of its voxels with body tissue on both sides (anterior-posterior or left-right). */
  enclosed: number
  touchesSide: boolean
  inside: boolean
  lungLike: boolean
}

export interface BodyMasks {
  /** 1 inside the patient (tissue and the air spaces within it). */
  body: Uint8Array
  /** 1 for outside air (and anything else not part of the patient). */
  outside: Uint8Array
  /** 1 for voxels of the lung pieces (lungs with the airway tree connected to them). */
  lungAir: Uint8Array
  /** 1 for air spaces inside the body that are not lung (bowel gas, an airway not joined to the lungs). */
  otherAir: Uint8Array
  pieces: AirPiece[]
}

export function findBody(hu: Float32Array, L: Lattice): BodyMasks {
  const tissue = new Uint8Array(L.voxels)
  for (let v = 0; v < L.voxels; v++) if (hu[v] > TISSUE_HU) tissue[v] = 1
  const shell = largestComponent(tissue, L)
  const rest = new Uint8Array(L.voxels)
  for (let v = 0; v < L.voxels; v++) rest[v] = shell[v] ? 0 : 1
  const cc = connectedComponents(rest, [L.nx, L.ny, L.nz], 6)
  const pieces = describePieces(cc.labels, cc.count, hu, shell, L)
  const voxelMl = (L.h[0] * L.h[1] * L.h[2]) / 1000
  const dense = pieces.filter((p) => p.inside && p.gasShare < MAX_LUNG_GAS && p.voxels * voxelMl >= MIN_LUNG_ML)
  const largest = Math.max(0, ...dense.map((p) => p.voxels))
  for (const p of dense) p.lungLike = p.voxels >= 0.1 * largest
  const kind = new Uint8Array(cc.count + 1) // 0 outside, 1 lung, 2 other inside air
  for (const p of pieces) kind[p.id] = p.lungLike ? 1 : p.inside ? 2 : 0
  const body = new Uint8Array(L.voxels), outside = new Uint8Array(L.voxels)
  const lungAir = new Uint8Array(L.voxels), otherAir = new Uint8Array(L.voxels)
  for (let v = 0; v < L.voxels; v++) {
    if (shell[v]) { body[v] = 1; continue }
    const k = kind[cc.labels[v]]
    if (k === 0) outside[v] = 1
    else {
      body[v] = 1
      if (k === 1) lungAir[v] = 1
      else otherAir[v] = 1
    }
  }
  return { body, outside, lungAir, otherAir, pieces }
}

/** The largest 6-connected component of a mask. */
export function largestComponent(mask: Uint8Array, L: Lattice): Uint8Array {
  const cc = connectedComponents(mask, [L.nx, L.ny, L.nz], 6)
  let best = 0
  for (let c = 1; c <= cc.count; c++) if (cc.sizes[c] > cc.sizes[best]) best = c
  const out = new Uint8Array(L.voxels)
  if (best === 0) return out
  for (let v = 0; v < L.voxels; v++) if (cc.labels[v] === best) out[v] = 1
  return out
}

/** Size, mean HU, enclosure by body tissue and contact with the image's sides of every piece. */
function describePieces(labels: Int32Array, count: number, hu: Float32Array, shell: Uint8Array, L: Lattice): AirPiece[] {
  const { nx, ny, nz } = L
  const voxels = new Float64Array(count + 1), sum = new Float64Array(count + 1), enclosed = new Float64Array(count + 1)
  const gas = new Float64Array(count + 1)
  const side = new Uint8Array(count + 1)
  const [colFirst, colLast] = shellExtent(shell, L, 'column')
  const [rowFirst, rowLast] = shellExtent(shell, L, 'row')
  let v = 0
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = j + ny * k
      for (let i = 0; i < nx; i++, v++) {
        const c = labels[v]
        if (c === 0) continue
        voxels[c]++
        sum[c] += hu[v]
        if (hu[v] < PURE_AIR_HU) gas[c]++
        const col = i + nx * k
        if ((colFirst[col] < j && j < colLast[col]) || (rowFirst[row] < i && i < rowLast[row])) enclosed[c]++
        if (i === 0 || j === 0 || i === nx - 1 || j === ny - 1) side[c] = 1
      }
    }
  }
  const pieces: AirPiece[] = []
  for (let c = 1; c <= count; c++) {
    const meanHu = sum[c] / voxels[c], share = enclosed[c] / voxels[c]
    const inside = share > 0.5 && !(side[c] && meanHu < PURE_AIR_HU)
    pieces.push({ id: c, voxels: voxels[c], meanHu, gasShare: gas[c] / voxels[c], enclosed: share, touchesSide: side[c] === 1, inside, lungLike: false })
  }
  return pieces
}

/** First and last index of shell tissue along each anterior-posterior column or left-right row (-1 if none). */
function shellExtent(shell: Uint8Array, L: Lattice, along: 'column' | 'row'): [Int32Array, Int32Array] {
  const { nx, ny, nz } = L
  const lines = along === 'column' ? nx * nz : ny * nz
  const first = new Int32Array(lines).fill(-1), last = new Int32Array(lines).fill(-1)
  let v = 0
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, v++) {
        if (!shell[v]) continue
        const line = along === 'column' ? i + nx * k : j + ny * k
        const t = along === 'column' ? j : i
        if (first[line] < 0) first[line] = t
        last[line] = t
      }
    }
  }
  return [first, last]
}
