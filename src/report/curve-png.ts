/**
 * Training curves drawn straight into a PNG (training_progress.png): loss on the left axis, a
 * metric in 0..1 on the right, epochs along the bottom. No browser, no Python: pixels, Bresenham
 * lines two pixels wide and the bitmap font of font.ts.
 */
import { PNG } from 'pngjs'
import { CAP_HEIGHT, FONT_HEIGHT, textPixels, textWidth } from './font.js'

export type Rgb = [number, number, number]

export interface CurveSeries {
  name: string
  /** [x, y]; a point with a non-finite coordinate (or y <= 0 on a log axis) breaks the line. */
  points: [number, number][]
  color: Rgb
  /** Loss on the left, a metric (0..1) on the right. */
  axis: 'left' | 'right'
  dashed?: boolean
}

export interface CurvePlot {
  title: string
  xLabel: string
  leftLabel: string
  rightLabel?: string
  series: CurveSeries[]
  /** Pixels; 900 x 500 by default. */
  width?: number
  height?: number
  /** A log10 left axis (points with y <= 0 are left out). */
  leftLog?: boolean
  /** Fixed axis ranges instead of ones fitted to the data; lines leaving them are clipped. */
  xRange?: [number, number]
  leftRange?: [number, number]
  rightRange?: [number, number]
}

export interface Axis {
  min: number
  max: number
  log: boolean
  ticks: number[]
  labels: string[]
}

/** Where things go: the plot rectangle [x0, x1] x [y0, y1] (pixels, inclusive) and its axes. */
export interface Layout {
  width: number
  height: number
  /** Pixels per font pixel for tick labels, axis titles and the legend. */
  scale: number
  x0: number
  y0: number
  x1: number
  y1: number
  x: Axis
  left: Axis
  right?: Axis
  /** Horizontal pixel (fractional) of a data x. */
  px(x: number): number
  /** Vertical pixel (fractional) of a data y on the given axis. */
  py(y: number, side: 'left' | 'right'): number
}

export interface Rect {
  x: number
  y: number
  w: number
  h: number
}

const WHITE: Rgb = [255, 255, 255], INK: Rgb = [30, 30, 30], GRID: Rgb = [228, 228, 228], FRAME: Rgb = [150, 150, 150]
const TICK = 6, PAD = 10, GAP = 4

// ---------------------------------------------------------------- ticks

/** A step of 1, 2 or 5 x 10^k near span / count (rounded geometrically: 1.4 -> 1, 1.5 -> 2, 3.2 -> 5, 7.1 -> 10). */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count)
  const power = 10 ** Math.floor(Math.log10(raw))
  const f = raw / power
  return power * (f < Math.SQRT2 ? 1 : f < Math.sqrt(10) ? 2 : f < Math.sqrt(50) ? 5 : 10)
}

/** Round ticks (multiples of a 1/2/5 x 10^k step) from the last at or below min to the first at or above max. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min]
  const step = niceStep(max - min, count)
  const first = Math.floor(min / step + 1e-9), last = Math.ceil(max / step - 1e-9)
  const ticks: number[] = []
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)))
  return ticks
}

/** A tick label with as many decimals as the step needs (exponent form for huge or tiny values). */
function formatTick(v: number, step: number): string {
  if (v !== 0 && (Math.abs(v) >= 1e6 || step < 1e-5)) return v.toExponential(Math.max(0, Math.round(Math.log10(Math.abs(v) / step))))
  return v.toFixed(Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)))
}

/** Smallest and largest value (no spread: curves can have more points than a call has arguments). */
const extent = (values: number[], from: [number, number]) =>
  values.reduce<[number, number]>(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], from)

function linearAxis(values: number[], count: number, at: [number, number]): Axis {
  let [min, max] = extent(values, at)
  if (!Number.isFinite(min) || !Number.isFinite(max)) [min, max] = [0, 1]
  if (max === min) { const pad = Math.abs(min) * 0.1 || 1; min -= pad; max += pad }
  const ticks = niceTicks(min, max, count), step = ticks[1] - ticks[0]
  return { min: ticks[0], max: ticks[ticks.length - 1], log: false, ticks, labels: ticks.map((t) => formatTick(t, step)) }
}

