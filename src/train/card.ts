/** card.md: what a model was trained on, how, how long, what it measured, and what it is not for. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CARD, type ModelJson } from '../bundle/index.js'
import type { Dataset } from '../dataset/index.js'

function metric(v: unknown, digits = 3): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : 'n/a'
}

export function cardText(json: ModelJson, ds: Dataset): string {
  const p = json.plans
  const c = json.network.config as { features?: number[] }
  const folds = json.folds.map((f) => {
    const v = f.validation
    return `| ${f.fold} | ${f.iterations} | ${(f.training_seconds / 60).toFixed(1)} | ${f.validation_cases} | ${metric(v?.mean_dice)} | ${metric(v?.sensitivity)} | ${metric(v?.fp_per_scan, 2)} | ${metric(v?.sensitivity_10mm)} | ${metric(v?.fp_per_scan_10mm, 2)} |`
  })
  return [
    `# ${json.name}`,
    '',
    json.synthetic_training_data
      ? `**Trained on synthetic data (nodal phantom${usesInsertion(ds) ? ', and synthetic nodes inserted into real CT scans' : ''}). Not for clinical use.**`
      : '**Research use only. Not a medical device; not for clinical use without local validation.**',
    '',
    `Intended use: ${json.intended_use}`,
    '',
    '## Data',
    `- Dataset: ${ds.json.name ?? ds.root} (${ds.cases.length} cases), ${String(ds.json.description ?? '')}`,
    `- Channels: ${json.channels.map((ch) => `${ch.name} (${ch.normalization.scheme})`).join(', ')}`,
    `- Output classes: ${json.classes.map((k) => `${k.index} ${k.name} (dataset labels ${k.dataset_labels.join('/') || 'none: it only helps to keep nodes apart'})`).join('; ')}`,
    '',
    '## Settings',
    `- Network: ${json.network.name}, features ${c.features?.join('-') ?? '?'}, patch ${json.patch_size.join('x')} (z, y, x), spacing ${json.target_spacing.join('x')} mm, batch ${p.batch_size}`,
    `- Loss: ${json.loss}; SGD, Nesterov momentum ${p.training.momentum}, lr ${p.training.initial_lr} with poly decay, weight decay ${p.training.weight_decay}; deep supervision; foreground oversampling ${p.training.foreground_oversampling}`,
    `- Planned for ${p.budget.minutes} min on ${p.budget.machine}: measured ${p.budget.measured_step_ms} ms per step, ${p.budget.expected_iterations} iterations expected`,
    ...(p.transferred_from ? [`- Plans (spacing, normalisation, patch, network) taken from ${p.transferred_from}`] : []),
    ...(json.initialized_from ? [`- Fine-tuned: training started from the weights in ${json.initialized_from}`] : []),
    '',
    '## Measured (validation fold, whole held-out cases, sliding window on the network grid)',
    '| fold | iterations | minutes | cases | Dice | node sensitivity | FP/scan | sensitivity >= 10 mm | FP/scan >= 10 mm |',
    '|---|---|---|---|---|---|---|---|---|',
    ...folds,
    '',
    'Nodes are 26-connected components, matched to the truth at IoU >= 0.1. Fold "all" trains on every case and has no validation.',
    '',
    '## Limits',
    json.synthetic_training_data
      ? '- The anatomy is drawn from ellipsoids and tubes; figures on phantoms overstate performance on real scans.'
      : '- Measured on the folds of one dataset; expect lower figures on other scanners and protocols.',
    '- Inputs far from the training spacing or intensity range are outside what was measured.',
    '',
  ].join('\n')
}

/** Whether any case comes from nodal phantom --insert-into (directly, or through a merged dataset). */
function usesInsertion(ds: Dataset): boolean {
  const nodal = ds.json.nodal as { generator?: unknown; contains_insertions?: unknown } | undefined
  return String(nodal?.generator ?? '').includes('--insert-into') || nodal?.contains_insertions === true
}

export function writeCard(dir: string, json: ModelJson, ds: Dataset): void {
  writeFileSync(join(dir, CARD), cardText(json, ds))
}
