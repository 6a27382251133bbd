/**
 * Contrast-enhanced vessels, and where the aorta and the inferior vena cava run in the abdomen.
 *
 * A scan is taken as contrast-enhanced when the blood pool is bright: the 90th percentile of the
 * non-fat voxels of the mediastinum (heart, aorta, pulmonary arteries), or, without lungs in view,
 * of the strip in front of the spine (aorta, cava), is above 110 HU; unenhanced blood is 30-60 HU.
 * Enhanced vessels are then the voxels of 130-700 HU there. Labelled vessels (an organ label map
 * naming the aorta or the cava) take precedence for the positions of the aorta and the cava.
 */
import { Lattice } from './grid.js'
import { countOf, sliceComponents } from './masks.js'
import { Spine } from './spine.js'

const ENHANCED_POOL_HU = 110
const VESSEL_HU: [number, number] = [130, 700]

export interface Vessels {
  enhanced: boolean
  /** 90th percentile HU of the non-fat voxels of the blood-pool region (NaN when there was none). */
  bloodPoolHu: number
  /** 1 for an enhanced or labelled vessel voxel. */
  mask: Uint8Array
  /** Per slice, the left-right index of the aorta's and the cava's centre (NaN where not seen). */
  aortaI: Float64Array
  cavaI: Float64Array
  source: 'labels' | 'labels+contrast' | 'contrast' | 'none'
}

/** Labelled vessels on the canonical grid: 1 aorta, 2 vena cava, 3 another vessel. */
export type VesselLabels = Uint8Array | null

/** Voxels in front of the spine: up to 45 mm in front of it, within 45 mm of the midline. */
export function prevertebralStrip(body: Uint8Array, spine: Spine, L: Lattice): Uint8Array {
  const strip = new Uint8Array(L.voxels)
  if (spine.found === 0) return strip
  const depth = 45 / L.h[1], half = 45 / L.h[0]
  for (let k = 0; k < L.nz; k++) {
    const front = spine.frontJ[k], mid = spine.midI[k]
    if (Number.isNaN(front)) continue
    for (let j = Math.max(0, Math.ceil(front - depth)); j <= Math.min(L.ny - 1, Math.floor(front - 3 / L.h[1])); j++) {
      for (let i = Math.max(0, Math.ceil(mid - half)); i <= Math.min(L.nx - 1, Math.floor(mid + half)); i++) {
        const v = k * L.slice + j * L.nx + i
        if (body[v]) strip[v] = 1
      }
    }
  }
  return strip
}

export function findVessels(hu: Float32Array, mediastinum: Uint8Array, strip: Uint8Array, labels: VesselLabels, L: Lattice): Vessels {
  const voxelMl = (L.h[0] * L.h[1] * L.h[2]) / 1000
  const pool = countOf(mediastinum) * voxelMl >= 50 ? mediastinum : strip
  const bloodPoolHu = percentile(hu, pool, 0.9)
  const enhanced = bloodPoolHu > ENHANCED_POOL_HU
  const mask = new Uint8Array(L.voxels)
  if (enhanced) {
    for (let v = 0; v < L.voxels; v++) {
      if ((mediastinum[v] || strip[v]) && hu[v] >= VESSEL_HU[0] && hu[v] <= VESSEL_HU[1]) mask[v] = 1
    }
  }
  const labelled = labels !== null && labels.some((l) => l > 0)
  if (labelled) for (let v = 0; v < L.voxels; v++) if (labels![v]) mask[v] = 1
  const aortaI = new Float64Array(L.nz).fill(NaN), cavaI = new Float64Array(L.nz).fill(NaN)
  const enhancedStrip = new Uint8Array(L.voxels)
  for (let v = 0; v < L.voxels; v++) if (mask[v] && strip[v]) enhancedStrip[v] = 1
  for (let k = 0; k < L.nz; k++) {
    if (labelled) {
      aortaI[k] = labelCentreI(labels!, 1, L, k)
      cavaI[k] = labelCentreI(labels!, 2, L, k)
    }
    if (enhanced && Number.isNaN(aortaI[k])) aortaI[k] = aortaFromContrast(enhancedStrip, L, k)
  }
  const source = labelled ? (enhanced ? 'labels+contrast' : 'labels') : enhanced ? 'contrast' : 'none'
  return { enhanced, bloodPoolHu, mask, aortaI, cavaI, source }
}

/** The 90th (or q-th) percentile of the voxels of a region that are not fat or air (> -30 HU), NaN if none. */
function percentile(hu: Float32Array, region: Uint8Array, q: number): number {
  const values: number[] = []
  for (let v = 0; v < hu.length; v++) if (region[v] && hu[v] > -30 && hu[v] < 1500) values.push(hu[v])
  if (values.length < 20) return NaN
  values.sort((a, b) => a - b)
  return values[Math.floor(q * (values.length - 1))]
}

function labelCentreI(labels: Uint8Array, id: number, L: Lattice, k: number): number {
  let sum = 0, n = 0
  for (let p = 0; p < L.slice; p++) if (labels[k * L.slice + p] === id) { sum += p % L.nx; n++ }
  return n > 0 ? sum / n : NaN
}

/** The aorta in front of the spine: the largest enhanced piece of the strip in this slice (at least 1.5 cm²). */
function aortaFromContrast(enhancedStrip: Uint8Array, L: Lattice, k: number): number {
  const cc = sliceComponents(enhancedStrip, L, k)
  let best = 0
  for (let c = 1; c <= cc.count; c++) if (cc.sizes[c] > cc.sizes[best]) best = c
  if (best === 0 || cc.sizes[best] * L.h[0] * L.h[1] < 150) return NaN
  let sum = 0
  for (let p = 0; p < L.slice; p++) if (cc.labels[p] === best) sum += p % L.nx
  return sum / cc.sizes[best]
}
