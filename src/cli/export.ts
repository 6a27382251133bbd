import { exportStructures } from '../io/rtstruct/export.js'
import { usageError } from './command.js'
import { defineCommand } from './options.js'

export const exportCommand = defineCommand({
  name: 'export',
  usage: `nodal export <labels> --reference <dicom-folder> --format rtstruct|seg --out <file.dcm>
             [--names <labels.json>] [--per-node | --instances <nodes.json>]`,
  description: `Writes the labels of <labels> (.nii/.nii.gz/.nrrd/.mha/... or a DICOM folder) as structures of the
reference series: patient, study and Frame of Reference are copied from it, and every structure is
placed by world coordinates (a label map on another grid is resampled, nearest neighbour).

  rtstruct   one ROI per label: closed planar contours per slice at sub-voxel precision (marching
             squares at the 0.5 level); holes and islands are nested contours, read with the even-odd
             rule as planning systems do; RT ROI Interpreted Type GTV/CTV/PTV by name prefix, else ORGAN
  seg        one binary segment per label with SNOMED CT codes (LN.. = lymph node, GTV.. = neoplasm of
             lymph node), empty frames omitted; written by dcmqi`,
  positionals: { name: 'label map', min: 1, max: 1 },
  options: {
    reference: { type: 'path', placeholder: 'DIR', required: true, help: 'DICOM folder with the series the labels belong to (largest CT, else MR, else PET)' },
    format: { type: 'string', choices: ['rtstruct', 'seg'], required: true, help: 'RT Structure Set or DICOM-SEG' },
    out: { type: 'path', placeholder: 'FILE', required: true, help: 'output .dcm file' },
    names: {
      type: 'path', placeholder: 'FILE',
      help: 'label names: {"1": "LN", "2": "GTVn"}, an nnU-Net dataset.json (its node labels get TG-263 names: malignant -> GTVn, other nodes -> LN), or "totalsegmentator" (its 117 v2 structure names); default label_N',
    },
    perNode: { type: 'boolean', help: 'one structure per connected node (26-connected) of each label: GTVn_01, GTVn_02, ...' },
    allowClip: { type: 'boolean', help: 'when part of the labels lies outside the reference series, export the part inside (with a warning) instead of refusing' },
    instances: {
      type: 'path', placeholder: 'FILE',
      help: '<labels> is an instance map; FILE gives each instance\'s class: {"instances": {"1": 2, "2": "LN"}} (a label, named through --names, or a name)',
    },
  },
  examples: [
    'nodal export labels.nii.gz --reference ct/ --format rtstruct --out rtstruct.dcm --names labels.json',
    'nodal export labels.nii.gz --reference ct/ --format seg --out seg.dcm --per-node',
  ],
  async run({ values, positionals: [labels] }) {
    if (values.instances !== undefined && values.perNode) throw usageError('export', '--per-node and --instances exclude each other (instances are already nodes)')
    const set = await exportStructures(labels, values.reference, values.out, {
      format: values.format,
      names: values.names,
      instances: values.instances,
      perNode: values.perNode,
      allowClip: values.allowClip,
      warn: (m) => console.error(`nodal: warning: ${m}`),
    })
    const what = values.format === 'rtstruct' ? 'ROI' : 'segment'
    console.log(`wrote ${values.out} (${set.structures.length} ${what}${set.structures.length === 1 ? '' : 's'}: ${set.structures.map((s) => s.name).join(', ')})`)
    return 0
  },
})
