import { DEFAULT_BORDER_MM, DEFAULT_CORE_MM, writeBorderDataset, writeCoreDataset } from '../dataset/borders.js'
import { mergeDatasets } from '../dataset/index.js'
import { DEFAULT_PARTIAL_MARGIN_MM, importDicom, type ImportReport } from '../dataset/import/index.js'
import { importNiftiPairs } from '../dataset/import/nifti-pairs.js'
import { usageError } from './command.js'
import { onInterrupt } from './interrupt.js'
import { defineCommand } from './options.js'
import { ProgressBar } from './progress.js'

export const datasetCommand = defineCommand({
  name: 'dataset',
  usage: `nodal dataset import <dicom-folder> --out DIR --map RULES [--name NAME] [--partial [--partial-margin MM]]
       nodal dataset import --images DIR --labels DIR --out DIR [--channels CT,PET] [--label-names NAME=V,...]
       nodal dataset check <dataset-dir>
       nodal dataset merge <dataset-dir> <dataset-dir>... --out DIR [--name NAME]
       nodal dataset borders <dataset-dir> --out DIR [--border-mm MM] [--name NAME]
       nodal dataset cores <dataset-dir> --out DIR [--core-mm MM] [--name NAME]`,
  description: `Bring your own data: nnU-Net v2 raw datasets from clinical exports, checked before training.
  import  A folder tree of DICOM files (any nesting and file names, no DICOMDIR needed, zip files opened)
          is grouped by patient, study and series by UIDs. Each RT Structure Set or DICOM-SEG finds the
          image series it was drawn on by its Referenced Series / SOP Instance UIDs (then its Frame of
          Reference within its study), never by file name; one case per image series (a SEG is used
          before an RTSTRUCT on the same series, then the newest). Structures are mapped to labels by
          --map rules and rasterised on the image grid; where structures overlap the earlier rule wins.
          A PET series of the same study becomes channel _0001, resampled onto the CT by world
          coordinates (when every study has one). Writes imagesTr, labelsTr, dataset.json (patients kept
          for cross-validation) and import_report.json/.csv: per study the series used, the structures
          found, mapped and skipped, and why a study was skipped. Every structure name seen, matched or
          not, is listed, so the rules can be refined.
          --map: rules separated by ';', each 'pattern,pattern=label[:name]'; patterns are
          case-insensitive globs over the whole name (* and ?) or /regular expressions/; the first
          matching rule wins. Labels are named after the rule's first pattern (GTVn* -> GTVn) unless
          named (=2:malignant_node).
          --partial: the studies are only partly outlined (as LNQ2023: some nodes per scan). Voxels
          farther than --partial-margin mm (default ${DEFAULT_PARTIAL_MARGIN_MM}) from every outlined structure get the ignore
          label (255), so training does not learn unoutlined nodes as background; within the margin,
          where the reader looked, unoutlined voxels stay background.
          With --images and --labels instead: image/label file pairs (NIfTI, NRRD, MetaImage) matched
          by name (also after _0000 or _ct/_image / _seg/_label/_mask/_gt suffixes), each pair checked
          to share one world grid.
  check   Every case: images and label on one world grid, every channel present, label values declared,
          no empty or all-foreground labels, no components of a few voxels, no duplicated cases, no
          spacing or orientation outliers; then node counts and sizes (short axis) per class and site.
          Exit 0 when clean, 1 with a table of problems (--warnings-ok: 0 when all are warnings), 2
          when the folder is not a dataset.
  merge   One dataset made of several (e.g. phantoms of every site and real CTs with inserted nodes):
          --out gets a dataset.json whose "dataset" list points at the sources' files by relative
          paths (nothing is copied). Channels, labels and file ending must agree. All cases of one
          nodal phantom --insert-into dataset are one patient (they share the host scan), so a fold
          never trains and validates on the same real background.
  borders A dataset for a detector that keeps touching nodes apart: label 1 every node, label 2 the node
          voxels within --border-mm (default ${DEFAULT_BORDER_MM}) of another node, from the instance maps (instancesTr).
          Train it with --target classes; nodal predict then splits nodes along the predicted borders.
          Images and instance maps are referenced, labels written anew.
  cores   The same with label 2 the core of every node: its voxels at least --core-mm (default ${DEFAULT_CORE_MM}) from
          anything that is not that node, or half the node's greatest depth where that is less. Touching
          nodes have cores apart; nodal predict grows one node from each predicted core.`,
  positionals: { name: 'action and folders', min: 1, max: 1000 },
  options: {
    out: { type: 'path', placeholder: 'DIR', help: 'the new dataset folder (must not exist or be empty)' },
    map: { type: 'string', placeholder: 'RULES', help: "import: structure names to labels, e.g. 'GTVn*,*node*mal*=2; LN*,*node*=1'" },
    name: { type: 'string', placeholder: 'NAME', help: 'dataset name in dataset.json; import: also the case name prefix (default case)' },
    partial: { type: 'boolean', help: 'import: the studies are only partly outlined; far voxels get the ignore label' },
    partialMargin: { type: 'number', min: 0, max: 1000, placeholder: 'MM', help: `import --partial: how far from an outlined structure voxels stay background (default ${DEFAULT_PARTIAL_MARGIN_MM})` },
    images: { type: 'path', placeholder: 'DIR', help: 'import: folder of image files, paired with --labels by name' },
    labels: { type: 'path', placeholder: 'DIR', help: 'import: folder of label files' },
    channels: { type: 'string', placeholder: 'CT,PET', help: 'import --images: channel names, in channel order (default CT)' },
    labelNames: { type: 'string', placeholder: 'NAME=V,...', help: 'import --images: label names, e.g. benign_node=1,malignant_node=2 (default label_<v>, or node for 1 alone)' },
    borderMm: { type: 'number', min: 0.1, max: 20, placeholder: 'MM', help: `borders: how far into each node the border between touching nodes reaches (default ${DEFAULT_BORDER_MM})` },
    coreMm: { type: 'number', min: 0.1, max: 20, placeholder: 'MM', help: `cores: how deep inside each node its core starts (default ${DEFAULT_CORE_MM})` },
    warningsOk: { type: 'boolean', help: 'check: exit 0 when only warnings (empty labels, tiny components, outliers) are found' },
  },
  examples: [
    "nodal dataset import exports/ --out data/Dataset040_clinic --map 'GTVn*,*node*mal*=2; LN*,*node*=1'",
    'nodal dataset import --images lnq/images --labels lnq/labels --out data/Dataset041_lnq --label-names node=1',
    'nodal dataset check data/Dataset040_clinic',
    'nodal dataset merge data/Dataset011_chest data/ins_lidc0001 --out data/Dataset031_mix',
    'nodal dataset borders data/Dataset031_mix --out data/Dataset032_mix_borders',
    'nodal dataset cores data/Dataset031_mix --out data/Dataset033_mix_cores',
  ],
  async run({ values, positionals: [action, ...folders] }) {
    if (action === 'import') return runImport(values, folders)
    if (action === 'check') return runCheck(folders, values.warningsOk ?? false)
    if (action === 'merge') {
      if (!values.out) throw usageError('dataset', 'merge needs --out DIR')
      if (folders.length < 2) throw usageError('dataset', 'merge needs at least two dataset folders')
      const r = mergeDatasets(folders, values.out, values.name)
      for (const s of r.perSource) console.log(`  ${s.source}: ${s.cases} cases, ${s.patients} patient${s.patients === 1 ? '' : 's'}`)
      console.log(`wrote ${r.path}: ${r.cases} cases, ${r.patients} patients`)
      return 0
    }
    if (action === 'borders') {
      if (!values.out) throw usageError('dataset', 'borders needs --out DIR')
      if (folders.length !== 1) throw usageError('dataset', 'borders needs one dataset folder')
      const bar = new ProgressBar('cases  ', 1)
      const r = await writeBorderDataset(folders[0]!, values.out, { borderMm: values.borderMm, name: values.name, onCase: (done, total) => { bar.setTotal(total); bar.update(done) } })
      console.log(`wrote ${r.path}: ${r.cases} cases, ${r.casesWithBorders} with touching nodes (${r.borderVoxels} border voxels)`)
      return 0
    }
    if (action === 'cores') {
      if (!values.out) throw usageError('dataset', 'cores needs --out DIR')
      if (folders.length !== 1) throw usageError('dataset', 'cores needs one dataset folder')
      const bar = new ProgressBar('cases  ', 1)
      const r = await writeCoreDataset(folders[0]!, values.out, { coreMm: values.coreMm, name: values.name, onCase: (done, total) => { bar.setTotal(total); bar.update(done) } })
      console.log(`wrote ${r.path}: ${r.cases} cases, ${r.borderVoxels} core voxels`)
      return 0
    }
    throw usageError('dataset', `unknown action '${action}' (import, check, merge, borders or cores)`)
  },
})

