import { availableParallelism } from 'node:os'
import { planDataset } from '../plan/index.js'
import { defineCommand } from './options.js'
import { ProgressBar } from './progress.js'
import { onInterrupt } from './interrupt.js'

export const planCommand = defineCommand({
  name: 'plan',
  usage: 'nodal plan <dataset-dir> [--minutes M] [--threads N] [--out DIR] [--plans-from FILE]',
  description: `Self-configuration, as nnU-Net does it, fitted to a time budget on this machine. Reads an nnU-Net v2
raw dataset (imagesTr/<case>_0000.nii.gz per channel, labelsTr, dataset.json; any format nodal reads),
checks every case (channels and labels on one world grid, only declared labels), and writes into
--out (default <dataset-dir>/nodal):
  plans.json       fingerprint (spacings, shapes, foreground intensities, node sizes), target spacing,
                   per-channel normalisation (CT: foreground 0.5-99.5 percentile clip + z-score; MR:
                   z-score per image; PET: SUV clipped and scaled), patch, batch, network (stages,
                   per-axis strides and kernels, widths), and the measured step time and expected
                   iterations; every per-axis list is in [z, y, x] order. A user may edit it.
  preprocessed/    each case resampled (images linear, labels nearest, by world coordinates) and
                   normalised, as raw float32/uint8 files that training reads by slabs.
The target spacing is the median (nnU-Net's rule for strongly anisotropic data), or coarser up to a
third of the smallest node class (at least 5 mm) when the budget needs it. Candidate networks are
timed on this machine (a few real training steps each) and the most capable one whose step time
lets --minutes buy --min-iterations is chosen.`,
  positionals: { name: 'dataset folder', min: 1, max: 1 },
  options: {
    minutes: { type: 'number', min: 1, max: 100000, default: 60, placeholder: 'M', help: 'training time budget the plan must fit' },
    threads: { type: 'integer', min: 1, max: 1024, placeholder: 'N', help: `threads for timing and training (default: this machine's ${availableParallelism()})` },
    out: { type: 'path', placeholder: 'DIR', help: 'where plans.json and preprocessed/ go (default <dataset-dir>/nodal)' },
    minIterations: { type: 'integer', min: 1, max: 10_000_000, default: 4000, placeholder: 'N', help: 'iterations the budget must buy' },
    batch: { type: 'integer', min: 1, max: 64, default: 2, placeholder: 'N', help: 'patches per step' },
    plansFrom: { type: 'path', placeholder: 'FILE', help: "another dataset's plans.json: keep its spacing, normalisation, patch, batch and network instead of planning anew (no timing), so a model trained with it can be fine-tuned here (nodal train --init-from)" },
  },
  examples: [
    'nodal phantom --site chest --cases 40 --seed 11 --out data/Dataset011_chest',
    'nodal plan data/Dataset011_chest --minutes 80',
    'nodal plan data/Dataset031_mix --plans-from data/Dataset011_chest/nodal/plans.json',
  ],
  async run({ values, positionals: [dataset] }) {
    const bars = new Map<string, ProgressBar>()
    const interrupted = onInterrupt()
    try {
      const { plans, path } = await planDataset({
        dataset: dataset!, out: values.out, minutes: values.minutes, threads: values.threads, minIterations: values.minIterations,
        batch: values.batch, plansFrom: values.plansFrom, log: (line) => console.error(line), shouldStop: interrupted.requested,
        onProgress: (stage, done, total) => {
          if (!bars.has(stage)) bars.set(stage, new ProgressBar(stage.padEnd(11), total))
          bars.get(stage)!.update(done)
        },
      })
      const b = plans.budget
      console.log(`wrote ${path}`)
      console.log(`  spacing ${plans.target_spacing.join('x')} mm (z,y,x), patch ${plans.patch_size.join('x')}, batch ${plans.batch_size}, features ${plans.network.config.features.join('-')}`)
      console.log(`  ${b.measured_step_ms} ms per step on ${b.machine}: about ${b.expected_iterations} iterations in ${b.minutes} min`)
      if (b.expected_iterations < b.min_iterations) console.log(`  warning: even the smallest candidate buys only ${b.expected_iterations} of the ${b.min_iterations} iterations asked for; give more --minutes`)
      return 0
    } finally {
      interrupted.dispose()
    }
  },
})
