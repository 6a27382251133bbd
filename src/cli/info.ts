import { readVolume } from '../io/index.js'
import { orientationCode, isOblique } from '../volume/orient.js'
import { intensityStats } from '../volume/stats.js'
import { Volume } from '../volume/volume.js'
import { defineCommand } from './options.js'

export const infoCommand = defineCommand({
  name: 'info',
  usage: 'nodal info <file|dicom-folder> [--json] [--series UID]',
  description: `Prints shape, spacing (mm), origin (LPS mm, centre of the first voxel), the LPS direction of each
voxel axis, data type, modality, orientation code, intensity min/max/percentiles, and for a DICOM
folder the series read and the other series found.`,
  positionals: { name: 'file or DICOM folder', min: 1, max: 1 },
  options: {
    json: {
      type: 'boolean',
      help: 'one JSON object (keys: shape spacing origin axes dtype modality orientation min max mean std percentiles, and series/other_series for DICOM)',
    },
    series: { type: 'string', placeholder: 'UID', help: 'DICOM: read this SeriesInstanceUID (default: the largest CT series)' },
  },
  examples: [
    'nodal info ../shared/data/ct/chest_ct_1p5mm.nii.gz',
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
  return lines.join('\n')
}