type Values = { borderMm?: number; coreMm?: number; warningsOk?: boolean; out?: string; map?: string; name?: string; partial?: boolean; partialMargin?: number; images?: string; labels?: string; channels?: string; labelNames?: string }

async function runImport(values: Values, folders: string[]): Promise<number> {
  if (!values.out) throw usageError('dataset', 'import needs --out DIR')
  const bars = new Map<string, ProgressBar>()
  const onProgress = (stage: string, done: number, total: number) => {
    if (total === 0) return
    if (!bars.has(stage)) bars.set(stage, new ProgressBar(stage.padEnd(7), total))
    bars.get(stage)!.update(done)
  }
  if (values.images || values.labels) {
    if (!values.images || !values.labels) throw usageError('dataset', 'import from files needs both --images DIR and --labels DIR')
    if (folders.length > 0) throw usageError('dataset', 'give either a DICOM folder or --images/--labels, not both')
    const r = await importNiftiPairs({
      images: values.images, labels: values.labels, out: values.out, name: values.name, onProgress,
      channels: values.channels?.split(',').map((c) => c.trim()), labelNames: values.labelNames ? parseLabelNames(values.labelNames) : undefined,
    })
    for (const s of r.skipped) console.log(`  skipped ${s.file}: ${s.reason}`)
    console.log(`wrote ${r.out}: ${r.cases.length} cases (${r.skipped.length} files skipped; import_report.json)`)
    return 0
  }
  if (folders.length !== 1) throw usageError('dataset', 'import needs one DICOM folder (or --images and --labels)')
  if (!values.map) throw usageError('dataset', "import needs --map RULES, e.g. 'GTVn*=2; LN*=1'")
  if (values.partialMargin !== undefined && !values.partial) throw usageError('dataset', '--partial-margin goes with --partial')
  const interrupted = onInterrupt()
  try {
    const r = await importDicom({
      input: folders[0]!, out: values.out, map: values.map, name: values.name, onProgress, shouldStop: interrupted.requested,
      partial: values.partial ? { marginMm: values.partialMargin ?? DEFAULT_PARTIAL_MARGIN_MM } : null,
    })
    printImport(r)
    return 0
  } finally {
    interrupted.dispose()
  }
}

