/**
 * Previews of synthetic nodes inserted into the real CTs of ../shared/data/ct, to check by eye that
 * every node sits where nodes sit (chest: mediastinum, hila, supraclavicular fossae, axillae;
 * abdomen: retroperitoneum). For each scan, one case (seed 4, as `nodal phantom --insert-into`
 * makes it) is drawn as a coronal overview and an axial slice through each node (up to 5): soft
 * tissue window, radiological orientation (patient's right on the left, anterior up), the
 * detector's station regions tinted by region, node outlines green (benign) or red (malignant)
 * with their station written beside them. Writes docs/insertion/<scan>.png and summary.json, and
 * prints per scan the nodes, their stations and the times.
 *
 *   npx tsc -p . && node dist/bench/insertion-previews.js [out folder, default docs/insertion]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PNG } from 'pngjs'
import { readVolume } from '../src/io/index.js'
import { REGION_STATIONS, RegionName, STATION_NAMES } from '../src/phantom/host-anatomy/index.js'
import { InsertedCase, insertPrepared, prepareInsertion } from '../src/phantom/insert.js'
import { CLASS_COLOURS, Plane, sampleSlice } from '../src/phantom/preview.js'
import { FONT_HEIGHT, textPixels, textWidth } from '../src/report/font.js'
import { scaledAxes, Vec3, Volume } from '../src/volume/volume.js'

const SCANS: { file: string; site: string }[] = [
  { file: 'chest_ct_lidc0001.nii.gz', site: 'chest' },
  { file: 'chest_ct_lidc0002.nii.gz', site: 'chest' },
  { file: 'chest_ct_lidc0314.nii.gz', site: 'chest' },
  { file: 'chest_ct_1p5mm.nii.gz', site: 'chest' },
  { file: 'abdomen_ct_3mm.nii.gz', site: 'abdomen' },
]
const SEED = 4
/** Pixel size (mm): 1.6, or finer for a small field of view so that panels are at least 250 pixels across. */
const MAX_PIXEL_MM = 1.6, MIN_PANEL_PX = 250
const MAX_AXIAL = 5
type Rgb = [number, number, number]
const REGION_TINT: Record<RegionName, Rgb> = {
  mediastinum: [70, 130, 255], hila: [0, 220, 220], 'supraclavicular fossae': [230, 80, 230], axillae: [255, 160, 40], retroperitoneum: [240, 220, 60],
}

const LEGEND = 'tint: stations found in mediastinum (blue), hila (cyan), supraclavicular fossae (magenta), axillae (orange), retroperitoneum (yellow); outlines: benign green, malignant red'

interface Image { width: number; height: number; rgb: Uint8Array }

const out = process.argv[2] ?? 'docs/insertion'
mkdirSync(out, { recursive: true })
const summary: Record<string, unknown> = {}
for (const scan of SCANS) {
  const path = join('..', 'shared', 'data', 'ct', scan.file)
  if (!existsSync(path)) { console.log(`${scan.file}: not found, skipped`); continue }
  const host = await readVolume(path)
  const t0 = performance.now()
  const prepared = prepareInsertion(host, [], scan.site, path)
  const t1 = performance.now()
  const c = insertPrepared(prepared, SEED, 0)
  const t2 = performance.now()
  const name = scan.file.replace(/\.nii\.gz$/, '')
  const nodes = Object.entries(c.nodes).map(([id, n]) => ({ id: Number(id), class: n.class, station: n.station, centre_mm: n.centre_mm.map((x) => Math.round(x * 10) / 10), short_axis_mm: Math.round(n.short_axis_mm * 10) / 10 }))
  summary[name] = { site: scan.site, seed: SEED, host_analysis_s: round2((t1 - t0) / 1000), case_s: round2((t2 - t1) / 1000), nodes, anatomy: c.placement.anatomy, regions_missing: c.placement.regions_missing }
  console.log(`${name} (${scan.site}): host analysis ${((t1 - t0) / 1000).toFixed(1)} s, case ${((t2 - t1) / 1000).toFixed(1)} s, ${nodes.length} nodes`)
  for (const n of nodes) console.log(`  #${n.id} ${n.class} ${n.station} at ${n.centre_mm.join(', ')} mm, short axis ${n.short_axis_mm} mm`)
  const stations = prepared.anatomy.grid.volume.withData(regionOfStation(prepared.anatomy.stationMap))
  const png = render(name, scan.site, c, stations)
  writeFileSync(join(out, `${name}.png`), png)
  console.log(`  wrote ${join(out, `${name}.png`)} (${Math.round(png.length / 1024)} KB)`)
}
writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 1) + '\n')

