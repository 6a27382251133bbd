import { dirname, join, resolve } from 'node:path'
import { existsSync } from 'node:fs'
import { NodalError } from '../errors.js'
import { reuseStage2, trainStage2 } from '../classify/index.js'
import { defaultPlanDir, PLANS_FILE, readPlans } from '../plan/index.js'
import { defaultBundleDir, LOSS_NAMES, NETWORKS, TARGETS, trainModel } from '../train/index.js'
import { LOSS_HELP } from '../train/loss.js'
import { onInterrupt } from './interrupt.js'
import { defineCommand, type ValuesOf } from './options.js'
import { formatDuration, ProgressBar } from './progress.js'

const OPTIONS = {
  plans: { type: 'path', placeholder: 'FILE', help: 'plans.json from nodal plan (default <dataset-dir>/nodal/plans.json)' },
  fold: { type: 'string', default: '0', placeholder: 'K', help: 'cross-validation fold (0-4 with the 5 folds nodal makes; up to 9 with your own splits_final.json), or "all" to train on every case' },
  model: { type: 'string', choices: Object.keys(NETWORKS) as (keyof typeof NETWORKS)[], default: 'unet', help: 'network' },
  target: { type: 'string', choices: TARGETS, default: 'all-nodes', help: 'what the network segments' },
  loss: { type: 'string', choices: LOSS_NAMES, default: 'dice-ce', help: 'training loss' },
  minutes: { type: 'number', min: 0.1, max: 100000, placeholder: 'M', help: "time budget; iterations are fixed from the measured speed (default: the plan's budget)" },
  iterations: { type: 'integer', min: 1, max: 100_000_000, placeholder: 'N', help: 'train exactly N iterations instead of a time budget' },
  resume: { type: 'boolean', help: 'continue from the fold\'s last checkpoint' },
  initFrom: { type: 'path', placeholder: 'FILE', mustExist: true, help: 'start from these weights (fine-tuning), e.g. another bundle\'s fold_0.safetensors trained with the same plans' },
  out: { type: 'path', placeholder: 'DIR', help: 'bundle folder' },
  seed: { type: 'integer', min: 0, max: 4294967295, default: 0, placeholder: 'S', help: 'seed for weights, patch sampling and augmentation' },
  threads: { type: 'integer', min: 1, max: 1024, placeholder: 'N', help: 'libtorch threads (default: the threads the plan was timed with)' },
  workers: { type: 'integer', min: 1, max: 64, default: 1, placeholder: 'N', help: 'augmentation worker threads' },
  noAugment: { type: 'boolean', help: 'train on plain patches (for tests and ablations)' },
  epoch: { type: 'integer', min: 1, max: 1_000_000, default: 50, placeholder: 'N', help: 'iterations per epoch (a log row and a checkpoint each)' },
  validateEvery: { type: 'number', min: 0, max: 100000, default: 15, placeholder: 'MIN', help: 'minutes between validations (0: every epoch); always at the end' },
  pipeline: { type: 'string', choices: ['single', 'multi'] as const, default: 'single', help: 'single: one segmentation network; multi: node detector + node classifier' },
  detector: { type: 'path', placeholder: 'BUNDLE', help: 'multi: use this trained all-nodes bundle as stage 1 instead of training one' },
  stage2Data: { type: 'path', placeholder: 'DIR', multiple: true, help: 'multi: another labelled dataset (nnU-Net layout) for stage 2\'s samples' },
  stage2Epochs: { type: 'integer', min: 1, max: 10000, default: 40, placeholder: 'N', help: 'multi: epochs of the node classifier' },
  stage2Features: { type: 'list', of: 'integer', min: 2, placeholder: '16,32,64', help: 'multi: features per stage of the node classifier (default 8,16,32)' },
  classifiersFrom: { type: 'path', placeholder: 'BUNDLE', mustExist: true, help: "multi: take this multi-stage bundle's node classifiers as they are (no stage-2 training) with --detector" },
  samplesCache: { type: 'path', placeholder: 'DIR', help: "multi: keep stage 2's collected samples here and reuse them" },
} as const

type TrainValues = ValuesOf<typeof OPTIONS>

