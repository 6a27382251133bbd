import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NodalError } from '../errors.js'
import { readVolume, writeVolume } from '../io/index.js'
import { sameGrid } from '../volume/volume.js'
import type { Command } from './command.js'
import { convertCommand } from './convert.js'
import { evaluateCommand } from './evaluate.js'
import { exportCommand } from './export.js'
import { infoCommand } from './info.js'
import { defineCommand } from './options.js'
import { phantomCommand } from './phantom.js'
import { predictCommand } from './predict.js'

/** The samples folder that ships with nodal (see samples/README.md for sources and licences). */
export const SAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'samples')

const MARKER = '.nodal-demo'

/** The default chest CT model shipped in models/ (trained by nodal on synthetic data; see its card.md). */
export const DEMO_MODEL = resolve(SAMPLES, '..', 'models', 'chest_ct_nodes')

export const demoCommand = defineCommand({
  name: 'demo',
  usage: 'nodal demo [--out DIR]',
  description: `Runs the main job on built-in data, command by command, as a user would:
  1. nodal info and convert on the shipped 3-slice CT DICOM series (checks the round trip is exact);
  2. nodal phantom: a synthetic chest CT with benign and malignant lymph nodes (nnU-Net layout; its seed
     was never used in training);
  3. nodal convert --to dicom: the phantom CT as a DICOM series;
  4. nodal predict: the shipped chest CT model (models/chest_ct_nodes, ONNX Runtime) finds the nodes in
     that DICOM series: labels, nodes.json/csv with measurements, RTSTRUCT, DICOM-SEG, report.html;
  5. nodal evaluate: the model's nodes against the ground truth (Dice, detection, FROC);
  6. nodal export + convert + evaluate: the ground truth itself as RTSTRUCT and DICOM-SEG, read back and
     compared with the original (the clinical outputs must carry it exactly).
The shipped model was trained on synthetic chest CTs only: not for clinical use.`,
  options: {
    out: { type: 'path', placeholder: 'DIR', default: 'nodal-demo', help: 'where to write everything (a previous demo there is replaced)' },
  },
  examples: ['nodal demo --out /tmp/nodal-demo'],
  async run({ values }) {
    const out = prepareOutput(resolve(values.out))
    await sampleRoundTrip(out)
    const data = join(out, 'phantom')
    await step('synthetic chest CT with lymph nodes', phantomCommand, ['--site', 'chest', '--cases', '1', '--seed', '7', '--out', data, '--preview'])
    const ct = join(data, 'imagesTr', 'chest_000_0000.nii.gz')
    const labels = join(data, 'labelsTr', 'chest_000.nii.gz')
    const dicom = join(out, 'dicom', 'ct')
    await step('the phantom CT as a DICOM series', convertCommand, [ct, dicom, '--to', 'dicom'])
    const pred = join(out, 'pred')
    await step('the shipped chest CT model finds the nodes in the DICOM series', predictCommand, [dicom, '--model', DEMO_MODEL, '--out', pred])
    await step('the model\'s nodes vs the ground truth', evaluateCommand, ['--pred', join(pred, 'ct'), '--gt', join(data, 'labelsTr', 'chest_000.nii.gz'), '--gt-instances', join(data, 'instancesTr'), '--out', join(out, 'eval', 'model'), '--images', join(data, 'imagesTr')])
    const names = join(data, 'dataset.json')
    await step('node labels as an RT Structure Set', exportCommand, [labels, '--reference', dicom, '--format', 'rtstruct', '--out', join(out, 'dicom', 'rtstruct.dcm'), '--names', names])
    await step('node labels as a DICOM-SEG', exportCommand, [labels, '--reference', dicom, '--format', 'seg', '--out', join(out, 'dicom', 'seg.dcm'), '--names', names])
    await step('RTSTRUCT read back', convertCommand, [join(out, 'dicom', 'rtstruct.dcm'), join(out, 'readback', 'rtstruct', 'chest_000.nii.gz'), '--reference', dicom])
    await step('DICOM-SEG read back', convertCommand, [join(out, 'dicom', 'seg.dcm'), join(out, 'readback', 'seg', 'chest_000.nii.gz'), '--reference', dicom])
    for (const kind of ['rtstruct', 'seg']) {
      await step(`${kind.toUpperCase()} read back vs ground truth`, evaluateCommand, ['--pred', join(out, 'readback', kind), '--gt', join(data, 'labelsTr'), '--labels', '1,2', '--out', join(out, 'eval', kind), '--images', join(data, 'imagesTr')])
    }
    console.log(`\ndemo finished; outputs in ${out} (open pred/ct/report.html, eval/model/report.html, phantom/preview/)`)
    return 0
  },
})

/** Creates the output folder, or empties it when it holds a previous demo; never touches other files. */
function prepareOutput(out: string): string {
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