/** Station map -> region number (1 + index in REGION_STATIONS), for tinting. */
function regionOfStation(map: Uint8Array): Uint8Array {
  const regions = Object.keys(REGION_STATIONS) as RegionName[]
  const lookup = Uint8Array.from([0, ...STATION_NAMES.map((s) => 1 + regions.findIndex((r) => (REGION_STATIONS[r] as readonly string[]).includes(s)))])
  return Uint8Array.from(map, (s) => lookup[s])
}

function render(name: string, site: string, c: InsertedCase, stations: Volume): Buffer {
  const nodes = Object.entries(c.nodes).sort((a, b) => Number(a[0]) - Number(b[0]))
  const focus = nodes.length > 0 ? mean(nodes.map(([, n]) => n.centre_mm)) : c.image.indexToWorld(c.image.shape[0] / 2, c.image.shape[1] / 2, c.image.shape[2] / 2)
  const panels: Image[] = [panel(c, stations, 'coronal', focus, `coronal y ${focus[1].toFixed(0)} mm`)]
  for (const [id, n] of nodes.slice(0, MAX_AXIAL)) panels.push(panel(c, stations, 'axial', n.centre_mm, `#${id} ${n.station}: axial z ${n.centre_mm[2].toFixed(0)} mm`))
  const contrast = c.placement.anatomy.contrast.enhanced ? 'contrast' : 'no contrast'
  const title = `${name}  site ${site}  seed ${SEED}  ${contrast}  ${nodes.length} nodes: ${nodes.map(([id, n]) => `#${id} ${n.station}`).join(', ')}`
  return compose(panels, [title, LEGEND])
}

function panel(c: InsertedCase, stations: Volume, view: 'axial' | 'coronal', focus: Vec3, caption: string): Image {
  const extent = worldExtent(c.image)
  const [u, v, w, h]: [Vec3, Vec3, number, number] = view === 'axial' ? [[1, 0, 0], [0, 1, 0], extent.size[0], extent.size[1]] : [[1, 0, 0], [0, 0, -1], extent.size[0], extent.size[2]]
  const centre: Vec3 = [...extent.centre]
  if (view === 'axial') centre[2] = focus[2]
  else centre[1] = focus[1]
  const pixel = Math.min(MAX_PIXEL_MM, Math.max(...extent.size) / MIN_PANEL_PX)
  const plane: Plane = { u, v, pixel, width: Math.round(w / pixel), height: Math.round(h / pixel), centre }
  const grey = sampleSlice(c.image, plane, true)
  const labels = sampleSlice(c.instances, plane, false)
  const tint = sampleSlice(stations, plane, false)
  const img: Image = { width: plane.width, height: plane.height, rgb: new Uint8Array(plane.width * plane.height * 3) }
  const tints = Object.values(REGION_TINT)
  for (let p = 0; p < plane.width * plane.height; p++) {
    const g = Math.max(0, Math.min(255, Math.round(((grey[p] + 160) / 400) * 255)))
    const t = tint[p] ? tints[tint[p] - 1] : null
    for (let ch = 0; ch < 3; ch++) img.rgb[p * 3 + ch] = t ? Math.round(0.75 * g + 0.25 * t[ch]) : g
  }
  outlineNodes(img, labels, c)
  labelNodes(img, plane, c, view)
  drawText(img, caption, 4, 4, [255, 255, 255])
  return img
}

function outlineNodes(img: Image, labels: Float32Array, c: InsertedCase): void {
  const { width, height } = img
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const id = labels[x + width * y]
      if (!id) continue
      const edge = x === 0 || y === 0 || x === width - 1 || y === height - 1 ||
        labels[x - 1 + width * y] !== id || labels[x + 1 + width * y] !== id || labels[x + width * (y - 1)] !== id || labels[x + width * (y + 1)] !== id
      if (edge) img.rgb.set(CLASS_COLOURS[c.nodes[String(id)]?.class === 'benign' ? 1 : 2], (x + width * y) * 3)
    }
  }
}