/** Decades covering the data; with three decades or fewer, also 2 and 5 times each. */
function logAxis(values: number[]): Axis {
  const pos = values.filter((v) => v > 0), [min, max] = pos.length ? extent(pos, [Infinity, -Infinity]) : [0.1, 1]
  let lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max))
  if (hi === lo) hi++
  const every = Math.ceil((hi - lo) / 6), ticks: number[] = []
  for (let k = lo; k <= hi; k += every) {
    for (const m of hi - lo <= 3 && k < hi ? [1, 2, 5] : [1]) ticks.push(Number((m * 10 ** k).toPrecision(6)))
  }
  const label = (v: number) => (v >= 1e-4 && v < 1e6 ? String(v) : v.toExponential(0))
  return { min: 10 ** lo, max: 10 ** hi, log: true, ticks, labels: ticks.map(label) }
}

/** The axis cut to a fixed range, keeping the ticks inside it. */
function within(a: Axis, range: [number, number] | undefined): Axis {
  if (!range || !(range[1] > range[0])) return a
  const eps = (range[1] - range[0]) * 1e-9
  const keep = a.ticks.map((t, i) => i).filter((i) => a.ticks[i] >= range[0] - eps && a.ticks[i] <= range[1] + eps)
  return { ...a, min: range[0], max: range[1], ticks: keep.map((i) => a.ticks[i]), labels: keep.map((i) => a.labels[i]) }
}

/** Where v falls along the axis: 0 at min, 1 at max. */
function fraction(a: Axis, v: number): number {
  return a.log ? (Math.log10(v) - Math.log10(a.min)) / (Math.log10(a.max) - Math.log10(a.min)) : (v - a.min) / (a.max - a.min)
}

// ---------------------------------------------------------------- layout

const onSide = (plot: CurvePlot, side: 'left' | 'right') => plot.series.filter((s) => s.axis === side)
const ys = (series: CurveSeries[]) => series.flatMap((s) => s.points.map((p) => p[1]).filter(Number.isFinite))
const xs = (series: CurveSeries[]) => series.flatMap((s) => s.points.map((p) => p[0]).filter(Number.isFinite))
const titleScale = (scale: number) => scale + 1
const widest = (a: Axis, scale: number) => Math.max(0, ...a.labels.map((l) => textWidth(l) * scale))

/** The plot rectangle and axes of a plot: margins fit the tick labels, axis titles and title. */
export function plotArea(plot: CurvePlot): Layout {
  const width = plot.width ?? 900, height = plot.height ?? 500
  if (width < 200 || height < 150) throw new RangeError(`curve plot ${width} x ${height} is too small (at least 200 x 150)`)
  const scale = Math.max(1, Math.floor(Math.min(width / 450, height / 250)))
  const line = FONT_HEIGHT * scale
  const yCount = Math.max(3, Math.round(height / 90))
  const none: [number, number] = [Infinity, -Infinity]
  const leftYs = plot.leftRange ?? ys(onSide(plot, 'left'))
  const left = within(plot.leftLog ? logAxis(leftYs) : linearAxis(leftYs, yCount, none), plot.leftRange)
  const hasRight = plot.rightLabel !== undefined || onSide(plot, 'right').length > 0
  const right = hasRight ? within(linearAxis(plot.rightRange ?? ys(onSide(plot, 'right')), yCount, plot.rightRange ? none : [0, 1]), plot.rightRange) : undefined
  const x = within(linearAxis(plot.xRange ?? xs(plot.series), Math.max(3, Math.round(width / 100)), none), plot.xRange)
  const sideMargin = (a: Axis, label: string | undefined) => PAD + (label ? line + GAP * 2 : 0) + widest(a, scale) + GAP + TICK
  const x0 = sideMargin(left, plot.leftLabel)
  const x1 = width - 1 - (right ? sideMargin(right, plot.rightLabel) : Math.ceil(Math.max(PAD * 2, widest(x, scale) / 2 + PAD)))
  const y0 = PAD + FONT_HEIGHT * titleScale(scale) + PAD
  const y1 = height - 1 - (TICK + GAP + line + (plot.xLabel ? GAP * 2 + line : 0) + PAD)
  const py = (v: number, side: 'left' | 'right') => y1 - fraction(side === 'right' && right ? right : left, v) * (y1 - y0)
  return { width, height, scale, x0, y0, x1, y1, x, left, right, px: (v) => x0 + fraction(x, v) * (x1 - x0), py }
}

