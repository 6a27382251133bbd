import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { evaluate, MALIGNANT_BY_PROBABILITY } from '../eval/evaluate.js'
import { parseMatchCriterion } from '../eval/matching.js'
import { writeAtomically } from '../io/index.js'
import { reportHtml } from '../report/html.js'
import { metricsCsv, metricsJson } from '../report/tables.js'
import { usageError } from './command.js'
import { defineCommand } from './options.js'

export const evaluateCommand = defineCommand({
  name: 'evaluate',
  usage: 'nodal evaluate --pred <dir|file> --gt <dir|file> --out <dir> [options]',
  description: `Pairs prediction and ground-truth label maps by file name (two single files pair with each other),
resamples a prediction on another grid onto the ground truth's by world coordinates (nearest, with a
warning), and writes <out>/metrics.json, <out>/metrics.csv (one row per case and label) and
<out>/report.html (tables, FROC, sensitivity by node size, Bland-Altman, worst-case thumbnails).
--pred may be a nodal predict output folder: each <case>/ gives labels.nii.gz, its instances.nii.gz
as the nodes and nodes.json as their scores, and its network classes count as the dataset labels
nodes.json says (an all-nodes model's 'node' is compared with labels 1 and 2 together).
Definitions and empty-mask conventions: docs/evaluation.md.`,
  options: {
    pred: { type: 'path', required: true, help: 'predicted label maps (folder or one file), or a nodal predict output folder' },
    gt: { type: 'path', required: true, help: "ground-truth label maps (folder or one file), e.g. a dataset's labelsTr" },
    out: { type: 'path', placeholder: 'DIR', required: true, help: 'output folder' },
    labels: { type: 'list', of: 'integer', min: 1, placeholder: '1,2', help: 'labels to evaluate (default: every non-zero value found)' },
    toleranceMm: { type: 'number', min: 0, default: 2, placeholder: 'MM', help: 'tolerance of NSD and boundary F1' },
    match: { type: 'string', placeholder: 'RULE', default: 'iou:0.1', help: 'node matching: iou:T (0 < T <= 1) or centre' },
    predInstances: { type: 'path', placeholder: 'DIR', help: 'predicted instance maps <case>.nii.gz (+ <case>.json) instead of connected components' },
    gtInstances: { type: 'path', placeholder: 'DIR', help: "ground-truth instance maps, e.g. a dataset's instancesTr" },
    predScores: {
      type: 'path', placeholder: 'DIR',
      help: 'node scores: <case>.json ({"instances": {"<id>": {"score", "probability_malignant"}}}, needs --pred-instances) or a probability map <case>.nii.gz (node score = its max)',
    },
    secondReader: { type: 'path', placeholder: 'DIR', help: "a second reader's label maps: adds model vs reader 1, model vs reader 2, reader 2 vs reader 1" },
    images: { type: 'path', placeholder: 'DIR', help: 'images (<case>_0000.nii.gz) for the thumbnails (default: contours on grey)' },
  },
  examples: [
    `nodal evaluate --pred runs/fold0/pred --gt data/Dataset001/labelsTr --gt-instances data/Dataset001/instancesTr \\
  --labels 1,2 --out runs/fold0/eval`,
  ],
  async run({ values }) {
    const labels = values.labels === undefined ? null : [...new Set(values.labels)].sort((a, b) => a - b)
    const toleranceMm = values.toleranceMm
    const match = parseMatchCriterion(values.match)
    if (!match) throw usageError('evaluate', "--match is 'iou:T' with 0 < T <= 1, or 'centre'")
    const warned = new Set<string>()
    const result = await evaluate({
      pred: values.pred, gt: values.gt, labels, toleranceMm, match,
      predInstances: values.predInstances, gtInstances: values.gtInstances, predScores: values.predScores,
      secondReader: values.secondReader, images: values.images,
      warn: (m) => {
        // the reader comparisons read the same files again: say each thing once
        if (!warned.has(m)) console.error(`nodal: warning: ${m}`)
        warned.add(m)
      },
    })
    const inputs = {
      pred: values.pred, gt: values.gt, labels: values.labels?.join(','), tolerance_mm: toleranceMm, match: values.match,
      pred_instances: values.predInstances, gt_instances: values.gtInstances, pred_scores: values.predScores,
      second_reader: values.secondReader, images: values.images,
    }
    const files: [string, string][] = [
      ['metrics.json', metricsJson(result, inputs)],
      ['metrics.csv', metricsCsv(result)],
      ['report.html', reportHtml(result, inputs)],
    ]
    for (const [name, text] of files) await writeAtomically(join(values.out, name), (tmp) => writeFileSync(tmp, text))
    printSummary(result)
    console.log(`wrote ${files.map(([name]) => join(values.out, name)).join(', ')}`)
    return 0
  },
})

function printSummary(r: Awaited<ReturnType<typeof evaluate>>): void {
  const f = (v: number | null) => (v === null ? '–' : v.toFixed(3))
  for (const l of r.labels.map(String)) {
    const a = r.aggregate[l], d = r.detection[l]
    console.log(`label ${l}: Dice ${f(a.dice.mean)} (agg ${f(a.dsc_agg)})  HD95 ${f(a.hd95.mean)} mm  NSD ${f(a.nsd.mean)}  ` +
      `nodes: sensitivity ${f(d.sensitivity)}  FP/scan ${f(d.fp_per_scan)}  CPM ${f(d.cpm)}  mAP ${f(d.map)}`)
  }
  const m = r.detection[MALIGNANT_BY_PROBABILITY]
  if (m) console.log(`label 2 over every node by P(malignant): CPM ${f(m.cpm)}  sensitivity at ${m.froc.fp_per_scan.join('/')} FP/scan ${m.froc.sensitivity?.map(f).join('/') ?? '–'}`)
}