export const trainCommand = defineCommand({
  name: 'train',
  usage: [
    'nodal train <dataset-dir> [--plans F] [--fold 0-4|all] [--model unet|resunet|attention-unet] [--target all-nodes|malignant|classes] [--loss NAME] [--minutes M | --iterations N] [--resume]',
    'nodal train <dataset-dir> --pipeline multi [--detector BUNDLE] [--stage2-data DIR]... [--stage2-epochs N] [--out DIR]',
    'nodal train <dataset-dir> --pipeline multi --detector BUNDLE --classifiers-from BUNDLE --out DIR',
  ],
  description: `Trains a segmentation network from nodal plan's plans.json and preprocessed cache and writes a model
bundle (--out, default <plans folder>/models/<model>_<target>): model.json, fold_<k>.onnx (no
deep-supervision heads; prediction needs only ONNX Runtime), fold_<k>.safetensors, card.md, and
fold_<k>/ with training_log.csv, training_progress.png and the checkpoints.
5-fold splits are written once (splits_final.json beside plans.json) and reused. Patches: at least a
third centred on nodes (malignant nodes favoured for --target malignant/classes); augmentation
(rotation, scaling, elastic, mirroring, gamma, brightness, contrast, noise, blur, low resolution) in
worker threads beside the step. SGD with Nesterov momentum, poly learning rate, deep supervision;
voxels with the ignore label (255 or dataset.json's "ignore") count in no loss. Validation on whole
held-out cases with the sliding-window predictor of nodal predict (Dice, node sensitivity and false
positives per scan) every --validate-every minutes and at the end. Checkpoints (last, best by
validation Dice) are written atomically each epoch; --resume continues exactly (weights, optimizer,
schedule, sampler) after an interruption, even a kill. Ctrl-C stops after the current step with a
checkpoint.
Targets: all-nodes (node vs background), malignant (malignant nodes vs everything else), classes
(every label of dataset.json: benign and malignant; on a dataset made by nodal dataset borders, node and
the border between touching nodes, which nodal predict uses to keep matted nodes apart). Losses: ${LOSS_NAMES.map((l) => `${l} (${LOSS_HELP[l]})`).join('; ')}.

--pipeline multi trains the multi-stage pipeline: stage 1 an all-nodes detector as above (or the bundle
given with --detector), then stage 2, a node classifier (not a node / benign / malignant) on a 48 mm
patch around each candidate (CT, the candidate's mask, PET when the dataset has it) joined with its
measured features (short axis, short/long ratio, volume, mean and spread of HU, low-density centre
fraction, stage 1's score, SUVmax). Stage 2 learns from stage 1's candidates (its false positives are
the hard negatives) and the true nodes on cases stage 1 never trained on: the fold's validation cases,
and every case of each --stage2-data dataset. A CT classifier is always trained, a PET/CT one too when
there is PET. The multi-stage bundle (--out, default <plans folder>/models/<model>_multi) holds both
stages; nodal predict runs them together. --classifiers-from BUNDLE takes another multi-stage bundle's
classifiers as they are instead of training them (a new detector whose candidates they read well; the
bundle's card says so).
--init-from may hold weights for fewer classes (an all-nodes model fine-tuned for nodes and borders): the
output heads keep their classes' rows and the new classes start fresh.`,
  positionals: { name: 'dataset folder', min: 1, max: 1 },
  options: OPTIONS,
  examples: [
    'nodal plan data/Dataset011_chest --minutes 80',
    'nodal train data/Dataset011_chest --fold 0 --target all-nodes --minutes 80',
    'nodal train data/Dataset011_chest --fold 0 --resume',
    'nodal train data/Dataset011_chest --fold all --target malignant --loss tversky --iterations 5000',
    'nodal train data/Dataset021_chest_petct --pipeline multi --detector models/ct_nodes --stage2-data data/inserted_lidc0001',
    'nodal train data/Dataset032_mix_borders --fold all --target classes --init-from models/ct_nodes/fold_all.safetensors --iterations 1500',
  ],
  async run({ values, positionals: [dataset] }) {
    return values.pipeline === 'multi' ? trainMultiStage(dataset!, values) : trainSingleStage(dataset!, values)
  },
})

