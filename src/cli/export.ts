import { ExportFormat, exportStructures } from '../io/rtstruct/export.js'
import { Command, parseCommandLine, usageError } from './command.js'

export const exportCommand: Command = {
  name: 'export',
  summary: 'write a label map as a DICOM RT Structure Set or DICOM-SEG on a reference CT/MR/PET series',
  help: `usage: nodal export <labels> --reference <dicom-folder> --format rtstruct|seg --out <file.dcm>
                    [--names <labels.json>] [--per-node | --instances <nodes.json>]

Writes the labels of <labels> (.nii/.nii.gz/.nrrd/.mha/... or a DICOM folder) as structures of the
reference series: patient, study and Frame of Reference are copied from it, and every structure is
placed by world coordinates (a label map on another grid is resampled, nearest neighbour).

  rtstruct   one ROI per label: closed planar contours per slice at sub-voxel precision (marching
             squares at the 0.5 level); holes and islands are nested contours, read with the even-odd
             rule as planning systems do; RT ROI Interpreted Type GTV/CTV/PTV by name prefix, else ORGAN
  seg        one binary segment per label with SNOMED CT codes (LN.. = lymph node, GTV.. = neoplasm of
             lymph node), empty frames omitted; written by dcmqi

options:
  --reference DIR     DICOM folder with the series the labels belong to (largest CT, else MR, else PET)
  --format F          rtstruct or seg
  --out FILE          output .dcm file
  --names FILE        label names: {"1": "LN", "2": "GTVn"} or an nnU-Net dataset.json (its node labels
                      get TG-263 names: malignant -> GTVn, other nodes -> LN); default label_N
  --per-node          one structure per connected node (26-connected) of each label: GTVn_01, GTVn_02, ...
  --instances FILE    <labels> is an instance map; FILE gives each instance's class:
                      {"instances": {"1": 2, "2": "LN"}} (a label, named through --names, or a name)

examples:
  nodal export labels.nii.gz --reference ct/ --format rtstruct --out rtstruct.dcm --names labels.json
  nodal export labels.nii.gz --reference ct/ --format seg --out seg.dcm --per-node`,
  async run(argv) {
    const { values, positionals } = parseCommandLine('export', argv, {
      reference: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      names: { type: 'string' },
      instances: { type: 'string' },
      'per-node': { type: 'boolean' },
    })
    if (positionals.length !== 1) throw usageError('export', 'give one label map')
    if (!values.reference) throw usageError('export', '--reference is required')
    if (!values.out) throw usageError('export', '--out is required')
    if (values.format !== 'rtstruct' && values.format !== 'seg') throw usageError('export', '--format must be rtstruct or seg')
    if (values.instances && values['per-node']) throw usageError('export', '--per-node and --instances exclude each other (instances are already nodes)')
    const set = await exportStructures(positionals[0], values.reference, values.out, {
      format: values.format as ExportFormat,
      names: values.names,
      instances: values.instances,
      perNode: values['per-node'],
    })
    const what = values.format === 'rtstruct' ? 'ROI' : 'segment'
    console.log(`wrote ${values.out} (${set.structures.length} ${what}${set.structures.length === 1 ? '' : 's'}: ${set.structures.map((s) => s.name).join(', ')})`)
    return 0
  },
}
