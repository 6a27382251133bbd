/**
 * RT Structure Set to label maps on a reference series: ROI n (in the order listed, or chosen by
 * name) becomes label n; where ROIs overlap the later one wins. Optionally each closed 3D component
 * of each ROI also becomes its own instance, with a JSON of instance -> ROI.
 */
import { NodalError } from '../../errors.js'
import { connectedComponents } from '../../volume/components.js'
import { Vec3, Volume } from '../../volume/volume.js'
import { writeVolume } from '../index.js'
import { checkLabelOutput, checkSameFrame, writeNamesJson } from '../seg/convert.js'
import { readRtstruct, rasterizeRoi, RoiContours, RoiMask } from './read.js'
import { readReferenceSeries } from './reference.js'

export interface RtstructToLabelsOptions {
  /** ROI names to keep (exact, case-sensitive); default: all ROIs with contours. */
  rois?: string[]
  /** Also write an instance map here (one value per 3D component), with `<stem>.json`. */
  instances?: string
}

export interface RtstructToLabelsResult {
  names: Record<string, string>
  instanceCount: number
  /** ROIs whose contours lay partly outside the reference grid. */
  clipped: string[]
}

export async function convertRtstructToLabels(file: string, referenceDir: string, out: string, opts: RtstructToLabelsOptions = {}): Promise<RtstructToLabelsResult> {
  checkLabelOutput(out)
  if (opts.instances) checkLabelOutput(opts.instances)
  const rt = readRtstruct(file)
  const ref = readReferenceSeries(referenceDir)
  checkSameFrame(file, rt.frameOfReferenceUid, referenceDir, ref.frameOfReferenceUid)
  const rois = chooseRois(file, rt.rois, opts.rois)
  const labels = Volume.zeros(ref.grid, 'uint16')
  const instances = opts.instances ? Volume.zeros(ref.grid, 'int32') : undefined
  const names: Record<string, string> = {}
  const instanceTable: Record<string, { label: number; name: string }> = {}
  const clipped: string[] = []
  rois.forEach((roi, index) => {
    const label = index + 1
    const roiMask = rasterizeRoi(roi, ref.grid, file)
    if (roiMask.outside > 0) clipped.push(roi.name)
    names[String(label)] = roi.name
    const [from, to] = slab(roiMask, ref.grid.shape)
    for (let n = from; n < to; n++) if (roiMask.mask[n]) labels.data[n] = label
    if (instances) addInstances(instances, roiMask, label, roi.name, instanceTable)
  })
  await writeVolume(labels, out)
  await writeNamesJson(out, names)
  if (instances && opts.instances) {
    await writeVolume(instances, opts.instances)
    await writeNamesJson(opts.instances, { instances: instanceTable })
  }
  return { names, instanceCount: Object.keys(instanceTable).length, clipped }
}

function chooseRois(file: string, rois: RoiContours[], wanted?: string[]): RoiContours[] {
  const withContours = rois.filter((r) => r.contours.length > 0)
  if (!wanted || wanted.length === 0) {
    if (withContours.length === 0) throw new NodalError('bad-input', `${file}: has no ROI with closed planar contours`)
    return withContours
  }
  return wanted.map((name) => {
    const roi = rois.find((r) => r.name === name)
    if (!roi) throw new NodalError('bad-input', `${file}: has no ROI named "${name}" (ROIs: ${rois.map((r) => r.name).join(', ')})`)
    return roi
  })
}

/** Voxel offsets [from, to) of the slices that hold the ROI's contours. */
function slab(roi: RoiMask, [nx, ny]: Vec3): [number, number] {
  return roi.kMax < roi.kMin ? [0, 0] : [roi.kMin * nx * ny, (roi.kMax + 1) * nx * ny]
}

function addInstances(instances: Volume, roi: RoiMask, label: number, name: string, table: Record<string, { label: number; name: string }>): void {
  const [from, to] = slab(roi, instances.shape)
  if (to === from) return
  const [nx, ny] = instances.shape
  const { labels, count } = connectedComponents(roi.mask.subarray(from, to), [nx, ny, (to - from) / (nx * ny)], 26)
  const first = Object.keys(table).length
  for (let c = 1; c <= count; c++) table[String(first + c)] = { label, name }
  for (let n = 0; n < labels.length; n++) if (labels[n] > 0) instances.data[from + n] = first + labels[n]
}
