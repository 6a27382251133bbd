/**
 * One synthetic case: a site's anatomy and nodes painted on a canvas, then acquired as CT, PET/CT
 * or T2-weighted MR, with the label map, the instance map and each node's record. Everything random
 * comes from a generator seeded by (seed, case index), so a case is the same bytes every time.
 */
import { measureAllNodes, NodeMeasurement } from '../volume/measure.js'
import { resampleTo } from '../volume/resample.js'
import { Vec3, Volume, IDENTITY_AXES } from '../volume/volume.js'
import { acquireCt, acquireMr, acquirePet } from './acquisition.js'
import { Canvas } from './canvas.js'
import { NodeMasks, paintNode, PlacedNode, placeNodes } from './nodes.js'
import { Rng } from './random.js'
import { SITE_MODELS } from './sites/index.js'
import { SiteName } from './sites/site.js'
import { casePalette } from './tissues.js'

export type Modality = 'ct' | 'petct' | 'mr'
export const MODALITIES: readonly Modality[] = ['ct', 'petct', 'mr']

export interface CaseOptions {
  site: SiteName
  modality: Modality
  /** Voxel size (mm); drawn per case from clinical ranges when absent. */
  spacing?: Vec3
  /** Voxels along x, y, z; the site's field of view over the spacing when absent. */
  size?: Vec3
}

export interface NodeRecord {
  class: 'benign' | 'malignant'
  /** The body site, or what the user said of an inserted node's host scan. */
  site: string
  station: string
  centre_mm: Vec3
  short_axis_mm: number
  long_axis_mm: number
  volume_ml: number
  voxels: number
  axial_slice: number
  necrosis: boolean
  fatty_hilum: boolean
  margin: 'smooth' | 'lobulated'
  capsule_breach: boolean
  cluster: number | null
  suv_max?: number
  /** The shape as designed: semi-axes (mm) along LPS unit axes, before lobulation and sampling. */
  design: { centre_mm: Vec3; semi_axes_mm: Vec3; axes: [Vec3, Vec3, Vec3] }
}

export interface PhantomCase {
  /** Image channels in nnU-Net order: CT, or CT + PET (resampled onto the CT grid), or MR. */
  channels: Volume[]
  /** PET on its own grid (petct only). */
  petNative: Volume | null
  labels: Volume
  instances: Volume
  /** Tissue class per voxel of the anatomy before nodes were added (see TissueClass). */
  anatomy: Volume
  nodes: Record<string, NodeRecord>
  acquisition: Record<string, unknown>
}

const SLICE_THICKNESSES = [1, 1.25, 1.5, 2, 2.5, 3, 5]

export function generateCase(opts: CaseOptions, seed: number, index: number): PhantomCase {
  const rng = Rng.forCase(seed, index)
  const site = SITE_MODELS[opts.site]
  const spacing = opts.spacing ?? drawSpacing(rng, opts.modality)
  const shape = opts.size ?? (site.fov.map((f, d) => Math.max(8, Math.round(f / spacing[d]))) as Vec3)
  const origin = shape.map((n, d) => -((n - 1) * spacing[d]) / 2) as Vec3
  const canvas = new Canvas(shape, spacing, origin, { pet: opts.modality === 'petct', mr: opts.modality === 'mr' })
  const tissue = casePalette(rng)
  const stations = site.paint({ canvas, rng: rng, tissue })
  const anatomy = canvas.tissue.slice()

  const cancer = rng.chance(0.8)
  const counts = { benign: rng.int(2, 7), malignant: cancer ? rng.int(1, 4) : 0 }
  const nodes = placeNodes(rng, canvas, stations, tissue, counts)
  canvas.tissue.set(anatomy)
  const masks = new NodeMasks(anatomy.length)
  for (const node of nodes) paintNode(canvas, masks, node.id, node, tissue)

  const grid = canvas.grid
  const volumeOn = (data: Volume['data'], meta = {}) => new Volume(data, [...shape], [...spacing], [...origin], IDENTITY_AXES, meta)
  const acquisition: Record<string, unknown> = { spacing_mm: spacing, shape, modality: opts.modality }
  const channels: Volume[] = []
  let petNative: Volume | null = null
  if (opts.modality === 'mr') {
    const mr = { psf_fwhm_mm: rng.uniform(0.9, 1.4), noise: rng.uniform(12, 25), bias: [rng.gauss(0, 0.08), rng.gauss(0, 0.08), rng.gauss(0, 0.06)] as Vec3 }
    channels.push(volumeOn(acquireMr(rng, canvas.mr!, grid, mr), { modality: 'MR', sequence: 'T2' }))
    Object.assign(acquisition, { mr_psf_fwhm_mm: mr.psf_fwhm_mm, mr_noise: mr.noise })
  } else {
    const ct = { psf_fwhm_mm: rng.uniform(0.7, 1.2), noise_hu: rng.uniform(8, 25), texture_hu: rng.uniform(4, 8) }
    channels.push(volumeOn(acquireCt(rng, canvas.ct, grid, ct), { modality: 'CT' }))
    Object.assign(acquisition, { ct_psf_fwhm_mm: ct.psf_fwhm_mm, ct_noise_hu: ct.noise_hu })
    if (opts.modality === 'petct') {
      const pet = { spacing_mm: rng.uniform(3.6, 4.2), psf_fwhm_mm: rng.uniform(5.5, 6.5) }
      petNative = acquirePet(rng, canvas.pet!, grid, pet)
      channels.push(volumeOn(resampleOntoCt(petNative, grid), { modality: 'PT', units: 'SUVbw' }))
      Object.assign(acquisition, { pet_spacing_mm: petNative.spacing, pet_shape: petNative.shape, pet_origin_mm: petNative.origin, pet_psf_fwhm_mm: pet.psf_fwhm_mm })
    }
  }
  const instances = volumeOn(masks.instances)
  const labels = volumeOn(labelMap(masks.instances, nodes))
  return {
    channels, petNative, labels, instances, anatomy: volumeOn(anatomy), acquisition,
    nodes: nodeRecords(instances, nodes, opts.site, opts.modality === 'petct' ? channels[1] : null),
  }
}

