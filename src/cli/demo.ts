import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { NodalError } from '../errors.js'
import { readVolume, writeVolume } from '../io/index.js'
import { sameGrid } from '../volume/volume.js'
import type { Command } from './command.js'
import { convertCommand } from './convert.js'
import { evaluateCommand } from './evaluate.js'
import { infoCommand } from './info.js'
import { defineCommand } from './options.js'
import { phantomCommand } from './phantom.js'
import { predictCommand } from './predict.js'
import { PACKAGE_ROOT, SHIPPED_MODEL } from './shipped.js'

/** The samples folder that ships with nodal (see samples/README.md for sources and licences). */
export const SAMPLES = join(PACKAGE_ROOT, 'samples')

const MARKER = '.nodal-demo'

/** A real chest CT no shipped model trained on (LIDC-IDRI-0314, see samples/README.md). */
export const DEMO_REAL_CT = join(SAMPLES, 'ct', 'chest_ct_lidc0314_1p8mm.nii.gz')

export const demoCommand = defineCommand({
  name: 'demo',
  usage: 'nodal demo [--out DIR]',
  description: `Runs the main job on built-in data, command by command, as a user would (about 2 minutes):
  1. nodal info and convert on the shipped 3-slice CT DICOM series (checks the round trip is exact);
  2. nodal phantom: a synthetic PET/CT of the chest with benign and malignant lymph nodes (its seed was
     never used in training), and nodal convert --to dicom: its CT as a DICOM series;
  3. nodal predict with the shipped multi-stage model (models/nodes_multi, ONNX Runtime): stage 1
     finds the nodes in the DICOM series, stage 2 classifies each with CT and PET: labels, nodes.json/csv,
     RTSTRUCT, DICOM-SEG, report.html with class-activation maps; nodal evaluate against the truth;
  4. the DICOM-SEG read back and compared with the predicted labels (it must carry them exactly);
  5. nodal phantom --insert-into: synthetic nodes placed in the mediastinum, hila and supraclavicular
     fossae of a real chest CT that no model trained on (samples/, LIDC-IDRI-0314), then nodal predict
     (CT only) and nodal evaluate there.
The shipped models learned from synthetic data only: not for clinical use.`,
  options: {
    out: { type: 'path', placeholder: 'DIR', default: 'demo-output', help: 'where to write everything (a previous demo there is replaced)' },
  },
  examples: ['nodal demo', 'nodal demo --out /tmp/nodal-demo'],
  async run({ values }) {
    const out = prepareOutput(resolve(values.out))
    await sampleRoundTrip(out)
    const data = join(out, 'phantom')
    await step('a synthetic chest PET/CT with lymph nodes', phantomCommand, ['--site', 'chest', '--modality', 'petct', '--cases', '1', '--seed', '9', '--spacing', '0.9,0.9,2', '--out', data, '--preview'])
    const dicom = join(out, 'dicom', 'ct')
    await step('its CT as a DICOM series', convertCommand, [join(data, 'imagesTr', 'chest_000_0000.nii.gz'), dicom, '--to', 'dicom'])
    const pred = join(out, 'pred')
    await step('the shipped model finds the nodes and classifies each with PET/CT', predictCommand, [dicom, '--pet', join(data, 'petTr', 'chest_000.nii.gz'), '--model', SHIPPED_MODEL, '--out', pred])
    await step('the model\'s nodes vs the ground truth', evaluateCommand, ['--pred', join(pred, 'ct'), '--gt', join(data, 'labelsTr', 'chest_000.nii.gz'), '--gt-instances', join(data, 'instancesTr'), '--labels', '1,2', '--out', join(out, 'eval', 'phantom'), '--images', join(data, 'imagesTr')])
    await step('the predicted DICOM-SEG read back', convertCommand, [join(pred, 'ct', 'seg.dcm'), join(out, 'readback', 'ct.nii.gz'), '--reference', dicom])
    await step('DICOM-SEG read back vs the predicted labels', evaluateCommand, ['--pred', join(out, 'readback', 'ct.nii.gz'), '--gt', join(pred, 'ct', 'labels.nii.gz'), '--out', join(out, 'eval', 'seg')])
    const real = join(out, 'real')
    await step('synthetic nodes inserted into a real chest CT no model trained on', phantomCommand, ['--insert-into', DEMO_REAL_CT, '--site', 'chest', '--cases', '1', '--seed', '5', '--out', real, '--preview'])
    const realCase = readdirSync(join(real, 'labelsTr'))[0]!.replace(/\.nii\.gz$/, '')
    await step('the shipped model on the real CT (CT only)', predictCommand, [join(real, 'imagesTr', `${realCase}_0000.nii.gz`), '--model', SHIPPED_MODEL, '--out', join(out, 'pred-real')])
    await step('the model\'s nodes vs the inserted nodes', evaluateCommand, ['--pred', join(out, 'pred-real', realCase), '--gt', join(real, 'labelsTr', `${realCase}.nii.gz`), '--gt-instances', join(real, 'instancesTr'), '--labels', '1,2', '--out', join(out, 'eval', 'real'), '--images', join(real, 'imagesTr')])
    console.log(`\ndemo finished; outputs in ${out} (open pred/ct/report.html, eval/phantom/report.html, pred-real/${realCase}/report.html, real/preview/)`)
    return 0
  },
})

/** Creates the output folder, or empties it when it holds a previous demo; never touches other files. */
export function prepareOutput(out: string): string {
  if (existsSync(out) && readdirSync(out).length > 0) {
    if (!existsSync(join(out, MARKER))) throw new NodalError('bad-output', `${out}: folder is not empty and holds no previous demo; choose another --out`)
    rmSync(out, { recursive: true, force: true })
  }
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, MARKER), 'made by nodal demo\n')
  return out
}

async function step(title: string, command: Command, argv: string[]): Promise<void> {
  console.log(`\n== ${title}: nodal ${command.name} ${argv.map(quoteIfNeeded).join(' ')}`)
  const code = await command.run(argv)
  if (code !== 0) throw new NodalError('demo-failed', `demo: nodal ${command.name} exited with ${code}`)
}

function quoteIfNeeded(arg: string): string {
  return /\s/.test(arg) ? JSON.stringify(arg) : arg
}

/** The shipped DICOM series through info and convert, checking the round trip is exact. */
async function sampleRoundTrip(out: string): Promise<void> {
  const series = join(SAMPLES, 'dicom', 'ct-3slice')
  await step('a real CT DICOM series', infoCommand, [series])
  const ct = await readVolume(series)
  for (const name of ['ct-3slice.nii.gz', 'ct-3slice.nrrd']) {
    const path = join(out, 'samples', name)
    await writeVolume(ct, path)
    const back = await readVolume(path)
    const exact = sameGrid(back, ct, 1e-5) && back.data.every((v, i) => v === ct.data[i])
    if (!exact) throw new NodalError('demo-failed', `${path}: voxels or geometry changed in the round trip`)
    console.log(`wrote ${path}: voxels and geometry identical after reading back`)
  }
}
