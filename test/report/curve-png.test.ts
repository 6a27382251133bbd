import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PNG } from 'pngjs'
import { CurvePlot, CurveSeries, niceStep, niceTicks, plotArea, renderCurve, renderCurvePng, Rgb } from '../../src/report/curve-png.js'
import { CAP_HEIGHT, FONT_CHARS, FONT_HEIGHT, textPixels, textWidth } from '../../src/report/font.js'

const BLUE: Rgb = [31, 119, 180], RED: Rgb = [214, 39, 40], GREEN: Rgb = [44, 160, 44]
const INK: Rgb = [30, 30, 30]

function plotOf(series: CurveSeries[], extra: Partial<CurvePlot> = {}): CurvePlot {
  return { title: 'Training progress', xLabel: 'epoch', leftLabel: 'loss', rightLabel: 'pseudo Dice', series, ...extra }
}

const line = (y: number, n = 11): [number, number][] => Array.from({ length: n }, (_, x) => [x, y])

function decode(plot: CurvePlot): PNG {
  return PNG.sync.read(renderCurvePng(plot))
}

function isColor(img: PNG, x: number, y: number, rgb: Rgb): boolean {
  const o = 4 * (x + img.width * y)
  return img.data[o] === rgb[0] && img.data[o + 1] === rgb[1] && img.data[o + 2] === rgb[2]
}

/** Pixels of a colour in the rectangle [x0, x1) x [y0, y1). */
function count(img: PNG, rgb: Rgb, x0 = 0, y0 = 0, x1 = img.width, y1 = img.height): number {
  let n = 0
  for (let y = Math.max(0, y0); y < Math.min(img.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.width, x1); x++) if (isColor(img, x, y, rgb)) n++
  }
  return n
}

test('niceTicks: steps of 1, 2 or 5 x 10^k covering the range', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1])
  assert.deepEqual(niceTicks(0, 0.73, 5), [0, 0.2, 0.4, 0.6, 0.8])
  assert.deepEqual(niceTicks(3, 1870, 5), [0, 500, 1000, 1500, 2000])
  assert.deepEqual(niceTicks(1, 50, 9), [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50])
  assert.deepEqual(niceTicks(-0.3, 0.3, 5), [-0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3])
  assert.deepEqual(niceTicks(0.6, 1.2, 3), [0.6, 0.8, 1, 1.2])
  assert.deepEqual(niceTicks(2, 2), [2])
  assert.equal(niceStep(1, 5), 0.2)
  assert.equal(niceStep(7.3, 10), 1)
  assert.equal(niceStep(3.5e-4, 1), 5e-4)
})

test('the PNG has the requested size, 900 x 500 by default', () => {
  const series = [{ name: 'train loss', points: line(0.5), color: BLUE, axis: 'left' as const }]
  const img = decode(plotOf(series))
  assert.deepEqual([img.width, img.height], [900, 500])
  const small = decode(plotOf(series, { width: 400, height: 260 }))
  assert.deepEqual([small.width, small.height], [400, 260])
  assert.throws(() => renderCurvePng(plotOf(series, { width: 50, height: 40 })), RangeError)
  const odd = plotOf([{ ...series[0], points: [[0, 0.5], [1234.5, 0.7]] }], { width: 501, height: 301, rightLabel: undefined })
  const L = plotArea(odd), image = decode(odd)
  assert.ok([L.x0, L.x1, L.y0, L.y1].every(Number.isInteger), 'the plot rectangle sits on whole pixels')
  for (let i = 3; i < image.data.length; i += 4) assert.equal(image.data[i], 255, 'every pixel opaque')
})

test('a horizontal line lands on the row its axis maps it to, on the left and on the right axis', () => {
  const plot = plotOf([
    { name: 'train loss', points: line(1.5), color: BLUE, axis: 'left' },
    { name: 'pseudo Dice', points: [[0, 0.25], [10, 0.25]], color: GREEN, axis: 'right' },
  ], { leftRange: [0, 2] })
  const { layout: L, legend } = renderCurve(plot), img = decode(plot), r = legend!
  const inLegend = (rgb: Rgb, y0: number, y1: number) => count(img, rgb, r.x, Math.max(y0, r.y), r.x + r.w, Math.min(y1, r.y + r.h))
  for (const [rgb, row] of [[BLUE, Math.round(L.py(1.5, 'left'))], [GREEN, Math.round(L.py(0.25, 'right'))]] as [Rgb, number][]) {
    const from = Math.ceil(L.px(0)) + 1, to = Math.floor(L.px(10)) - 1
    for (let x = from; x <= to; x++) assert.ok(isColor(img, x, row, rgb), `${rgb} at (${x}, ${row})`)
    assert.equal(count(img, rgb, 0, 0, img.width, row - 2) - inLegend(rgb, 0, row - 2), 0, 'nothing above the line but the legend')
    assert.equal(count(img, rgb, 0, row + 3, img.width, img.height) - inLegend(rgb, row + 3, img.height), 0, 'nothing below it')
  }
  assert.ok(Math.abs(L.py(0.25, 'right') - (L.y1 - 0.25 * (L.y1 - L.y0))) < 1e-9)
})

