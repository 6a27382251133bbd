import { ALL_NODES, type Comparison, type Evaluation, MALIGNANT_BY_PROBABILITY } from '../eval/evaluate.js'
import { SIZE_STRATA } from '../eval/detection.js'
import { barChart, blandAltmanChart, escapeXml, frocChart } from './svg.js'
import { pngDataUri, thumbnailPng } from './thumbnail.js'

const COLORS = ['#3366cc', '#dc3912', '#109618', '#ff9900', '#990099', '#0099c6']
const SUMMARY_METRICS = ['dice', 'iou', 'precision', 'recall', 'specificity', 'f1', 'avd', 'hd', 'hd95', 'assd', 'nsd', 'boundary_f1', 'volume_pred_ml', 'volume_gt_ml']
const WORST_CASES = 6

/**
 * report.html: one self-contained page (inline CSS, SVG plots, PNG thumbnails as data URIs) that
 * opens from disk with no network.
 */
export function reportHtml(e: Evaluation, inputs: Record<string, string | number | undefined>): string {
  const sections = [
    `<h1>nodal evaluate</h1>`,
    table(['input', 'value'], Object.entries(inputs).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])),
    `<p>${e.cases.length} case(s), label(s) ${e.labels.join(', ')}. Undefined values (see docs/evaluation.md, empty masks) show as –.</p>`,
    `<h2>Voxel and surface metrics</h2>`,
    ...e.labels.map((l) => overlapTable(e, String(l))),
    `<h2>Node detection</h2>`,
    detectionTable(e),
    `<div class="plots">${frocChart(Object.entries(e.detection).map(([g, d], i) => ({
      name: groupName(g), color: COLORS[i % COLORS.length], points: d.froc_curve ? d.froc_curve.fp_per_scan.map((fp, j) => [fp, d.froc_curve!.sensitivity[j]] as [number, number]) : [],
    })))}${barChart('sensitivity by node size', SIZE_STRATA.map((s) => s.name), Object.entries(e.detection).map(([g, d], i) => ({
      name: groupName(g), color: COLORS[i % COLORS.length], values: SIZE_STRATA.map((s) => d.by_size[s.name].sensitivity),
    })), 'sensitivity')}</div>`,
    `<h2>Volumes (Bland-Altman)</h2>`,
    `<div class="plots">${e.labels.map((l) => blandAltmanChart(`label ${l}`, e.cases.map((c) => ({ label: c.case, pred: c.labels[String(l)].volume_pred_ml, gt: c.labels[String(l)].volume_gt_ml })))).join('')}</div>`,
    e.classification ? classificationSection(e.classification) : '',
    e.readers ? readersSection(e.readers) : '',
    worstCases(e),
  ]
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nodal evaluation</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; font-size: 12px; }
</style></head><body>
${sections.join('\n')}
</body></html>
`
}

function fmt(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v.toFixed(digits)).toString()
}

function table(header: string[], rows: string[][]): string {
  const head = `<tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr>`
  return `<table>${head}${rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('')}</table>`
}

function groupName(group: string): string {
  if (group === ALL_NODES) return 'all nodes'
  if (group === MALIGNANT_BY_PROBABILITY) return 'label 2, every node by P(malignant)'
  return `label ${group}`
}

function overlapTable(e: Comparison, label: string): string {
  const agg = e.aggregate[label]
  const rows = SUMMARY_METRICS.map((k) => [k, fmt(agg[k].mean), fmt(agg[k].std), fmt(agg[k].median), String(agg[k].n)])
  rows.push(['dsc_agg', fmt(agg.dsc_agg), '', '', String(e.cases.length)])
  return `<h3>label ${escapeXml(label)}</h3>` + table(['metric', 'mean', 'std', 'median', 'n'], rows)
}

function detectionTable(e: Comparison): string {
  const rows = Object.entries(e.detection).map(([g, d]) => [
    groupName(g), String(d.gt_nodes), String(d.pred_nodes), String(d.tp), String(d.fp), String(d.fn),
    fmt(d.sensitivity), fmt(d.precision), fmt(d.f1), fmt(d.fp_per_scan), fmt(d.cpm),
    fmt(d.ap['0.1']), fmt(d.ap['0.25']), fmt(d.ap['0.5']), fmt(d.map), fmt(d.node_dice_mean), fmt(d.box_iou_mean), fmt(d.giou_mean),
  ])
  const froc = Object.entries(e.detection).map(([g, d]) => [groupName(g), ...d.froc.fp_per_scan.map((_, i) => fmt(d.froc.sensitivity?.[i])), fmt(d.cpm)])
  const sizes = Object.entries(e.detection).flatMap(([g, d]) => SIZE_STRATA.map((s) => {
    const b = d.by_size[s.name]
    return [`${groupName(g)} ${s.name}`, String(b.gt_nodes), String(b.tp), String(b.fp), String(b.fn), fmt(b.sensitivity), fmt(b.precision), fmt(b.cpm), fmt(b.map)]
  }))
  return table(['nodes', 'true', 'predicted', 'TP', 'FP', 'FN', 'sensitivity', 'precision', 'F1', 'FP/scan', 'CPM', 'AP@0.1', 'AP@0.25', 'AP@0.5', 'mAP', 'node Dice', 'box IoU', 'GIoU'], rows) +
    '<h3>Sensitivity at FP per scan</h3>' + table(['nodes', '1/8', '1/4', '1/2', '1', '2', '4', '8', 'CPM'], froc) +
    '<h3>By node size (short axis)</h3>' + table(['nodes', 'true', 'TP', 'FP', 'FN', 'sensitivity', 'precision', 'CPM', 'mAP'], sizes)
}

function classificationSection(c: NonNullable<Comparison['classification']>): string {
  const m = c.confusion_matrix
  return '<h2>Classification of matched nodes (malignant vs benign)</h2>' +
    table(['nodes', 'ROC AUC', 'threshold', 'sensitivity', 'specificity'], [[String(c.nodes), fmt(c.roc_auc), String(c.threshold), fmt(c.sensitivity), fmt(c.specificity)]]) +
    table(['truth \\ predicted', 'benign', 'malignant'], [['benign', String(m.benign.benign), String(m.benign.malignant)], ['malignant', String(m.malignant.benign), String(m.malignant.malignant)]])
}

function readersSection(readers: NonNullable<Evaluation['readers']>): string {
  const rows: string[][] = []
  for (const [name, r] of Object.entries(readers)) {
    for (const l of r.labels.map(String)) {
      const a = r.aggregate[l], d = r.detection[l]
      rows.push([name.replace(/_/g, ' '), l, fmt(a.dice.mean), fmt(a.dsc_agg), fmt(a.hd95.mean), fmt(a.assd.mean), fmt(a.nsd.mean), fmt(d.sensitivity), fmt(d.precision), fmt(d.fp_per_scan)])
    }
  }
  return '<h2>Readers</h2><p>Model against each reader, and the readers against each other: the human variability to read the model against.</p>' +
    table(['comparison', 'label', 'Dice', 'DSC agg', 'HD95', 'ASSD', 'NSD', 'node sensitivity', 'node precision', 'FP/scan'], rows)
}

function worstCases(e: Evaluation): string {
  const meanDice = (c: Evaluation['cases'][number]) => e.labels.reduce((s, l) => s + c.labels[String(l)].dice, 0) / Math.max(1, e.labels.length)
  const worst = [...e.cases].sort((a, b) => meanDice(a) - meanDice(b)).filter((c) => e.snapshots.has(c.case)).slice(0, WORST_CASES)
  if (!worst.length) return ''
  const figures = worst.map((c) => {
    const snap = e.snapshots.get(c.case)!
    const caption = `${c.case}, slice ${snap.slice}: ` + e.labels.map((l) => `label ${l} Dice ${fmt(c.labels[String(l)].dice)} HD95 ${fmt(c.labels[String(l)].hd95, 1)} mm`).join('; ')
    return `<figure><img src="${pngDataUri(thumbnailPng(snap))}" alt="${escapeXml(c.case)}"><figcaption>${escapeXml(caption)}</figcaption></figure>`
  })
  return `<h2>Worst cases</h2><p>Lowest mean Dice; axial slice with the most disagreement. Green: ground truth, red: prediction, yellow: both.</p><div class="plots">${figures.join('')}</div>`
}
