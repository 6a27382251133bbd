import { readVolume } from '../io/index.js'
import { orientationCode, isOblique } from '../volume/orient.js'
import { intensityStats } from '../volume/stats.js'
import { Volume } from '../volume/volume.js'
import { defineCommand } from './options.js'

export const infoCommand = defineCommand({
  name: 'info',
  usage: 'nodal info <file|dicom-folder> [--json] [--series UID]',
  description: `Prints shape, spacing (mm), origin (LPS mm, centre of the first voxel), the LPS direction of each
voxel axis, data type, modality, orientation code, intensity min/max/percentiles, for a DICOM
folder the series read and the other series found, and for a label map (integers, at most 255
values) each label's voxel count and volume.`,
  positionals: { name: 'file or DICOM folder', min: 1, max: 1 },
  options: {
    json: {
      type: 'boolean',
      help: 'one JSON object (keys: shape spacing origin axes dtype modality orientation min max mean std percentiles, and series/other_series for DICOM)',
    },
    series: { type: 'string', placeholder: 'UID', help: 'DICOM: read this SeriesInstanceUID (default: the largest CT series)' },
  },
  examples: [
    'nodal info samples/ct/chest_ct_lidc0314_1p8mm.nii.gz',
    'nodal info ./patient01/CT --json',
  ],
  async run({ values, positionals: [path] }) {
    const vol = await readVolume(path, { seriesUid: values.series })
    const report = describeVolume(vol)
    console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(path, report))
    return 0
  },
})

export function describeVolume(vol: Volume) {
  const stats = intensityStats(vol.data)
  const meta = vol.meta
  const report: Record<string, unknown> = {
    shape: vol.shape,
    spacing: vol.spacing,
    origin: vol.origin,
    axes: vol.axes,
    dtype: vol.dtype,
    modality: meta.modality ?? 'unknown',
    orientation: orientationCode(vol.axes),
    oblique: isOblique(vol.axes),
    min: stats.min,
    max: stats.max,
    mean: stats.mean,
    std: stats.std,
    percentiles: stats.percentiles,
    format: meta.format,
  }
  const labels = labelTable(vol)
  if (labels) report.labels = labels
  if (meta.format === 'dicom') {
    report.series = {
      uid: meta.seriesInstanceUid, description: meta.seriesDescription, slices: vol.shape[2],
      slice_thickness_mm: meta.sliceThickness, frame_of_reference_uid: meta.frameOfReferenceUid,
    }
    report.other_series = meta.otherSeries
    if (meta.suv) report.suv = meta.suv
  }
  return report
}

/**
 * For a label map (integers >= 0, at most 255 distinct values), each non-zero label's voxel count and
 * volume, as label tools list them; null for an image.
 */
function labelTable(vol: Volume): { value: number; voxels: number; volume_ml: number }[] | null {
  const data = vol.data
  if (data instanceof Float32Array || data instanceof Float64Array) return null
  const counts = new Map<number, number>()
  for (let v = 0; v < data.length; v++) {
    const x = data[v]!
    if (x < 0) return null
    const c = counts.get(x)
    if (c === undefined && counts.size >= 256) return null
    counts.set(x, (c ?? 0) + 1)
  }
  return [...counts].filter(([value]) => value !== 0).sort((a, b) => a[0] - b[0])
    .map(([value, voxels]) => ({ value, voxels, volume_ml: Math.round(voxels * vol.voxelVolumeMm3) / 1000 }))
}

function fmt(v: number[]): string {
  return v.map((x) => Number(x.toFixed(4))).join(', ')
}

function formatReport(path: string, r: ReturnType<typeof describeVolume>): string {
  const axes = r.axes as number[][]
  const lines = [
    `${path}`,
    `  shape        ${(r.shape as number[]).join(' x ')}`,
    `  spacing mm   ${fmt(r.spacing as number[])}`,
    `  origin LPS   ${fmt(r.origin as number[])}`,
    `  axes (LPS)   i: [${fmt(axes[0])}]  j: [${fmt(axes[1])}]  k: [${fmt(axes[2])}]`,
    `  orientation  ${r.orientation}${r.oblique ? ' (oblique)' : ''}`,
    `  dtype        ${r.dtype}`,
    `  modality     ${r.modality}`,
    `  intensity    min ${r.min}  max ${r.max}  mean ${(r.mean as number).toFixed(2)}  std ${(r.std as number).toFixed(2)}`,
    `  percentiles  ${Object.entries(r.percentiles as Record<string, number>).map(([p, v]) => `${p}=${Number(v.toFixed(2))}`).join('  ')}`,
  ]
  if (r.series) {
    const s = r.series as Record<string, unknown>
    lines.push(`  series       ${s.uid} "${s.description}" (${s.slices} slices, thickness ${s.slice_thickness_mm} mm)`)
    for (const o of (r.other_series as { seriesInstanceUid: string; modality: string; slices: number; description: string }[]) ?? []) {
      lines.push(`  also found   ${o.seriesInstanceUid} ${o.modality} "${o.description}" (${o.slices} slices)`)
    }
  }
  if (r.suv) lines.push(`  PET          ${JSON.stringify(r.suv)}`)
  const labels = r.labels as { value: number; voxels: number; volume_ml: number }[] | undefined
  if (labels) {
    lines.push(`  labels       ${labels.length} non-zero value${labels.length === 1 ? '' : 's'} (a label map)`)
    for (const l of labels) lines.push(`    ${String(l.value).padStart(5)}  ${String(l.voxels).padStart(9)} voxels  ${l.volume_ml.toFixed(3)} ml`)
  }
  return lines.join('\n')
}