test('the layout keeps the plot inside the image, with axes fitted to the data', () => {
  const L = plotArea(plotOf([{ name: 'loss', points: [[1, 0.07], [50, 1.3]], color: BLUE, axis: 'left' }]))
  assert.ok(L.x0 > 0 && L.y0 > 0 && L.x1 < L.width - 1 && L.y1 < L.height - 1 && L.x1 - L.x0 > 500 && L.y1 - L.y0 > 300)
  assert.deepEqual([L.x.min, L.x.max], [0, 50])
  assert.deepEqual([L.left.min, L.left.max], [0, 1.4])
  assert.deepEqual([L.right?.min, L.right?.max], [0, 1], 'the metric axis spans 0..1')
  assert.deepEqual(L.left.labels.slice(0, 3), ['0.0', '0.2', '0.4'])
  assert.deepEqual(L.x.labels.slice(0, 3), ['0', '5', '10'])
  assert.equal(L.px(0), L.x0)
  assert.equal(L.px(50), L.x1)
  assert.equal(L.py(0, 'left'), L.y1)
  assert.equal(L.py(1.4, 'left'), L.y0)
})

test('a NaN point breaks the line: no pixels of its colour across the gap', () => {
  const points = line(0.5)
  points[5] = [5, NaN]
  const plot = plotOf([{ name: 'val loss', points, color: RED, axis: 'left' }], { leftRange: [0, 1] })
  const L = plotArea(plot), img = decode(plot)
  assert.equal(count(img, RED, Math.round(L.px(4)) + 2, L.y0, Math.round(L.px(6)) - 1, L.y1 + 1), 0)
  assert.ok(count(img, RED, L.x0, L.y0, Math.round(L.px(4)), L.y1) > 2 * (L.px(4) - L.x0) - 4, 'the line before the gap')
  assert.ok(count(img, RED, Math.round(L.px(6)) + 1, L.y0, L.x1, L.y1) > 2 * (L.x1 - L.px(6)) - 4, 'the line after the gap')
})

test('points outside a fixed range are clipped to the plot rectangle', () => {
  const plot = plotOf([{ name: 'loss', points: [[0, 0.5], [5, 3], [10, -2]], color: RED, axis: 'left' }], { leftRange: [0, 1] })
  const L = plotArea(plot), img = decode(plot)
  const total = count(img, RED), inside = count(img, RED, L.x0, L.y0, L.x1 + 1, L.y1 + 1)
  assert.ok(total > 100)
  assert.equal(inside, total, 'no colour outside the plot')
  assert.ok(count(img, RED, L.x0, L.y0, L.x1, L.y0 + 3) > 0, 'the line runs to the top edge')
})

test('lines are continuous: every column between the ends is painted, also when steep', () => {
  // (the frame is drawn over the curves, so where a curve runs along its top edge one row of it shows)
  const plot = plotOf([{ name: 'loss', points: [[0, 0], [1, 1], [10, 0.9]], color: BLUE, axis: 'left' }], { leftRange: [0, 1] })
  const L = plotArea(plot), img = decode(plot)
  for (let x = Math.round(L.px(0)) + 1; x < Math.round(L.px(10)); x++) assert.ok(count(img, BLUE, x, 0, x + 1, img.height) >= 1, `column ${x}`)
  const x1 = Math.round(L.px(1))
  for (let y = Math.round(L.py(0.95, 'left')); y < Math.round(L.py(0.05, 'left')); y++) {
    assert.ok(count(img, BLUE, 0, y, x1 + 2, y + 1) >= 2, `row ${y} of the steep part`)
  }
})

test('a dashed line paints fewer pixels than a solid one; an isolated point still shows', () => {
  const solid = decode(plotOf([{ name: 'a', points: line(0.5), color: GREEN, axis: 'right' }]))
  const dashed = decode(plotOf([{ name: 'a', points: line(0.5), color: GREEN, axis: 'right', dashed: true }]))
  const [s, d] = [count(solid, GREEN), count(dashed, GREEN)]
  assert.ok(d < 0.8 * s && d > 0.4 * s, `${d} of ${s}`)
  const lone = plotOf([{ name: 'b', points: [[0, 0.1], [1, NaN], [2, 0.5], [3, NaN], [4, 0.9]], color: RED, axis: 'left' }], { leftRange: [0, 1] })
  const L = plotArea(lone), img = decode(lone)
  const x = Math.round(L.px(2)), y = Math.round(L.py(0.5, 'left'))
  assert.ok(isColor(img, x, y, RED))
})

