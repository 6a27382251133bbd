/**
 * A progress bar with rate and ETA for long commands. On a terminal it redraws one line; otherwise (CI
 * logs, pipes) it prints a plain line at most every `quietSeconds`, so logs stay readable.
 */
export class ProgressBar {
  private readonly start = performance.now()
  private lastPrint = 0
  private readonly tty: boolean

  constructor(private readonly label: string, private total: number, private readonly stream: NodeJS.WriteStream = process.stderr, private readonly quietSeconds = 30) {
    this.tty = Boolean(stream.isTTY)
  }

  setTotal(total: number): void {
    this.total = total
  }

  /** `done` of `total`, with extra text (loss, metrics). `startDone` excludes work done before this run from the rate. */
  update(done: number, extra = '', startDone = 0): void {
    const now = performance.now()
    const final = done >= this.total
    if (!this.tty && !final && now - this.lastPrint < this.quietSeconds * 1000) return
    if (this.tty && !final && now - this.lastPrint < 200) return
    this.lastPrint = now
    const seconds = (now - this.start) / 1000
    const rate = (done - startDone) / Math.max(seconds, 1e-9)
    const eta = rate > 0 ? (this.total - done) / rate : NaN
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 0
    const width = 24
    const filled = Math.round(fraction * width)
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
    const line = `${this.label} ${bar} ${done}/${this.total} ${formatRate(rate)} elapsed ${formatDuration(seconds)} ETA ${formatDuration(eta)}${extra ? ` ${extra}` : ''}`
    this.stream.write(this.tty ? `\r\x1b[K${line}${final ? '\n' : ''}` : `${line}\n`)
  }

  /** Ends the bar's line on a terminal so that the next output starts clean. */
  done(): void {
    if (this.tty) this.stream.write('\n')
  }
}

function formatRate(perSecond: number): string {
  if (!(perSecond > 0)) return '-- it/s'
  return perSecond >= 1 ? `${perSecond.toFixed(2)} it/s` : `${(1 / perSecond).toFixed(2)} s/it`
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--'
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`
}