// ---------------------------------------------------------------- pixels

interface Canvas {
  w: number
  h: number
  data: Buffer
}

function put(c: Canvas, x: number, y: number, rgb: Rgb): void {
  x = Math.round(x); y = Math.round(y)
  if (x < 0 || y < 0 || x >= c.w || y >= c.h) return
  const o = 4 * (x + c.w * y)
  c.data[o] = rgb[0]; c.data[o + 1] = rgb[1]; c.data[o + 2] = rgb[2]; c.data[o + 3] = 255
}

function fillRect(c: Canvas, r: Rect, rgb: Rgb): void {
  for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) put(c, x, y, rgb)
}

function strokeRect(c: Canvas, r: Rect, rgb: Rgb): void {
  fillRect(c, { x: r.x, y: r.y, w: r.w, h: 1 }, rgb)
  fillRect(c, { x: r.x, y: r.y + r.h - 1, w: r.w, h: 1 }, rgb)
  fillRect(c, { x: r.x, y: r.y, w: 1, h: r.h }, rgb)
  fillRect(c, { x: r.x + r.w - 1, y: r.y, w: 1, h: r.h }, rgb)
}

/** Text with its top-left at (x, y); vertical text reads bottom to top. */
function drawText(c: Canvas, text: string, x: number, y: number, scale: number, rgb: Rgb, vertical = false): void {
  const len = textWidth(text)
  for (const [gx, gy] of textPixels(text)) {
    const [px, py] = vertical ? [gy, len - 1 - gx] : [gx, gy]
    fillRect(c, { x: x + px * scale, y: y + py * scale, w: scale, h: scale }, rgb)
  }
}

/** Every pixel of the line from a to b (integers), ends included. */
function bresenham(a: [number, number], b: [number, number], plot: (x: number, y: number) => void): void {
  let [x, y] = a
  const dx = Math.abs(b[0] - x), dy = -Math.abs(b[1] - y), sx = x < b[0] ? 1 : -1, sy = y < b[1] ? 1 : -1
  let err = dx + dy
  for (;;) {
    plot(x, y)
    if (x === b[0] && y === b[1]) return
    const e2 = 2 * err
    if (e2 >= dy) { err += dy; x += sx }
    if (e2 <= dx) { err += dx; y += sy }
  }
}

/** The part of segment a-b inside the rectangle (Liang-Barsky), or null. */
function clipSegment(a: [number, number], b: [number, number], L: Layout): [[number, number], [number, number]] | null {
  const d = [b[0] - a[0], b[1] - a[1]]
  let t0 = 0, t1 = 1
  const edges: [number, number][] = [[-d[0], a[0] - L.x0], [d[0], L.x1 - a[0]], [-d[1], a[1] - L.y0], [d[1], L.y1 - a[1]]]
  for (const [p, q] of edges) {
    if (p === 0) { if (q < 0) return null; continue }
    const t = q / p
    if (p < 0) t0 = Math.max(t0, t); else t1 = Math.min(t1, t)
    if (t0 > t1) return null
  }
  return [[a[0] + t0 * d[0], a[1] + t0 * d[1]], [a[0] + t1 * d[0], a[1] + t1 * d[1]]]
}

// ---------------------------------------------------------------- the chart

