import { dirname, join, resolve } from 'node:path'
import { existsSync } from 'node:fs'
import { NodalError } from '../errors.js'
import { defaultPlanDir, PLANS_FILE, readPlans } from '../plan/index.js'
import { LOSS_NAMES, NETWORKS, TARGETS, trainModel } from '../train/index.js'
import { LOSS_HELP } from '../train/loss.js'
import { onInterrupt } from './interrupt.js'
import { defineCommand } from './options.js'
import { formatDuration, ProgressBar } from './progress.js'

export const trainCommand = defineCommand({
  name: 'train',
  usage: 'nodal train <dataset-dir> [--plans F] [--fold 0-4|all] [--model unet|resunet|attention-unet] [--target all-nodes|malignant|classes] [--loss NAME] [--minutes M | --iterations N] [--resume]',
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
(every label of dataset.json: benign and malignant). Losses: ${LOSS_NAMES.map((l) => `${l} (${LOSS_HELP[l]})`).join('; ')}.`,
  positionals: { name: 'dataset folder', min: 1, max: 1 },
  options: {
    plans: { type: 'path', placeholder: 'FILE', help: 'plans.json from nodal plan (default <dataset-dir>/nodal/plans.json)' },
    fold: { type: 'string', default: '0', placeholder: 'K', help: 'cross-validation fold (0-4 with the 5 folds nodal makes; up to 9 with your own splits_final.json), or "all" to train on every case' },
    model: { type: 'string', choices: Object.keys(NETWORKS) as (keyof typeof NETWORKS)[], default: 'unet', help: 'network' },
    target: { type: 'string', choices: TARGETS, default: 'all-nodes', help: 'what the network segments' },
    loss: { type: 'string', choices: LOSS_NAMES, default: 'dice-ce', help: 'training loss' },
    minutes: { type: 'number', min: 0.1, max: 100000, placeholder: 'M', help: "time budget; iterations are fixed from the measured speed (default: the plan's budget)" },
    iterations: { type: 'integer', min: 1, max: 100_000_000, placeholder: 'N', help: 'train exactly N iterations instead of a time budget' },
    resume: { type: 'boolean', help: 'continue from the fold\'s last checkpoint' },
    out: { type: 'path', placeholder: 'DIR', help: 'bundle folder' },
    seed: { type: 'integer', min: 0, max: 4294967295, default: 0, placeholder: 'S', help: 'seed for weights, patch sampling and augmentation' },
    threads: { type: 'integer', min: 1, max: 1024, placeholder: 'N', help: 'libtorch threads (default: the threads the plan was timed with)' },
    workers: { type: 'integer', min: 1, max: 64, default: 1, placeholder: 'N', help: 'augmentation worker threads' },
    noAugment: { type: 'boolean', help: 'train on plain patches (for tests and ablations)' },
    epoch: { type: 'integer', min: 1, max: 1_000_000, default: 50, placeholder: 'N', help: 'iterations per epoch (a log row and a checkpoint each)' },
    validateEvery: { type: 'number', min: 0, max: 100000, default: 15, placeholder: 'MIN', help: 'minutes between validations (0: every epoch); always at the end' },
  },
  examples: [
    'nodal plan data/Dataset011_chest --minutes 80',
    'nodal train data/Dataset011_chest --fold 0 --target all-nodes --minutes 80',
    'nodal train data/Dataset011_chest --fold 0 --resume',
    'nodal train data/Dataset011_chest --fold all --target malignant --loss tversky --iterations 5000',
  ],
  async run({ values, positionals: [dataset] }) {
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
        resume: values.resume, seed: values.seed, threads: values.threads ?? plans.budget.threads, workers: values.workers,
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
  },
})

function fmt(v: number | null | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : 'n/a'
}
