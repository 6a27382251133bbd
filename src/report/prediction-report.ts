/**
 * report.html of `nodal predict`: one self-contained page per case (inline CSS, PNG thumbnails as data
 * URIs, no script, nothing fetched) with the case and model, the warnings, a table of the nodes and,
 * per node, an axial and a coronal slice through its centre with its outline.
 *
 * Thumbnails are sampled on planes in patient space (src/phantom/preview.ts), never by voxel order, so
 * they come out in radiological orientation whatever the scan's direction cosines (LPS, RAS, flipped,
 * permuted, oblique): axial with the patient's right on the image's left and anterior at the top,
 * coronal with the patient's right on the left and superior at the top.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PNG } from 'pngjs'
import { outputClasses } from '../bundle/index.js'
import type { PredictedNode } from '../infer/nodes.js'
import { REPORT_HTML, type CaseOutput, type CaseWriter } from '../infer/outputs.js'
import { sampleSlice, type Plane } from '../phantom/preview.js'
import type { Vec3, Volume } from '../volume/volume.js'
import { escapeXml } from './svg.js'
import { pngDataUri } from './thumbnail.js'

import { BENIGN_COLOUR, MALIGNANT_COLOUR, OTHER_COLOUR, type Rgb } from '../colours.js'

export { BENIGN_COLOUR, MALIGNANT_COLOUR, OTHER_COLOUR, type Rgb }

/** Field of view of a thumbnail (mm), widened for nodes that would not fit. */
const FIELD_MM = 60
/** Thumbnails are enlarged (nearest neighbour, whole multiples) to at least this many pixels across. */
const TARGET_PX = 200
/** Pixels across before enlarging, at most (fine scans are sampled more coarsely). */
const MAX_SAMPLES = 200
/** Nodes with thumbnails, highest score first; the table lists them all. */
const MAX_THUMBNAILS = 60

export function classColour(className: string): Rgb {
  return /malignan|gtv/i.test(className) ? MALIGNANT_COLOUR : /benign/i.test(className) ? BENIGN_COLOUR : OTHER_COLOUR
}

export const writePredictionReport: CaseWriter = async (tmpDir, c) => {
  writeFileSync(join(tmpDir, REPORT_HTML), predictionReportHtml(c))
}

/** Patient directions (LPS unit vectors) of a view's image x (rightwards) and y (downwards). */
export const VIEWS = {
  axial: { u: [1, 0, 0] as Vec3, v: [0, 1, 0] as Vec3, edges: ['R', 'L', 'A', 'P'] },
  coronal: { u: [1, 0, 0] as Vec3, v: [0, 0, -1] as Vec3, edges: ['R', 'L', 'S', 'I'] },
} as const
export type View = keyof typeof VIEWS

export interface ThumbnailOptions {
  /** Window (lo, hi) of the grey values; default: CT soft tissue (W 400 / L 40) when ct, else min-max of the slice. */
  ct: boolean
  /** Field of view, mm (default 60, widened to fit the node). */
  fieldMm?: number
  /** A map in [0, 1] (stage 2's class activation) blended over the image, dark red to yellow. */
  heat?: Volume | null
}

/**
 * A PNG of one view through a node's centre: `image` (or dark grey without one) in the window, and the
 * outline of every node in the field (instance ids of `instances`) in its class colour.
 */