function drawSeries(c: Canvas, L: Layout, s: CurveSeries, mask: Uint8Array): void {
  let step = 0
  const stamp = (x: number, y: number) => {
    if (s.dashed && step++ % 12 >= 7) return
    for (let v = y; v <= Math.min(y + 1, L.y1); v++) {
      for (let u = x; u <= Math.min(x + 1, L.x1); u++) { put(c, u, v, s.color); mask[u + c.w * v] = 1 }
    }
  }
  const segment = (a: [number, number], b: [number, number]) => {
    const clipped = clipSegment(a, b, L)
    if (clipped) bresenham(clipped[0].map(Math.round) as [number, number], clipped[1].map(Math.round) as [number, number], stamp)
  }
  let prev: [number, number] | null = null
  for (const [x, y] of s.points) {
    const ok = Number.isFinite(x) && Number.isFinite(y) && !(L.left.log && s.axis === 'left' && y <= 0)
    if (!ok) { prev = null; continue }
    const p: [number, number] = [L.px(x), L.py(y, s.axis)]
    segment(prev ?? p, p)
    prev = p
  }
}

function drawAxes(c: Canvas, L: Layout, plot: CurvePlot): void {
  const S = L.scale, line = FONT_HEIGHT * S, grid = onSide(plot, 'left').length || !L.right ? 'left' : 'right'
  L.x.ticks.forEach((t, i) => {
    const x = Math.round(L.px(t)), label = L.x.labels[i]
    fillRect(c, { x, y: L.y0, w: 1, h: L.y1 - L.y0 }, GRID)
    fillRect(c, { x, y: L.y1 + 1, w: 1, h: TICK }, INK)
    drawText(c, label, x - Math.floor(textWidth(label) * S / 2), L.y1 + TICK + GAP, S, INK)
  })
  yTicks(c, L, 'left', grid === 'left')
  if (L.right) yTicks(c, L, 'right', grid === 'right')
  strokeRect(c, { x: L.x0, y: L.y0, w: L.x1 - L.x0 + 1, h: L.y1 - L.y0 + 1 }, FRAME)
  const midX = (L.x0 + L.x1) / 2, midY = (L.y0 + L.y1) / 2
  if (plot.xLabel) drawText(c, plot.xLabel, Math.round(midX - textWidth(plot.xLabel) * S / 2), L.y1 + TICK + GAP + line + GAP * 2, S, INK)
  const vertical = (label: string, x: number) => drawText(c, label, x, Math.round(midY - textWidth(label) * S / 2), S, INK, true)
  if (plot.leftLabel) vertical(plot.leftLabel, PAD)
  if (plot.rightLabel && L.right) vertical(plot.rightLabel, L.width - PAD - line)
  const T = titleScale(S)
  drawText(c, plot.title, Math.round(L.width / 2 - textWidth(plot.title) * T / 2), PAD, T, INK)
}

function yTicks(c: Canvas, L: Layout, side: 'left' | 'right', grid: boolean): void {
  const a = side === 'left' ? L.left : L.right!, S = L.scale
  a.ticks.forEach((t, i) => {
    const y = Math.round(L.py(t, side)), w = textWidth(a.labels[i]) * S, top = y - Math.floor(CAP_HEIGHT * S / 2)
    if (grid) fillRect(c, { x: L.x0, y, w: L.x1 - L.x0, h: 1 }, GRID)
    if (side === 'left') {
      fillRect(c, { x: L.x0 - TICK, y, w: TICK, h: 1 }, INK)
      drawText(c, a.labels[i], L.x0 - TICK - GAP - w, top, S, INK)
    } else {
      fillRect(c, { x: L.x1 + 1, y, w: TICK, h: 1 }, INK)
      drawText(c, a.labels[i], L.x1 + 1 + TICK + GAP, top, S, INK)
    }
  })
}

const SWATCH = 24

function legendSize(L: Layout, series: CurveSeries[]): { w: number; h: number; row: number } {
  const S = L.scale, row = FONT_HEIGHT * S + GAP
  const w = PAD + SWATCH + GAP * 2 + Math.max(...series.map((s) => textWidth(s.name) * S)) + PAD
  return { w, h: PAD * 2 + row * series.length - GAP, row }
}