function printImport(r: ImportReport): void {
  console.log(`read ${r.files.dicom} DICOM files (${r.files.other} other, ${r.files.unreadable} unreadable${r.files.zips ? `, ${r.files.zips} zip files` : ''})`)
  console.log('structure names seen (label, studies):')
  for (const n of r.roi_names) console.log(`  ${n.name.padEnd(24)} ${n.label === null ? 'unmatched' : `-> ${n.label}`}  ${n.studies}`)
  for (const s of r.skipped) console.log(`  skipped ${s.file}: ${s.reason}`)
  for (const note of r.notes) console.log(`  note: ${note}`)
  console.log(`wrote ${r.out}: ${r.cases.length} cases, channels ${r.channels.join(', ')} (import_report.json, import_report.csv)`)
}

function parseLabelNames(text: string): Record<string, number> {
  const names: Record<string, number> = { background: 0 }
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p)) {
    const m = /^([A-Za-z][A-Za-z0-9_]*)=(\d+)$/.exec(part)
    if (!m) throw usageError('dataset', `--label-names: '${part}' is not NAME=VALUE`)
    names[m[1]!] = Number(m[2])
  }
  return names
}

async function runCheck(folders: string[], warningsOk: boolean): Promise<number> {
  if (folders.length !== 1) throw usageError('dataset', 'check needs one dataset folder')
  const { checkDatasetFolder, formatProblems, formatSummary } = await import('../dataset/check-dataset.js')
  const bar = new ProgressBar('check  ', 1)
  const r = await checkDatasetFolder(folders[0]!, { onProgress: (done, total) => { bar.setTotal(total); bar.update(done) } })
  console.log(formatSummary(r.summary))
  if (r.problems.length === 0) {
    console.log('no problems found')
    return 0
  }
  console.log(formatProblems(r.problems))
  const errors = r.problems.filter((p) => p.severity === 'error').length
  console.log(`${errors} error(s), ${r.problems.length - errors} warning(s)`)
  return errors > 0 || !warningsOk ? 1 : 0
}
