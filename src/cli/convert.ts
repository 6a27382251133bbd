import { statSync } from 'node:fs'
import { readVolume, writeVolume } from '../io/index.js'
import { writeDicomSeries } from '../io/dicom/write-series.js'
import { convertRtstructToLabels } from '../io/rtstruct/convert.js'
import { convertSegToLabels, structureFileKind } from '../io/seg/convert.js'
import { usageError } from './command.js'
import { defineCommand } from './options.js'

export const convertCommand = defineCommand({
  name: 'convert',
  usage: [
    'nodal convert <in> <out> [--series UID] [--to dicom [--like DIR]]',
    'nodal convert <rtstruct.dcm> <labels> --reference DIR [--roi NAME ...] [--instances FILE]',
    'nodal convert <seg.dcm> <labels> [--reference DIR]',
  ],
  description: `Reads any supported input (a .nii/.nii.gz/.nrrd/.nhdr/.mha/.mhd file or a DICOM series folder) and
writes the output format named by <out>'s extension. Voxel values and world geometry are kept exactly
(NIfTI-1 stores its affine in float32: positions survive to about 1e-5 mm).

With --to dicom, <out> is a folder that receives a CT series (one file per slice, int16 with rescale).

An RT Structure Set is rasterised onto the reference series: ROI n becomes label n (later ROIs win
where ROIs overlap), contours are filled with the even-odd rule (nested contours are holes), and the
label names go to <labels stem>.json. Its Frame of Reference must be the reference series'.
A DICOM-SEG becomes a label map with segment numbers as values; overlapping segments are split into
<stem>-1, <stem>-2, ... maps of segments that do not overlap. Without --reference the map lies on the
SEG's own grid, which spans only the slices that hold segmented frames (not the whole scan); give
--reference with the image series to get the map on the scan's grid.
With --to dicom, <out> must be a new or empty folder (slices of two series in one folder are mixed up
by readers), and only CT is written: a PET or MR volume is refused rather than labelled CT.`,
  positionals: { name: 'paths (an input and an output)', min: 2, max: 2 },
  options: {
    series: { type: 'string', placeholder: 'UID', help: 'DICOM input: read this SeriesInstanceUID (default: the largest CT series)' },
    to: { type: 'string', choices: ['dicom'], help: 'write <out> as a DICOM CT series folder' },
    like: {
      type: 'path', placeholder: 'DIR',
      help: "with --to dicom: join the patient, study and Frame of Reference of the series in DIR (only right when <in> is in that scan's patient coordinates)",
    },
    reference: { type: 'path', placeholder: 'DIR', help: 'RTSTRUCT (required) or SEG input: the series whose grid the labels are written on' },
    roi: { type: 'string', placeholder: 'NAME', multiple: true, help: 'RTSTRUCT input: keep only this ROI (default: all)' },
    instances: {
      type: 'path', placeholder: 'FILE',
      help: "RTSTRUCT input: also write each closed 3D component of each ROI as its own instance to FILE, with <FILE stem>.json naming each instance's ROI",
    },
  },
  examples: [
    'nodal convert samples/dicom/ct-3slice ct.nii.gz',
    'nodal convert ct.nii.gz ct.nrrd',
    'nodal convert ct.nii.gz ct-dicom/ --to dicom --like original-ct/',
    'nodal convert rtstruct.dcm labels.nii.gz --reference ct/ --roi GTVn --instances nodes.nii.gz',
    'nodal convert seg.dcm segments.nii.gz',
  ],
  async run({ values, positionals: [input, output] }) {
    if (values.like !== undefined && values.to !== 'dicom') throw usageError('convert', '--like needs --to dicom')
    const kind = structureFileKind(input)
    if (kind === 'rtstruct') {
      if (!values.reference) throw usageError('convert', 'an RT Structure Set needs --reference <dicom-folder> to rasterise onto')
      const r = await convertRtstructToLabels(input, values.reference, output, { rois: values.roi.length ? values.roi : undefined, instances: values.instances })
      const roiCount = Object.keys(r.names).length
      console.log(`wrote ${output} (${roiCount} ROI${roiCount === 1 ? '' : 's'}: ${Object.values(r.names).join(', ')})` +
        (values.instances ? `; ${values.instances} (${r.instanceCount} instances)` : ''))
      if (r.clipped.length) console.error(`nodal: warning: contours outside the reference grid were left out (ROIs: ${r.clipped.join(', ')})`)
      return 0
    }
    if (values.roi.length || values.instances !== undefined) throw usageError('convert', '--roi and --instances apply to an RT Structure Set input')
    if (kind === 'seg') {
      const r = await convertSegToLabels(input, output, { reference: values.reference })
      console.log(`wrote ${r.files.join(', ')} (segments: ${Object.values(r.names).join(', ')})`)
      return 0
    }
    if (values.reference !== undefined) throw usageError('convert', '--reference applies to an RT Structure Set or DICOM-SEG input')
    if (values.series !== undefined && !statSync(input).isDirectory()) console.error(`nodal: warning: --series applies to a DICOM folder; ${input} is a file, so it was ignored`)
    const vol = await readVolume(input, { seriesUid: values.series })
    if (values.to === 'dicom') {
      const files = await writeDicomSeries(vol, output, { like: values.like })
      console.log(`wrote ${output} (${files.length} CT slices, ${vol.shape[0]}x${vol.shape[1]})`)
      return 0
    }
    await writeVolume(vol, output)
    console.log(`wrote ${output} (${vol.shape.join('x')}, ${vol.dtype})`)
    return 0
  },
})