test('the legend shows each series name in text and its colour', () => {
  const series: CurveSeries[] = [
    { name: 'train loss', points: line(0.8), color: BLUE, axis: 'left' },
    { name: 'pseudo Dice (EMA)', points: line(0.2), color: GREEN, axis: 'right', dashed: true },
  ]
  const plot = plotOf(series)
  const { legend, layout: L } = renderCurve(plot)
  assert.ok(legend)
  const img = decode(plot), r = legend
  assert.ok(r.x >= L.x0 && r.y >= L.y0 && r.x + r.w <= L.x1 && r.y + r.h <= L.y1, 'inside the plot')
  const text = count(img, INK, r.x, r.y, r.x + r.w, r.y + r.h)
  const expected = series.reduce((n, s) => n + textPixels(s.name).length * L.scale ** 2, 0)
  assert.equal(text, expected, 'every ink pixel of both names')
  for (const s of series) assert.ok(count(img, s.color, r.x, r.y, r.x + r.w, r.y + r.h) > 20, `${s.name} swatch`)
  const lineRow = Math.round(L.py(0.8, 'left'))
  assert.ok(lineRow < r.y || lineRow > r.y + r.h + 1, 'the legend does not hide the line')
})

test('an empty series list still renders axes, tick labels, titles and no legend', () => {
  const plot = plotOf([])
  const { legend, layout: L } = renderCurve(plot)
  assert.equal(legend, undefined)
  const img = decode(plot)
  assert.equal(L.x.ticks.length > 2 && L.left.ticks.length > 2, true)
  const frame: Rgb = [150, 150, 150]
  for (let y = L.y0; y <= L.y1; y++) assert.ok(isColor(img, L.x0, y, frame) && isColor(img, L.x1, y, frame))
  for (let x = L.x0; x <= L.x1; x++) assert.ok(isColor(img, x, L.y0, frame) && isColor(img, x, L.y1, frame))
  assert.ok(count(img, INK, 0, L.y0, L.x0 - 6, L.y1 + 10) > 100, 'left tick labels and title')
  assert.ok(count(img, INK, L.x1 + 7, L.y0, img.width, L.y1 + 10) > 100, 'right tick labels and title')
  assert.ok(count(img, INK, L.x0 - 20, L.y1 + 7, L.x1 + 20, img.height) > 100, 'x tick labels and title')
  assert.ok(count(img, INK, 0, 0, img.width, L.y0) > 100, 'the title')
  for (const t of L.left.ticks) assert.ok(isColor(img, L.x0 - 3, Math.round(L.py(t, 'left')), INK), `tick mark at ${t}`)
})

test('a curve of 300 000 points renders', () => {
  const points = Array.from({ length: 300_000 }, (_, i): [number, number] => [i, 1 / (1 + i / 1000)])
  const L = plotArea(plotOf([{ name: 'loss per iteration', points, color: BLUE, axis: 'left' }]))
  assert.deepEqual([L.x.max, L.left.max], [300_000, 1])
  assert.equal(decode(plotOf([{ name: 'loss per iteration', points, color: BLUE, axis: 'left' }])).width, 900)
})

test('a log left axis puts decades at even spacing', () => {
  const plot = plotOf([{ name: 'loss', points: [[0, 2], [5, 0.05], [10, 0.002]], color: BLUE, axis: 'left' }], { leftLog: true })
  const L = plotArea(plot)
  assert.deepEqual([L.left.min, L.left.max], [0.001, 10])
  assert.ok(L.left.ticks.includes(0.01) && L.left.ticks.includes(1))
  const gap = L.py(0.01, 'left') - L.py(0.1, 'left')
  assert.ok(Math.abs(L.py(0.1, 'left') - L.py(1, 'left') - gap) < 1e-9)
  assert.equal(decode(plot).width, 900)
})

test('the font covers printable ASCII; glyphs stay inside their cell', () => {
  for (let code = 32; code < 127; code++) assert.ok(FONT_CHARS.includes(String.fromCharCode(code)), `char ${code}`)
  assert.equal(FONT_CHARS.length, 95)
  for (const ch of FONT_CHARS) {
    const w = textWidth(ch), ink = textPixels(ch)
    assert.ok(w > 0, ch)
    assert.ok(ch === ' ' || ink.length > 0, ch)
    for (const [x, y] of ink) assert.ok(x >= 0 && x < w && y >= 0 && y < FONT_HEIGHT, `${ch} pixel ${x},${y}`)
    if (/[A-Z0-9]/.test(ch)) assert.ok(ink.every(([, y]) => y < CAP_HEIGHT), `${ch} sits on the baseline`)
  }
  assert.equal(textWidth('ab'), textWidth('a') + 1 + textWidth('b'))
  assert.deepEqual(textPixels('\u00e9'), textPixels('?'))
})
