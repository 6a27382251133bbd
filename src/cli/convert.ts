import { readVolume, writeVolume } from '../io/index.js'
import { Command, parseCommandLine, usageError } from './command.js'

export const convertCommand: Command = {
  name: 'convert',
  summary: 'convert a scan between NIfTI, NRRD, MetaImage and DICOM, keeping voxels and geometry',
  help: `usage: nodal convert <in> <out> [--series UID]

Reads any supported input (a .nii/.nii.gz/.nrrd/.nhdr/.mha/.mhd file or a DICOM series folder) and
writes the output format named by <out>'s extension. Voxel values and world geometry are kept exactly
(NIfTI-1 stores its affine in float32: positions survive to about 1e-5 mm).

options:
  --series UID    DICOM input: read this SeriesInstanceUID (default: the largest CT series)

examples:
  nodal convert ../shared/data/dicom/ct-3slice ct.nii.gz
  nodal convert ct.nii.gz ct.nrrd`,
  async run(argv) {
    const { values, positionals } = parseCommandLine('convert', argv, { series: { type: 'string' } })
    if (positionals.length !== 2) throw usageError('convert', 'give an input and an output path')
    const [input, output] = positionals
    const vol = await readVolume(input, { seriesUid: values.series })
    await writeVolume(vol, output)
    console.log(`wrote ${output} (${vol.shape.join('x')}, ${vol.dtype})`)
    return 0
  },
}