/** Prefix sums of the mask: sat[x + (w + 1) * y] counts its pixels above and left of (x, y). */
function summedArea(mask: Uint8Array, w: number, h: number): Uint32Array {
  const sat = new Uint32Array((w + 1) * (h + 1)), W = w + 1
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) sat[x + 1 + W * (y + 1)] = mask[x + w * y] + sat[x + W * (y + 1)] + sat[x + 1 + W * y] - sat[x + W * y]
  }
  return sat
}

/** Positions lo, lo + step, ... and hi itself. */
const stops = (lo: number, hi: number, step: number) => [...Array.from({ length: Math.max(0, Math.ceil((hi - lo) / step)) }, (_, i) => lo + i * step), hi]

/**
 * Where inside the plot the legend hides the fewest curve pixels (counting a small margin around
 * it); among equals, the place nearest a corner, top right first.
 */
function legendRect(L: Layout, w: number, h: number, mask: Uint8Array): Rect {
  const sat = summedArea(mask, L.width, L.height), W = L.width + 1
  const at = (x: number, y: number) => sat[Math.max(0, Math.min(L.width, x)) + W * Math.max(0, Math.min(L.height, y))]
  const hidden = (x: number, y: number) => {
    const a = x - GAP, b = y - GAP, c = x + w + GAP, d = y + h + GAP
    return at(c, d) - at(a, d) - at(c, b) + at(a, b)
  }
  const xLo = L.x0 + PAD, xHi = L.x1 - PAD - w + 1, yLo = L.y0 + PAD, yHi = L.y1 - PAD - h + 1
  let best: Rect = { x: xHi, y: yLo, w, h }, bestScore = Infinity
  for (const y of stops(yLo, yHi, 4)) {
    for (const x of stops(xLo, xHi, 4).reverse()) {
      const score = hidden(x, y) * 1e6 + Math.min(x - xLo, xHi - x) + Math.min(y - yLo, yHi - y)
      if (score < bestScore) { best = { x, y, w, h }; bestScore = score }
    }
  }
  return best
}

function drawLegend(c: Canvas, L: Layout, series: CurveSeries[], mask: Uint8Array): Rect | undefined {
  if (!series.length) return undefined
  const { w, h, row } = legendSize(L, series)
  const r = legendRect(L, w, h, mask)
  fillRect(c, r, WHITE)
  strokeRect(c, r, FRAME)
  series.forEach((s, i) => {
    const top = r.y + PAD + i * row, mid = top + Math.floor(CAP_HEIGHT * L.scale / 2)
    for (let x = 0; x < SWATCH; x++) if (!s.dashed || x % 12 < 7) fillRect(c, { x: r.x + PAD + x, y: mid - 1, w: 1, h: 3 }, s.color)
    drawText(c, s.name, r.x + PAD + SWATCH + GAP * 2, top, L.scale, INK)
  })
  return r
}

/** The chart as an image, with its layout and the legend's rectangle (none without series). */
export function renderCurve(plot: CurvePlot): { png: PNG; layout: Layout; legend?: Rect } {
  const L = plotArea(plot)
  const png = new PNG({ width: L.width, height: L.height })
  const c: Canvas = { w: L.width, h: L.height, data: png.data }
  png.data.fill(255)
  const mask = new Uint8Array(L.width * L.height)
  drawAxes(c, L, plot)
  for (const s of plot.series) drawSeries(c, L, s, mask)
  strokeRect(c, { x: L.x0, y: L.y0, w: L.x1 - L.x0 + 1, h: L.y1 - L.y0 + 1 }, FRAME)
  const legend = drawLegend(c, L, plot.series, mask)
  return { png, layout: L, legend }
}

/** The chart as PNG bytes. */
export function renderCurvePng(plot: CurvePlot): Buffer {
  return PNG.sync.write(renderCurve(plot).png)
}