/** The station of every node near the plane, beside it (a node away from a coronal plane gets a small cross). */
function labelNodes(img: Image, plane: Plane, c: InsertedCase, view: 'axial' | 'coronal'): void {
  const start = [0, 1, 2].map((d) => plane.centre[d] - plane.u[d] * plane.pixel * (plane.width - 1) / 2 - plane.v[d] * plane.pixel * (plane.height - 1) / 2)
  const normal = view === 'axial' ? 2 : 1
  for (const [id, n] of Object.entries(c.nodes)) {
    const p = n.centre_mm
    const off = [0, 1, 2].map((d) => p[d] - start[d])
    const x = Math.round((off[0] * plane.u[0] + off[1] * plane.u[1] + off[2] * plane.u[2]) / plane.pixel)
    const y = Math.round((off[0] * plane.v[0] + off[1] * plane.v[1] + off[2] * plane.v[2]) / plane.pixel)
    const away = Math.abs(p[normal] - plane.centre[normal])
    if (away > n.long_axis_mm / 2 + 2) {
      if (view === 'axial') continue
      for (let d = -3; d <= 3; d++) { setPixel(img, x + d, y, [255, 255, 0]); setPixel(img, x, y + d, [255, 255, 0]) }
    }
    const colour: Rgb = n.class === 'benign' ? [120, 255, 120] : [255, 110, 110]
    drawText(img, `${id}:${n.station}`, x + Math.round(n.long_axis_mm / plane.pixel / 2) + 3, y - FONT_HEIGHT, colour)
  }
}

function drawText(img: Image, text: string, x0: number, y0: number, colour: Rgb): void {
  const ink = textPixels(text)
  for (const [x, y] of ink) for (const [dx, dy] of [[-1, 0], [1, 0], [0, -1], [0, 1]]) setPixel(img, x0 + x + dx, y0 + y + dy, [0, 0, 0])
  for (const [x, y] of ink) setPixel(img, x0 + x, y0 + y, colour)
}

function setPixel(img: Image, x: number, y: number, c: Rgb): void {
  if (x >= 0 && y >= 0 && x < img.width && y < img.height) img.rgb.set(c, (x + img.width * y) * 3)
}

/** Panels in rows of three under the title lines. */
function compose(panels: Image[], lines: string[]): Buffer {
  const cols = Math.min(3, panels.length), gap = 4
  const cellW = Math.max(...panels.map((p) => p.width)), cellH = Math.max(...panels.map((p) => p.height))
  const rows = Math.ceil(panels.length / cols)
  const top = lines.length * (FONT_HEIGHT + 4) + 6
  const width = Math.max(cols * cellW + (cols - 1) * gap, ...lines.map((l) => textWidth(l) + 8)), height = top + rows * cellH + (rows - 1) * gap
  const canvas: Image = { width, height, rgb: new Uint8Array(width * height * 3) }
  lines.forEach((line, n) => drawText(canvas, line, 4, 4 + n * (FONT_HEIGHT + 4), [255, 255, 255]))
  panels.forEach((p, n) => {
    const x0 = (n % cols) * (cellW + gap), y0 = top + Math.floor(n / cols) * (cellH + gap)
    for (let y = 0; y < p.height; y++) canvas.rgb.set(p.rgb.subarray(y * p.width * 3, (y + 1) * p.width * 3), ((y0 + y) * width + x0) * 3)
  })
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false })
  png.data = Buffer.from(canvas.rgb)
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, deflateLevel: 9 })
}

/** Centre and size (mm, along L, P, S) of the axis-aligned box around a volume. */
function worldExtent(vol: Volume): { centre: Vec3; size: Vec3 } {
  const a = scaledAxes(vol)
  const size = [0, 1, 2].map((r) => a.reduce((s, col, d) => s + Math.abs(col[r]) * vol.shape[d], 0)) as Vec3
  return { centre: vol.indexToWorld((vol.shape[0] - 1) / 2, (vol.shape[1] - 1) / 2, (vol.shape[2] - 1) / 2), size }
}

function mean(points: Vec3[]): Vec3 {
  return [0, 1, 2].map((d) => points.reduce((s, p) => s + p[d], 0) / points.length) as Vec3
}

function round2(x: number): number {
  return Math.round(x * 100) / 100
}