export function nodeThumbnail(image: Volume | null, instances: Volume, nodes: PredictedNode[], node: PredictedNode, view: View, o: ThumbnailOptions): Buffer {
  const field = o.fieldMm ?? Math.max(FIELD_MM, 1.4 * node.long_axis_mm + 10)
  const grid = image ?? instances
  const pixel = Math.max(Math.min(...grid.spacing), field / MAX_SAMPLES)
  const size = Math.round(field / pixel)
  const plane: Plane = { u: [...VIEWS[view].u], v: [...VIEWS[view].v], pixel, width: size, height: size, centre: [...node.centre_mm] }
  const grey = image ? sampleSlice(image, plane, true) : null
  const ids = sampleSlice(instances, plane, false)
  const heat = o.heat ? sampleSlice(o.heat, plane, true) : null
  let lo = 40 - 200, hi = 40 + 200
  if (grey && !o.ct) {
    lo = Infinity; hi = -Infinity
    for (const g of grey) { if (g < lo) lo = g; if (g > hi) hi = g }
    if (!(hi > lo)) hi = lo + 1
  }
  const colourOf = new Map(nodes.map((n) => [n.id, classColour(n.class)]))
  const f = Math.max(1, Math.ceil(TARGET_PX / size))
  const width = size * f, height = size * f
  const idAt = (x: number, y: number) => (x < 0 || y < 0 || x >= width || y >= height ? 0 : ids[Math.floor(x / f) + size * Math.floor(y / f)]!)
  const png = new PNG({ width, height })
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const id = idAt(x, y)
      const edge = id !== 0 && (idAt(x - 1, y) !== id || idAt(x + 1, y) !== id || idAt(x, y - 1) !== id || idAt(x, y + 1) !== id)
      let rgb: Rgb
      if (edge) rgb = colourOf.get(id) ?? OTHER_COLOUR
      else if (grey) {
        const g = Math.round((255 * (grey[Math.floor(x / f) + size * Math.floor(y / f)]! - lo)) / (hi - lo))
        const c = g < 0 ? 0 : g > 255 ? 255 : g
        rgb = [c, c, c]
      } else rgb = [40, 40, 40]
      if (heat && !edge) rgb = blendHeat(rgb, heat[Math.floor(x / f) + size * Math.floor(y / f)]!)
      const p = 4 * (x + width * y)
      png.data[p] = rgb[0]; png.data[p + 1] = rgb[1]; png.data[p + 2] = rgb[2]; png.data[p + 3] = 255
    }
  }
  return PNG.sync.write(png)
}

/** Heat h in [0, 1] over a grey pixel: transparent below 0.2, then dark red to yellow, up to 60% opaque. */
function blendHeat(rgb: Rgb, h: number): Rgb {
  if (!(h > 0.2)) return rgb
  const t = (h - 0.2) / 0.8
  const heat: Rgb = [255, Math.round(255 * t), 0]
  const a = 0.25 + 0.35 * t
  return rgb.map((c, i) => Math.round(c * (1 - a) + heat[i]! * a)) as Rgb
}

/** True when channel 0 is a CT in HU (the model normalises it as CT, or the scan says so). */
function isCt(c: CaseOutput): boolean {
  return c.model.channels?.[0]?.normalization?.scheme === 'ct' || String(c.image?.meta.modality ?? '').toUpperCase() === 'CT'
}