async function trainSingleStage(dataset: string, values: TrainValues): Promise<number> {
  if (values.minutes !== undefined && values.iterations !== undefined) throw new NodalError('usage', 'train: give --minutes or --iterations, not both (see nodal train --help)')
  const fold = values.fold === 'all' ? 'all' : Number(values.fold)
  if (fold !== 'all' && !(Number.isInteger(fold) && fold >= 0 && fold <= 9)) throw new NodalError('usage', `train: --fold must be 0-9 or all, got '${values.fold}' (see nodal train --help)`)
  const plansFile = resolve(values.plans ?? join(defaultPlanDir(dataset!), PLANS_FILE))
  if (!existsSync(plansFile)) throw new NodalError('not-found', `${plansFile}: no plans.json (run nodal plan ${dataset} first, or give --plans)`)
  const plans = readPlans(plansFile) // its budget gives the defaults of --minutes and --threads
  const interrupted = onInterrupt()
  const bar = new ProgressBar('train', 1)
  let validating: ProgressBar | null = null
  try {
    const result = await trainModel({
      planDir: dirname(plansFile), out: values.out, fold, model: values.model, target: values.target, loss: values.loss,
      iterations: values.iterations, minutes: values.iterations === undefined ? values.minutes ?? plans.budget.minutes : undefined,
      resume: values.resume, initWeights: values.initFrom, seed: values.seed, threads: values.threads ?? plans.budget.threads, workers: values.workers,
      augment: !values.noAugment, epochIterations: values.epoch, validateEveryMinutes: values.validateEvery,
      log: (line) => console.error(line), shouldStop: interrupted.requested,
      onValidation: (done, total) => {
        validating ??= new ProgressBar('  validate', total)
        validating.update(done)
        if (done === total) validating = null
      },
      onProgress: (p) => {
        bar.setTotal(p.total)
        const v = p.validation
        bar.update(p.iteration, `loss ${p.loss.toFixed(3)}${v ? ` | val Dice ${v.mean_dice.toFixed(3)} sens ${fmt(v.sensitivity)} FP/scan ${v.fp_per_scan.toFixed(1)}` : ''}`, p.startIteration)
      },
    })
    if (result.stopped) {
      console.error(`nodal: training stopped; the last checkpoint is in ${result.bundle}; continue with --resume`)
      return 130
    }
    for (const f of result.folds) {
      const v = f.validation
      console.log(`fold ${f.fold}: ${f.iterations} iterations in ${formatDuration(f.training_seconds)}${v ? `; validation (${f.validation_cases} cases): Dice ${fmt(v.mean_dice as number)}, node sensitivity ${fmt(v.sensitivity as number)}, FP/scan ${fmt(v.fp_per_scan as number)}, sensitivity >= 10 mm ${fmt(v.sensitivity_10mm as number)}` : ''}`)
    }
    console.log(`model bundle: ${result.bundle}`)
    return 0
  } finally {
    interrupted.dispose()
  }
}

function fmt(v: number | null | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : 'n/a'
}


/** --pipeline multi: stage 1 (trained here, or --detector), then stage 2 on cases stage 1 did not train on. */
async function trainMultiStage(dataset: string, values: TrainValues): Promise<number> {
  if (values.target !== 'all-nodes') throw new NodalError('usage', 'train: --pipeline multi trains an all-nodes detector as stage 1; leave out --target')
  if (values.classifiersFrom && !values.detector) throw new NodalError('usage', 'train: --classifiers-from goes with --detector (a trained stage 1)')
  let detector = values.detector ? resolve(values.detector) : null
  let out = values.out
  if (!detector) {
    const plansFile = resolve(values.plans ?? join(defaultPlanDir(dataset), PLANS_FILE))
    if (!existsSync(plansFile)) throw new NodalError('not-found', `${plansFile}: no plans.json (run nodal plan ${dataset} first, or give --plans, or a trained stage 1 with --detector)`)
    const code = await trainSingleStage(dataset, { ...values, out: undefined })
    if (code !== 0) return code
    detector = defaultBundleDir(dirname(plansFile), values.model, 'all-nodes')
    out ??= defaultBundleDir(dirname(plansFile), values.model, 'multi')
  }
  if (!out) throw new NodalError('usage', 'train: --pipeline multi with --detector needs --out (the multi-stage bundle folder)')
  if (values.classifiersFrom) {
    const reused = reuseStage2(detector, resolve(values.classifiersFrom), out)
    console.log(`model bundle: ${reused.bundle} (stage 1 ${detector}; classifiers ${reused.classifiers.map((c) => c.name).join(', ')} from ${values.classifiersFrom})`)
    return 0
  }
  let collecting: ProgressBar | null = null
  let epochs: ProgressBar | null = null
  const result = await trainStage2({
    detector, datasets: [dataset, ...values.stage2Data], out, epochs: values.stage2Epochs, seed: values.seed, threads: values.threads,
    features: values.stage2Features,
    cacheDir: values.samplesCache, log: (line) => console.error(line),
    onCase: (name, c, done, total) => {
      collecting ??= new ProgressBar(`stage 2 candidates ${name}`, total)
      collecting.update(done, c)
      if (done === total) collecting = null
    },
    onEpoch: (kind, e, n, train, val) => {
      epochs ??= new ProgressBar(`stage 2 ${kind}`, n)
      epochs.update(e, e === 0 ? '' : `loss ${train.toFixed(3)} | val ${val.toFixed(3)}`)
      if (e === n) epochs = null
    },
  })
  for (const c of result.classifiers) {
    const v = c.validation
    console.log(`classifier ${c.name}: validation (${v.cases} cases, ${v.samples} candidates): AUC malignant ${fmt(v.auc_malignant)}, AUC node ${fmt(v.auc_node)}, accuracy ${fmt(v.accuracy)}`)
  }
  console.log(`model bundle: ${result.bundle}`)
  return 0
}
