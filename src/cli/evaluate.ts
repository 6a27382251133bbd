import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { evaluate } from '../eval/evaluate.js'
import { parseMatchCriterion } from '../eval/matching.js'
import { writeAtomically } from '../io/index.js'
import { reportHtml } from '../report/html.js'
import { metricsCsv, metricsJson } from '../report/tables.js'
import { Command, parseCommandLine, usageError } from './command.js'

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'compare predictions with ground truth: Dice, HD95, NSD, node detection, FROC, AP, classification',
  help: `usage: nodal evaluate --pred <dir|file> --gt <dir|file> --out <dir> [options]

Pairs prediction and ground-truth label maps by file name (two single files pair with each other),
resamples a prediction on another grid onto the ground truth's by world coordinates (nearest, with a
warning), and writes <out>/metrics.json, <out>/metrics.csv (one row per case and label) and
<out>/report.html (tables, FROC, sensitivity by node size, Bland-Altman, worst-case thumbnails).
Definitions and empty-mask conventions: docs/evaluation.md.

options:
  --pred PATH            predicted label maps (folder or one file)
  --gt PATH              ground-truth label maps (folder or one file), e.g. a dataset's labelsTr
  --out DIR              output folder
  --labels 1,2           labels to evaluate (default: every non-zero value found)
  --tolerance-mm MM      tolerance of NSD and boundary F1 (default 2)
  --match RULE           node matching: iou:T (default iou:0.1) or centre
  --pred-instances DIR   predicted instance maps <case>.nii.gz (+ <case>.json) instead of connected components
  --gt-instances DIR     ground-truth instance maps, e.g. a dataset's instancesTr
  --pred-scores DIR      node scores: <case>.json ({"instances": {"<id>": {"score", "probability_malignant"}}},
                         needs --pred-instances) or a probability map <case>.nii.gz (node score = its max)
  --second-reader DIR    a second reader's label maps: adds model vs reader 1, model vs reader 2, reader 2 vs reader 1
  --images DIR           images (<case>_0000.nii.gz) for the thumbnails (default: contours on grey)

example:
  nodal evaluate --pred runs/fold0/pred --gt data/Dataset001/labelsTr --gt-instances data/Dataset001/instancesTr \\
    --labels 1,2 --out runs/fold0/eval`,
  async run(argv) {
    const { values, positionals } = parseCommandLine('evaluate', argv, {
      pred: { type: 'string' },
      gt: { type: 'string' },
      out: { type: 'string' },
      labels: { type: 'string' },
      'tolerance-mm': { type: 'string' },
      match: { type: 'string' },
      'pred-instances': { type: 'string' },
      'gt-instances': { type: 'string' },
      'pred-scores': { type: 'string' },
      'second-reader': { type: 'string' },
      images: { type: 'string' },
    })
    if (positionals.length) throw usageError('evaluate', `unexpected argument '${positionals[0]}'`)
    if (!values.pred || !values.gt || !values.out) throw usageError('evaluate', '--pred, --gt and --out are required')
    const labels = values.labels === undefined ? null : parseLabels(values.labels)
    const toleranceMm = values['tolerance-mm'] === undefined ? 2 : Number(values['tolerance-mm'])
    if (!(toleranceMm >= 0)) throw usageError('evaluate', '--tolerance-mm needs a number of mm >= 0')
    const match = parseMatchCriterion(values.match ?? 'iou:0.1')
    if (!match) throw usageError('evaluate', "--match is 'iou:T' with 0 < T <= 1, or 'centre'")
    const warned = new Set<string>()
    const result = await evaluate({
      pred: values.pred, gt: values.gt, labels, toleranceMm, match,
      predInstances: values['pred-instances'], gtInstances: values['gt-instances'], predScores: values['pred-scores'],
      secondReader: values['second-reader'], images: values.images,
      warn: (m) => {
        // the reader comparisons read the same files again: say each thing once
        if (!warned.has(m)) console.error(`nodal: warning: ${m}`)
        warned.add(m)
      },
    })
    const inputs = {
      pred: values.pred, gt: values.gt, labels: values.labels, tolerance_mm: toleranceMm, match: values.match ?? 'iou:0.1',
      pred_instances: values['pred-instances'], gt_instances: values['gt-instances'], pred_scores: values['pred-scores'],
      second_reader: values['second-reader'], images: values.images,
    }
    const files: [string, string][] = [
      ['metrics.json', metricsJson(result, inputs)],
      ['metrics.csv', metricsCsv(result)],
      ['report.html', reportHtml(result, inputs)],
    ]
    for (const [name, text] of files) await writeAtomically(join(values.out, name), (tmp) => writeFileSync(tmp, text))
    printSummary(result)
    console.log(`wrote ${files.map(([name]) => join(values.out!, name)).join(', ')}`)
    return 0
  },
}

function parseLabels(text: string): number[] {
  const labels = text.split(',').map((s) => Number(s.trim()))
  if (!labels.length || labels.some((l) => !Number.isInteger(l) || l <= 0)) throw usageError('evaluate', '--labels needs positive integers like 1,2')
  return [...new Set(labels)].sort((a, b) => a - b)
}

function printSummary(r: Awaited<ReturnType<typeof evaluate>>): void {
  const f = (v: number | null) => (v === null ? '–' : v.toFixed(3))
  for (const l of r.labels.map(String)) {
    const a = r.aggregate[l], d = r.detection[l]
    console.log(`label ${l}: Dice ${f(a.dice.mean)} (agg ${f(a.dsc_agg)})  HD95 ${f(a.hd95.mean)} mm  NSD ${f(a.nsd.mean)}  ` +
      `nodes: sensitivity ${f(d.sensitivity)}  FP/scan ${f(d.fp_per_scan)}  CPM ${f(d.cpm)}  mAP ${f(d.map)}`)
  }
}
