/** Small SVG charts drawn as strings: no browser, no network, no dependency. */

export interface Series {
  name: string
  points: [number, number][]
  color: string
}

const W = 420, H = 300, L = 56, R = 16, T = 20, B = 44

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

interface Axis {
  min: number
  max: number
  log2?: boolean
  ticks: number[]
  label: string
  format?: (v: number) => string
}

function scale(axis: Axis, from: number, to: number): (v: number) => number {
  const f = axis.log2 ? Math.log2 : (v: number) => v
  const a = f(axis.min), b = f(axis.max)
  return (v) => from + ((f(v) - a) / (b - a || 1)) * (to - from)
}

function frame(title: string, x: Axis, y: Axis, body: (sx: (v: number) => number, sy: (v: number) => number) => string, legend: Series[] = []): string {
  const sx = scale(x, L, W - R), sy = scale(y, H - B, T)
  const fmt = (a: Axis, v: number) => (a.format ? a.format(v) : String(Number(v.toFixed(3))))
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="#fff" stroke="#888"/>`,
    ...x.ticks.map((v) => `<line x1="${sx(v)}" x2="${sx(v)}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${sx(v)}" y="${H - B + 14}" text-anchor="middle">${escapeXml(fmt(x, v))}</text>`),
    ...y.ticks.map((v) => `<line x1="${L}" x2="${W - R}" y1="${sy(v)}" y2="${sy(v)}" stroke="#eee"/><text x="${L - 4}" y="${sy(v) + 4}" text-anchor="end">${escapeXml(fmt(y, v))}</text>`),
    `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">${escapeXml(x.label)}</text>`,
    `<text transform="translate(14 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(y.label)}</text>`,
    body(sx, sy),
    ...legend.map((s, i) => `<rect x="${L + 8}" y="${T + 6 + i * 14}" width="10" height="10" fill="${s.color}"/><text x="${L + 22}" y="${T + 15 + i * 14}">${escapeXml(s.name)}</text>`),
    '</svg>',
  ]
  return parts.join('\n')
}

/** FROC curves: sensitivity against FP per scan on a log2 axis from 1/8 to 8. */
export function frocChart(series: Series[]): string {
  const x: Axis = { min: 1 / 8, max: 8, log2: true, ticks: [1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8], label: 'false positives per scan', format: (v) => (v < 1 ? `1/${1 / v}` : String(v)) }
  const y: Axis = { min: 0, max: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], label: 'sensitivity' }
  return frame('FROC', x, y, (sx, sy) => series.map((s) => {
    // a step curve: sensitivity rises only where FPs per scan do too; the last point holds to the right
    const clip = (fp: number) => Math.min(Math.max(fp, 1 / 8), 8)
    const d: string[] = []
    s.points.forEach(([fp, sens], i) => {
      if (i === 0) d.push(`M${sx(clip(fp)).toFixed(1)},${sy(sens).toFixed(1)}`)
      else d.push(`H${sx(clip(fp)).toFixed(1)}`, `V${sy(sens).toFixed(1)}`)
    })
    if (s.points.length) d.push(`H${sx(8).toFixed(1)}`)
    return `<path d="${d.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`
  }).join('\n'), series)
}

/** Grouped bars: one group per category, one bar per series; values in [0, 1], null drawn as absent. */
export function barChart(title: string, categories: string[], series: { name: string; values: (number | null)[]; color: string }[], yLabel: string): string {
  const x: Axis = { min: 0, max: categories.length, ticks: [], label: 'node short axis' }
  const y: Axis = { min: 0, max: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], label: yLabel }
  return frame(title, x, y, (sx, sy) => {
    const out: string[] = []
    const groupWidth = sx(1) - sx(0), barWidth = (groupWidth * 0.8) / Math.max(1, series.length)
    categories.forEach((c, i) => {
      out.push(`<text x="${sx(i + 0.5)}" y="${H - B + 14}" text-anchor="middle">${escapeXml(c)}</text>`)
      series.forEach((s, j) => {
        const v = s.values[i]
        if (v === null) return
        const x0 = sx(i) + groupWidth * 0.1 + j * barWidth
        out.push(`<rect x="${x0.toFixed(1)}" y="${sy(v).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(sy(0) - sy(v)).toFixed(1)}" fill="${s.color}"><title>${escapeXml(`${s.name} ${c}: ${v.toFixed(3)}`)}</title></rect>`)
        out.push(`<text x="${(x0 + barWidth / 2).toFixed(1)}" y="${(sy(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${v.toFixed(2)}</text>`)
      })
    })
    return out.join('\n')
  }, series.map((s) => ({ name: s.name, points: [], color: s.color })))
}

/**
 * Bland-Altman plot: for each case the mean of the two volumes against their difference
 * (prediction − truth), with the mean difference and its 95% limits of agreement (± 1.96 SD).
 * Reference: Bland & Altman, Lancet 1986.
 */
export function blandAltmanChart(title: string, pairs: { pred: number; gt: number; label: string }[]): string {
  const means = pairs.map((p) => (p.pred + p.gt) / 2), diffs = pairs.map((p) => p.pred - p.gt)
  const bias = diffs.reduce((s, v) => s + v, 0) / Math.max(1, diffs.length)
  const sd = Math.sqrt(diffs.reduce((s, v) => s + (v - bias) ** 2, 0) / Math.max(1, diffs.length - 1))
  const lines = [bias, bias - 1.96 * sd, bias + 1.96 * sd]
  const span = Math.max(1e-6, ...diffs.map(Math.abs), ...lines.map(Math.abs)) * 1.1
  const xmax = Math.max(1e-6, ...means) * 1.1
  const x: Axis = { min: 0, max: xmax, ticks: niceTicks(xmax), label: 'mean volume (mL)' }
  const y: Axis = { min: -span, max: span, ticks: niceTicks(span).flatMap((t) => (t ? [-t, t] : [0])), label: 'prediction − truth (mL)' }
  return frame(title, x, y, (sx, sy) => [
    ...lines.map((v, i) => `<line x1="${L}" x2="${W - R}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}" stroke="${i ? '#c44' : '#444'}" stroke-dasharray="${i ? '4 3' : ''}"/>`),
    ...pairs.map((p, i) => `<circle cx="${sx(means[i]).toFixed(1)}" cy="${sy(diffs[i]).toFixed(1)}" r="3" fill="#3366cc"><title>${escapeXml(`${p.label}: ${p.pred.toFixed(3)} vs ${p.gt.toFixed(3)} mL`)}</title></circle>`),
  ].join('\n'))
}

/** 0 and up to about five round steps (1, 2 or 5 × 10^n) up to max. */
function niceTicks(max: number): number[] {
  const raw = max / 4 || 1
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((v) => v >= raw)!
  const out: number[] = []
  for (let v = 0; v <= max + 1e-12; v += step) out.push(Number(v.toPrecision(6)))
  return out
}
