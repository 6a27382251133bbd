/** training_log.csv (one row per epoch) and training_progress.png, rewritten whole after each epoch. */
import { existsSync, readFileSync } from 'node:fs'
import { writeFileAtomic } from '../io/atomic.js'
import { renderCurvePng } from '../report/curve-png.js'

export const LOG_COLUMNS = [
  'iteration', 'epoch', 'loss', 'lr', 'iterations_per_second', 'elapsed_seconds',
  'val_dice', 'val_sensitivity', 'val_fp_per_scan', 'val_sensitivity_10mm', 'val_fp_per_scan_10mm',
] as const

export type LogRow = Partial<Record<(typeof LOG_COLUMNS)[number], number | null>>

export class TrainingLog {
  rows: LogRow[] = []

  constructor(private readonly csvPath: string, private readonly pngPath: string) {}

  /** Reads an existing log, keeping the rows up to `iteration` (what a resumed checkpoint had done). */
  load(iteration: number): void {
    if (!existsSync(this.csvPath)) return
    const [head, ...lines] = readFileSync(this.csvPath, 'utf8').trim().split('\n')
    const names = head!.split(',')
    this.rows = lines.map((line) => {
      const values = line.split(',')
      return Object.fromEntries(names.map((n, i) => [n, values[i] === '' ? null : Number(values[i])])) as LogRow
    }).filter((r) => (r.iteration ?? 0) <= iteration)
  }

  add(row: LogRow): void {
    this.rows.push(row)
  }

  write(title: string): void {
    const csv = [LOG_COLUMNS.join(','), ...this.rows.map((r) => LOG_COLUMNS.map((c) => format(r[c])).join(','))].join('\n') + '\n'
    writeFileAtomic(this.csvPath, csv)
    writeFileAtomic(this.pngPath, this.plot(title))
  }

  private plot(title: string): Buffer {
    const series = (name: string, key: keyof LogRow, color: [number, number, number], axis: 'left' | 'right') => ({
      name, color, axis,
      points: this.rows.filter((r) => r[key] !== null && r[key] !== undefined).map((r) => [r.iteration!, r[key]!] as [number, number]),
    })
    return renderCurvePng({
      title, xLabel: 'iteration', leftLabel: 'training loss', rightLabel: 'validation',
      series: [
        series('loss', 'loss', [31, 119, 180], 'left'),
        series('val Dice', 'val_dice', [214, 39, 40], 'right'),
        series('val sensitivity', 'val_sensitivity', [44, 160, 44], 'right'),
      ],
    })
  }
}

function format(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return ''
  return Number.isInteger(v) ? String(v) : v.toPrecision(6)
}
