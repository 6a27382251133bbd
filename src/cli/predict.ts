import { availableParallelism } from 'node:os'
import { NodalError } from '../errors.js'
import type { PredictedNode } from '../infer/nodes.js'
import { listInputCases } from '../infer/inputs.js'
import { writeCaseOutputs, OUTPUT_FORMATS, type OutputFormat, type CaseWriter } from '../infer/outputs.js'
import { loadModel } from '../infer/predict.js'
import { readVolume } from '../io/index.js'
import type { Volume } from '../volume/volume.js'
import { onInterrupt } from './interrupt.js'
import { defineCommand } from './options.js'
import { ProgressBar } from './progress.js'

export const predictCommand = defineCommand({
  name: 'predict',
  usage: 'nodal predict <input> --model <bundle-dir> --out <dir> [--tta] [--folds 0,1,...] [--format nifti,json,csv,html,rtstruct,seg] [--threads N] [--pet <file|dir>]',
  description: `Finds and outlines the nodes in a scan with a model bundle from nodal train: the scan is preprocessed as
the bundle's plans say, the network runs in ONNX Runtime over overlapping tiles (Gaussian weighting,
tiles that are all air skipped), folds are averaged (and mirrored passes with --tta), probabilities go
back onto the scan's own grid by world coordinates, and the nodes are the 26-connected components
(smaller than --min-volume removed), each measured: class, score (mean and max probability), volume,
RECIST short and long axis, centre (LPS mm), box, mean HU, SUVmax with PET, uncertainty (mean
predictive entropy; with --tta also the disagreement between passes).
A multi-stage bundle (nodal train --pipeline multi) then classifies every candidate with its node
classifier (the PET/CT one when PET is given, else the CT one): candidates unlikely to be nodes are
dropped, the others become benign (label 1) or malignant (label 2) with P(node) and P(malignant | node),
and cam.nii.gz holds the class-activation map of each decision (also shown in report.html).
<input> is a NIfTI/NRRD/MHA file, a DICOM series folder, or a folder of cases (files, nnU-Net
<case>_0000/_0001 channel files, or DICOM series subfolders). Outputs go to <out>/<case>/:
labels.nii.gz, instances.nii.gz, nodes.json, nodes.csv, report.html, and for DICOM input
rtstruct.dcm and seg.dcm. nodal evaluate --pred <out> reads this folder directly.
With a folder of cases, a case that fails is reported and skipped, and the exit code is then 1.`,
  positionals: { name: 'scan, DICOM folder or folder of cases', min: 1, max: 1 },
  options: {
    model: { type: 'path', placeholder: 'DIR', required: true, mustExist: true, help: 'model bundle folder (model.json, fold_<k>.onnx)' },
    out: { type: 'path', placeholder: 'DIR', required: true, help: 'output folder' },
    tta: { type: 'boolean', help: 'test-time augmentation: average over the 8 mirrorings (about 8x slower)' },
    folds: { type: 'list', of: 'string', placeholder: 'K,...', help: 'folds to ensemble (default: every fold in the bundle)' },
    format: { type: 'list', of: 'string', placeholder: 'F,...', default: ['nifti', 'json', 'csv', 'html', 'rtstruct', 'seg'], help: `outputs: ${OUTPUT_FORMATS.join(', ')} (rtstruct and seg only for DICOM input)` },
    threads: { type: 'integer', min: 1, max: 1024, placeholder: 'N', help: `ONNX Runtime threads (default ${availableParallelism()})` },
    pet: { type: 'path', placeholder: 'FILE|DIR', mustExist: true, help: 'PET (SUV, or a DICOM PET series) for a PET/CT model; resampled onto the CT by world coordinates' },
    perNode: { type: 'boolean', help: 'RTSTRUCT/SEG: one structure per node instead of one per class' },
    saveProbabilities: { type: 'boolean', help: 'also write probabilities_<class>.nii.gz' },
    saveUncertainty: { type: 'boolean', help: 'also write uncertainty.nii.gz (predictive entropy, bits)' },
    minVolume: { type: 'number', min: 0, max: 1e6, default: 20, placeholder: 'MM3', help: 'drop components smaller than this (mm³)' },
  },
  examples: [
    'nodal predict ct.nii.gz --model models/chest_ct --out pred/',
    'nodal predict patient01/CT --model models/nodes_multi --pet patient01/PET --out pred/ --tta',
    'nodal predict data/Dataset011_chest/imagesTs --model data/Dataset011_chest/nodal/models/unet_all-nodes --out pred/ --format nifti,json',
    'nodal evaluate --pred pred/ --gt data/Dataset011_chest/labelsTr --out pred-eval/',
  ],
  async run({ values, positionals: [input] }) {
    const formats = new Set(values.format as OutputFormat[])
    for (const f of formats) if (!OUTPUT_FORMATS.includes(f)) throw new NodalError('usage', `predict: unknown --format ${f} (known: ${OUTPUT_FORMATS.join(', ')}) (see nodal predict --help)`)
    const folds = values.folds?.map((k) => (k === 'all' ? 'all' : Number(k)))
    if (folds?.some((k) => k !== 'all' && !Number.isInteger(k))) throw new NodalError('usage', `predict: --folds takes fold numbers or 'all', got '${values.folds!.join(',')}'`)
    const cases = listInputCases(input!)
    if (values.pet && cases.length !== 1) throw new NodalError('usage', 'predict: --pet goes with a single scan; for a folder of cases give <case>_0001 PET files')
    const model = await loadModel(values.model, { threads: values.threads, folds })
    const writers = await extraWriters(formats, values.perNode)
    const interrupted = onInterrupt()
    const bar = cases.length > 1 ? new ProgressBar('cases', cases.length) : null
    let failed = 0
    try {
      for (const [i, c] of cases.entries()) {
        if (interrupted.requested()) {
          console.error(`nodal: interrupted; ${cases.length - i} case(s) not predicted: ${cases.slice(i).map((x) => x.name).join(', ')}`)
          return 130
        }
        try {
          const start = performance.now()
          const channels: Volume[] = []
          for (const path of c.channels) channels.push(await readVolume(path))
          if (values.pet) channels.push(await readVolume(values.pet))
          const networkBar = cases.length === 1 ? new ProgressBar('network', 1) : null
          const result = await model.predict(channels, {
            tta: values.tta, saveProbabilities: values.saveProbabilities, saveUncertainty: values.saveUncertainty, minVolumeMm3: values.minVolume,
            saveCam: formats.has('nifti') || formats.has('html'),
            onProgress: (_stage, done, total) => { networkBar?.setTotal(total); networkBar?.update(done) },
          })
          const seconds = (performance.now() - start) / 1000
          const dir = await writeCaseOutputs(values.out, { caseName: c.name, input: c.channels[0]!, dicomDir: c.dicomDir, model: model.json, modelDir: values.model, result, formats, seconds, image: channels[0] }, writers)
          for (const w of result.warnings) console.error(`nodal: warning: ${c.name}: ${w}`)
          if (!bar) console.log(formatNodes(c.name, dir, result.nodes, seconds))
        } catch (e) {
          failed++
          // one scan: its error is the command's (exit 2); a folder of cases goes on with the others
          if (!(e instanceof NodalError) || cases.length === 1) throw e
          console.error(`nodal: ${c.name}: ${e.message} (skipped)`)
        }
        bar?.update(i + 1)
      }
    } finally {
      interrupted.dispose()
      await model.release()
    }
    if (cases.length > 1) console.log(`predicted ${cases.length - failed} of ${cases.length} cases into ${values.out}`)
    return failed ? 1 : 0
  },
})

/** report.html and the DICOM exports, loaded only when asked for. */
async function extraWriters(formats: Set<OutputFormat>, perNode: boolean): Promise<CaseWriter[]> {
  const writers: CaseWriter[] = []
  if (formats.has('html')) writers.push((await import('../report/prediction-report.js')).writePredictionReport)
  if (formats.has('rtstruct') || formats.has('seg')) writers.push((await import('../infer/dicom-outputs.js')).dicomOutputWriter(perNode))
  return writers
}

function formatNodes(name: string, dir: string, nodes: PredictedNode[], seconds: number): string {
  const rows = nodes.map((n) => `  ${String(n.id).padStart(3)}  ${n.class.padEnd(15)} score ${n.score_max.toFixed(2)}${n.stage2 ? `  P(malignant) ${n.probability_malignant!.toFixed(2)}` : ''}  short axis ${n.short_axis_mm.toFixed(1).padStart(5)} mm  ${n.volume_ml.toFixed(2).padStart(7)} ml`)
  return [`${name}: ${nodes.length} node(s) in ${seconds.toFixed(1)} s -> ${dir}`, ...rows].join('\n')
}
