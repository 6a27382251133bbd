/**
 * What stage 2 sees of one candidate node, computed the same way at training and at prediction (so no
 * train/test skew): a small patch around it, sampled by world coordinates on a patient-aligned (LPS) grid
 * with its own fixed spacing, with channels CT, the candidate's mask and (for PET/CT) PET; and its measured
 * features, the ones radiologists judge nodes by: short axis, roundness (short/long), volume, mean and spread
 * of HU, the fraction of a low-density (necrotic) centre, SUVmax, plus stage 1's confidence.
 */
import { normalizeChannel, type Normalization } from '../preprocess/normalize.js'
import { cropOrPad } from '../volume/crop.js'
import { measureNode } from '../volume/measure.js'
import { resampleTo } from '../volume/resample.js'
import { IDENTITY_AXES, type Grid, scaledAxes, type Vec3, type Volume, worldToIndex } from '../volume/volume.js'

/** Every measured feature stage 2 can use, in the order they enter the network. */
export const MEASURED_FEATURES = [
  'short_axis_mm', 'short_long_ratio', 'log10_volume_ml', 'mean_hu', 'sd_hu', 'low_density_centre_fraction', 'detector_score', 'suv_max',
] as const
export type MeasuredFeature = (typeof MEASURED_FEATURES)[number]

export type PatchChannel = 'CT' | 'mask' | 'PET'

export interface PatchSpec {
  channels: PatchChannel[]
  /** Voxels per side of the cube. */
  size: number
  spacing_mm: number
  ct: Normalization
  pet: Normalization
}

/** The scan a candidate lives in: CT in HU, PET in SUV on the CT grid (or null), stage 1's foreground probability. */
export interface CandidateScan {
  ct: Volume
  pet: Volume | null
  /** Stage 1's foreground probability on the CT grid; null where it is not known (then detector_score is 0). */
  foreground: Float32Array | null
}

/** One candidate: a label id in an instance map on the CT grid and its inclusive voxel bounds. */
export interface CandidateRegion {
  instances: Volume
  id: number
  bbox: [Vec3, Vec3]
}

export interface CandidateMeasurement {
  values: Record<MeasuredFeature, number>
  centre_mm: Vec3
}

/** Measures one candidate over its bounding box. */
export function measureCandidate(scan: CandidateScan, region: CandidateRegion): CandidateMeasurement {
  const { instances, id, bbox } = region
  const start = bbox[0].map((v) => v - 1) as Vec3
  const shape = bbox[1].map((v, d) => v - bbox[0][d]! + 3) as Vec3
  const m = measureNode(cropOrPad(instances, start, shape), id)
  if (!m) throw new Error(`candidate ${id} has no voxels in its box`)
  const stats = voxelStats(scan, region, m.centre_mm, m.short_axis_mm)
  return {
    centre_mm: m.centre_mm,
    values: {
      short_axis_mm: m.short_axis_mm,
      short_long_ratio: m.long_axis_mm > 0 ? m.short_axis_mm / m.long_axis_mm : 1,
      log10_volume_ml: Math.log10(Math.max(m.volume_ml, 1e-3)),
      mean_hu: stats.meanHu,
      sd_hu: stats.sdHu,
      low_density_centre_fraction: stats.lowCentre,
      detector_score: stats.score,
      suv_max: stats.suvMax,
    },
  }
}

interface VoxelStats { meanHu: number; sdHu: number; lowCentre: number; score: number; suvMax: number }

/**
 * HU mean and spread, SUVmax, mean stage-1 probability; and the low-density centre: of the voxels within
 * half the short-axis radius of the centre, the fraction darker than the rest of the node by 20 HU or more
 * (necrosis is 10-20 HU against 40-60 HU of a viable node).
 */