function drawSpacing(rng: Rng, modality: Modality): Vec3 {
  const inPlane = Math.round(rng.uniform(0.6, 1.0) * 1000) / 1000
  const slice = modality === 'mr' ? rng.pick([3, 4, 5]) : rng.pick(SLICE_THICKNESSES)
  return [inPlane, inPlane, slice]
}

function resampleOntoCt(pet: Volume, grid: Canvas['grid']): Float32Array {
  return resampleTo(pet, grid, { interpolation: 'linear', dtype: 'float32' }).data as Float32Array
}

/** 1 benign, 2 malignant, from the instance map. */
export function labelMap(instances: Uint16Array, nodes: PlacedNode[]): Uint8Array {
  const classOf = new Uint8Array(nodes.length + 1)
  for (const node of nodes) classOf[node.id] = node.cls === 'benign' ? 1 : 2
  const labels = new Uint8Array(instances.length)
  for (let v = 0; v < instances.length; v++) labels[v] = classOf[instances[v]]
  return labels
}

/** Each node's record, measured from the instance map as evaluation measures it. */
function nodeRecords(instances: Volume, nodes: PlacedNode[], site: SiteName, pet: Volume | null): Record<string, NodeRecord> {
  const measured = measureAllNodes(instances)
  const suvMax = pet ? maxPerInstance(instances.data, pet.data) : null
  const out: Record<string, NodeRecord> = {}
  for (const node of nodes) {
    const m = measured.get(node.id)
    if (!m) continue // wholly hidden by a touching neighbour: no voxels of its own
    const design = { centre_mm: node.centre, semi_axes_mm: node.radii, axes: node.axes }
    out[String(node.id)] = toRecord(node, m, site, design, suvMax ? suvMax[node.id] : undefined)
  }
  return out
}

/** A node's JSON record: its design and class, with sizes measured from the instance map. */
export function toRecord(node: PlacedNode, m: NodeMeasurement, site: string, design: NodeRecord['design'], suvMax?: number): NodeRecord {
  return {
    class: node.cls,
    site,
    station: node.station,
    // measured values are kept unrounded so they equal what evaluation code measures
    centre_mm: m.centre_mm,
    short_axis_mm: m.short_axis_mm,
    long_axis_mm: m.long_axis_mm,
    volume_ml: m.volume_ml,
    voxels: m.voxels,
    axial_slice: m.axial_slice,
    necrosis: node.necrosis > 0,
    fatty_hilum: node.fattyHilum,
    margin: node.lobes.length > 0 ? 'lobulated' : 'smooth',
    capsule_breach: node.capsuleBreach > 0,
    cluster: node.cluster,
    ...(suvMax !== undefined ? { suv_max: round3(suvMax) } : {}),
    design: { centre_mm: design.centre_mm.map(round3) as Vec3, semi_axes_mm: design.semi_axes_mm.map(round3) as Vec3, axes: design.axes.map((a) => a.map(round6)) as NodeRecord['design']['axes'] },
  }
}

function maxPerInstance(instances: ArrayLike<number>, values: ArrayLike<number>): number[] {
  const max: number[] = []
  for (let v = 0; v < instances.length; v++) {
    const id = instances[v]
    if (id !== 0 && !(values[v] <= max[id])) max[id] = values[v]
  }
  return max
}

const round3 = (x: number) => Math.round(x * 1000) / 1000
const round6 = (x: number) => Math.round(x * 1e6) / 1e6