export function predictionReportHtml(c: CaseOutput, now = new Date()): string {
  const r = c.result
  const m = c.model
  const folds = m.folds.map((f) => f.fold).join(', ')
  const info: [string, string][] = [
    ['case', c.caseName],
    ['input', c.input],
    ['model', `${m.name} (target ${m.target}; fold${m.folds.length === 1 ? '' : 's'} ${folds})`],
    ['classes', outputClasses(m).filter((k) => k.index > 0).map((k) => `${k.index} ${k.name}${k.dataset_labels?.length ? ` (dataset label${k.dataset_labels.length === 1 ? '' : 's'} ${k.dataset_labels.join(', ')})` : ''}`).join('; ')],
    ['predicted', `${now.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} in ${c.seconds.toFixed(1)} s`],
  ]
  if (m.intended_use) info.push(['intended use', m.intended_use])
  const alerts = [...r.warnings]
  if (m.synthetic_training_data) alerts.push('this model learned from synthetic data only: not for clinical use')
  const sections = [
    `<h1>nodal predict: ${escapeXml(c.caseName)}</h1>`,
    alerts.length ? `<div class="warnings"><strong>Warning${alerts.length === 1 ? '' : 's'}</strong><ul>${alerts.map((w) => `<li>${escapeXml(w)}</li>`).join('')}</ul></div>` : '',
    table(['', ''], info, true),
    `<h2>Nodes</h2>`,
    r.nodes.length === 0 ? '<p class="none">No nodes found.</p>' : nodeTable(r.nodes),
    r.nodes.length ? thumbnails(c) : '',
  ]
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nodal predict: ${escapeXml(c.caseName)}</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child, table.info td { text-align: left; }
table.info td:first-child { font-weight: bold; }
.warnings { background: #fff3cd; border: 2px solid #e0a800; padding: 8px 16px; margin: 12px 0; }
.warnings ul { margin: 4px 0; }
.none { font-size: 18px; font-weight: bold; }
.nodes { display: flex; flex-wrap: wrap; gap: 20px; }
figure { margin: 0; font-size: 12px; }
.pair { display: flex; gap: 6px; }
.view { position: relative; line-height: 0; }
.view span { position: absolute; color: #ff0; font: bold 12px sans-serif; line-height: 1; text-shadow: 0 0 2px #000; }
.view .l { left: 3px; top: 50%; } .view .r { right: 3px; top: 50%; }
.view .t { top: 3px; left: 50%; } .view .b { bottom: 3px; left: 50%; }
.swatch { display: inline-block; width: 10px; height: 10px; margin: 0 3px 0 10px; }
</style></head><body>
${sections.filter((s) => s).join('\n')}
</body></html>
`
}

function fmt(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v.toFixed(digits)).toString()
}

function table(header: string[], rows: string[][], info = false): string {
  const head = info ? '' : `<tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr>`
  return `<table${info ? ' class="info"' : ''}>${head}${rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeXml(cell)}</td>`).join('')}</tr>`).join('')}</table>`
}

function nodeTable(nodes: PredictedNode[]): string {
  const stations = nodes.some((n) => n.station)
  const staged = nodes.some((n) => n.stage2)
  const header = ['id', 'class', ...(staged ? ['P(node)', 'P(malignant | node)'] : []), 'score mean', 'score max', 'short axis mm', 'long axis mm', 'volume ml', 'centre LPS mm', 'mean HU', 'SUVmax', 'entropy', 'disagreement', ...(stations ? ['station'] : [])]
  const rows = nodes.map((n) => [
    String(n.id), n.class, ...(staged ? [fmt(n.probability_node, 3), fmt(n.probability_malignant, 3)] : []), fmt(n.score_mean, 3), fmt(n.score_max, 3), fmt(n.short_axis_mm, 1), fmt(n.long_axis_mm, 1), fmt(n.volume_ml, 3),
    n.centre_mm.map((x) => fmt(x, 1)).join(', '), fmt(n.mean_hu, 0), fmt(n.suv_max, 1), fmt(n.entropy, 3), fmt(n.disagreement, 4),
    ...(stations ? [n.station ?? '–'] : []),
  ])
  return table(header, rows)
}

function thumbnails(c: CaseOutput): string {
  const r = c.result
  const shown = [...r.nodes].sort((a, b) => b.score_max - a.score_max || a.id - b.id).slice(0, MAX_THUMBNAILS).sort((a, b) => a.id - b.id)
  const ct = isCt(c)
  const image = c.image ?? null
  const figures = shown.map((n) => {
    const panels: [View, Volume | null][] = [['axial', null], ['coronal', null], ...(r.cam ? [['axial', r.cam] as [View, Volume]] : [])]
    const views = panels.map(([view, heat]) => {
      const [l, rt, t, b] = VIEWS[view].edges
      const png = nodeThumbnail(image, r.instances, r.nodes, n, view, { ct, heat })
      const kind = heat ? `${view}-cam` : view
      return `<div class="view"><img src="${pngDataUri(png)}" alt="node ${n.id} ${kind}" data-node="${n.id}" data-view="${kind}">` +
        `<span class="l">${l}</span><span class="r">${rt}</span><span class="t">${t}</span><span class="b">${b}</span></div>`
    })
    const stage2 = n.stage2 ? `, P(node) ${fmt(n.probability_node, 2)}, P(malignant | node) ${fmt(n.probability_malignant, 2)}` : ''
    const caption = `node ${n.id}: ${n.class}${stage2}, score ${fmt(n.score_max, 3)}, short axis ${fmt(n.short_axis_mm, 1)} mm, ${fmt(n.volume_ml, 3)} ml`
    return `<figure><div class="pair">${views.join('')}</div><figcaption>${escapeXml(caption)}</figcaption></figure>`
  })
  const window = !image ? 'no image (outlines only)' : ct ? 'CT soft-tissue window (W 400 / L 40 HU)' : 'min-max window'
  const legend = [['malignant', MALIGNANT_COLOUR], ['benign', BENIGN_COLOUR], ['other', OTHER_COLOUR]] as const
  const more = r.nodes.length > shown.length ? ` Thumbnails of the ${shown.length} highest-scoring of ${r.nodes.length} nodes.` : ''
  return `<h2>Thumbnails</h2><p>Axial and coronal slices through each node's centre, ${FIELD_MM} mm field or more, ${window}, ` +
    `radiological orientation (patient's right on the image's left; anterior / superior at the top).${more}` +
    (r.cam ? ' The third view shows where stage 2 looked for its decision (class-activation map, dark red to yellow).' : '') + ' Outlines:' +
    legend.map(([name, [cr, cg, cb]]) => `<span class="swatch" style="background: rgb(${cr}, ${cg}, ${cb})"></span>${name}`).join('') +
    `</p><div class="nodes">${figures.join('')}</div>`
}