function voxelStats(scan: CandidateScan, region: CandidateRegion, centre: Vec3, shortAxis: number): VoxelStats {
  const { instances, id, bbox } = region
  const [nx, ny] = instances.shape
  const inner = (shortAxis / 4) ** 2
  // distance to the centre in mm from the voxel's index offset: Σ_d (index_d - c_d) · axis_d · spacing_d
  const c = worldToIndex(instances, centre)
  const [ax, ay, az] = scaledAxes(instances)
  let n = 0, sum = 0, sum2 = 0, score = 0, suvMax = 0
  const centreHu: number[] = []
  let rimSum = 0, rimN = 0
  for (let k = bbox[0][2]; k <= bbox[1][2]; k++) {
    for (let j = bbox[0][1]; j <= bbox[1][1]; j++) {
      for (let i = bbox[0][0]; i <= bbox[1][0]; i++) {
        const v = i + nx * (j + ny * k)
        if (instances.data[v] !== id) continue
        const hu = scan.ct.data[v]!
        n++; sum += hu; sum2 += hu * hu
        if (scan.foreground) score += scan.foreground[v]!
        if (scan.pet && scan.pet.data[v]! > suvMax) suvMax = scan.pet.data[v]!
        const di = i - c[0], dj = j - c[1], dk = k - c[2]
        const d2 = (di * ax[0] + dj * ay[0] + dk * az[0]) ** 2 + (di * ax[1] + dj * ay[1] + dk * az[1]) ** 2 + (di * ax[2] + dj * ay[2] + dk * az[2]) ** 2
        if (d2 <= inner) centreHu.push(hu)
        else { rimSum += hu; rimN++ }
      }
    }
  }
  const meanHu = sum / n
  const rimMean = rimN > 0 ? rimSum / rimN : meanHu
  const low = centreHu.filter((hu) => hu < rimMean - 20).length
  return {
    meanHu, sdHu: Math.sqrt(Math.max(0, sum2 / n - meanHu * meanHu)),
    lowCentre: centreHu.length > 0 ? low / centreHu.length : 0, score: n > 0 ? score / n : 0, suvMax,
  }
}

/** The patch grid: `size`³ voxels of `spacing_mm`, patient-aligned, centred on `centre` (LPS mm). */
export function patchGrid(centre: Vec3, size: number, spacing: number): Grid {
  const half = ((size - 1) / 2) * spacing
  return { shape: [size, size, size], spacing: [spacing, spacing, spacing], origin: centre.map((c) => c - half) as Vec3, axes: IDENTITY_AXES }
}

/**
 * The patch [channels, z, y, x] (x fastest, as the networks read), normalised; `size` may exceed the spec's
 * (training samples a larger patch and crops it at random for shift augmentation).
 */
export function extractPatch(scan: CandidateScan, region: CandidateRegion, centre: Vec3, spec: PatchSpec, size = spec.size): Float32Array {
  const grid = patchGrid(centre, size, spec.spacing_mm)
  const voxels = size ** 3
  const out = new Float32Array(spec.channels.length * voxels)
  spec.channels.forEach((channel, c) => {
    const target = out.subarray(c * voxels, (c + 1) * voxels)
    if (channel === 'CT') {
      const ctFloor = spec.ct.scheme === 'ct' ? spec.ct.clip[0] : -1000
      normalizeChannel(resampleTo(scan.ct, grid, { interpolation: 'linear', fill: ctFloor }).data, spec.ct, target)
    } else if (channel === 'PET') {
      if (!scan.pet) throw new Error('this classifier needs PET')
      normalizeChannel(resampleTo(scan.pet, grid, { interpolation: 'linear', fill: 0 }).data, spec.pet, target)
    } else {
      const mask = resampleTo(region.instances, grid, { interpolation: 'nearest', fill: 0 }).data
      for (let v = 0; v < voxels; v++) target[v] = mask[v] === region.id ? 1 : 0
    }
  })
  return out
}

/** Measured features as the network's input vector, standardised with the training set's mean and spread. */
export function measuredVector(values: Record<MeasuredFeature, number>, names: readonly MeasuredFeature[], mean: number[], std: number[]): Float32Array {
  return Float32Array.from(names, (name, i) => (values[name] - mean[i]!) / (std[i]! || 1))
}
