import { METRIC_KEYS } from '../eval/label-metrics.js'
import type { Evaluation } from '../eval/evaluate.js'

/** metrics.json: the whole evaluation (without the thumbnails' pixels). */
export function metricsJson(e: Evaluation, inputs: Record<string, unknown>): string {
  const { snapshots: _snapshots, ...rest } = e
  return JSON.stringify({ tool: 'nodal evaluate', created: new Date().toISOString(), inputs, ...rest }, null, 2) + '\n'
}

export const CSV_COLUMNS = ['case', 'label', 'resampled', ...METRIC_KEYS, 'node_tp', 'node_fp', 'node_fn']

/** metrics.csv: one row per case and label; an undefined metric is an empty cell. */
export function metricsCsv(e: Evaluation): string {
  const rows = [CSV_COLUMNS.join(',')]
  for (const c of e.cases) {
    for (const label of e.labels.map(String)) {
      const m = c.labels[label], nodes = c.nodes[label]
      const cells = [csvCell(c.case), label, String(c.resampled), ...METRIC_KEYS.map((k) => numberCell(m[k])), nodes.tp, nodes.fp, nodes.fn].map(String)
      rows.push(cells.join(','))
    }
  }
  return rows.join('\n') + '\n'
}

function numberCell(v: number | null): string {
  return v === null ? '' : String(Number(v.toPrecision(10)))
}

function csvCell(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}
