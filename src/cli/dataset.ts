import { mergeDatasets } from '../dataset/index.js'
import { usageError } from './command.js'
import { defineCommand } from './options.js'

export const datasetCommand = defineCommand({
  name: 'dataset',
  usage: 'nodal dataset merge <dataset-dir> <dataset-dir>... --out DIR [--name NAME]',
  description: `Work on nnU-Net v2 raw datasets.
  merge   one dataset made of several (e.g. phantoms of every site and real CTs with inserted nodes), to
          plan and train as one: --out gets a dataset.json whose "dataset" list points at the sources'
          files by relative paths (nothing is copied; keep the sources where they are). Channels,
          labels and file ending must agree. Cases keep their patient for cross-validation; all cases
          of one nodal phantom --insert-into dataset are one patient (they share the host scan), so a
          fold never trains and validates on the same real background.`,
  positionals: { name: 'action and dataset folders', min: 1, max: 1000 },
  options: {
    out: { type: 'path', placeholder: 'DIR', help: 'the merged dataset folder (must not exist or be empty)' },
    name: { type: 'string', placeholder: 'NAME', help: 'dataset name in dataset.json (default nodal_merged)' },
  },
  examples: [
    'nodal phantom --site neck --cases 6 --seed 41 --out data/neck',
    'nodal phantom --insert-into ../shared/data/ct/chest_ct_lidc0001.nii.gz --site chest --cases 4 --seed 51 --out data/ins_lidc0001',
    'nodal dataset merge data/neck data/ins_lidc0001 --out data/Dataset031_mix',
  ],
  async run({ values, positionals: [action, ...sources] }) {
    if (action !== 'merge') throw usageError('dataset', `unknown action '${action}' (merge)`)
    if (!values.out) throw usageError('dataset', 'merge needs --out DIR')
    if (sources.length < 2) throw usageError('dataset', 'merge needs at least two dataset folders')
    const r = mergeDatasets(sources, values.out, values.name)
    for (const s of r.perSource) console.log(`  ${s.source}: ${s.cases} cases, ${s.patients} patient${s.patients === 1 ? '' : 's'}`)
    console.log(`wrote ${r.path}: ${r.cases} cases, ${r.patients} patients`)
    return 0
  },
})
