import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PNG } from 'pngjs'
import { REPORT_HTML, writeCaseOutputs } from '../../src/infer/outputs.js'
import { BENIGN_COLOUR, MALIGNANT_COLOUR, predictionReportHtml, writePredictionReport } from '../../src/report/prediction-report.js'
import { Axes, indexToWorld, Vec3, Volume } from '../../src/volume/volume.js'
import { tempDir } from '../helpers.js'
import { BENIGN_MALIGNANT_CLASSES, fakeCase, fakeModel, fakeResult } from '../infer/fake-prediction.js'

/** The node's centre (LPS mm) and two markers: one right-anterior of it (axial), one right-superior (coronal). */
const CENTRE: Vec3 = [10, -20, 30]
const RIGHT_ANTERIOR: Vec3 = [CENTRE[0] - 15, CENTRE[1] - 15, CENTRE[2]]
const RIGHT_SUPERIOR: Vec3 = [CENTRE[0] - 15, CENTRE[1], CENTRE[2] + 12]
const HU_FAT = -100, HU_NODE = 40, HU_MARKER = 400

/** The same world content (a 12 mm node and two bright markers in fat) sampled on a grid with these axes. */
function scan(axes: Axes, spacing: Vec3, extentMm: Vec3, modality = 'CT'): { image: Volume; labels: Volume } {
  const shape = spacing.map((s, d) => Math.round(extentMm[d]! / s)) as Vec3
  let origin: Vec3 = [...CENTRE]
  for (let d = 0; d < 3; d++) for (let r = 0; r < 3; r++) origin[r] -= axes[d]![r]! * spacing[d]! * (shape[d]! - 1) / 2
  origin = origin.map((x) => x + 0.3) as Vec3 // voxel centres off the node centre, as in a real scan
  const n = shape[0] * shape[1] * shape[2]
  const image = new Volume(new Float32Array(n), shape, spacing, origin, axes, { modality })
  const labels = image.withData(new Uint8Array(n), {})
  const dist = (p: Vec3, c: Vec3) => Math.hypot(p[0] - c[0], p[1] - c[1], p[2] - c[2])
  let v = 0
  for (let k = 0; k < shape[2]; k++) for (let j = 0; j < shape[1]; j++) for (let i = 0; i < shape[0]; i++, v++) {
    const p = indexToWorld(image, [i, j, k])
    const inNode = dist(p, CENTRE) <= 6
    image.data[v] = inNode ? HU_NODE : dist(p, RIGHT_ANTERIOR) <= 5 || dist(p, RIGHT_SUPERIOR) <= 5 ? HU_MARKER : HU_FAT
    labels.data[v] = inNode ? 2 : 0 // malignant_node
  }
  return { image, labels }
}

const ORIENTATIONS: Array<[string, Axes, Vec3, Vec3]> = [
  ['LPS', [[1, 0, 0], [0, 1, 0], [0, 0, 1]], [1, 1, 2], [64, 64, 40]],
  ['RAS (x and y flipped)', [[-1, 0, 0], [0, -1, 0], [0, 0, 1]], [1, 1, 2], [64, 64, 40]],
  // a coronal stack: i runs anterior, j inferior, k to the patient's right
  ['AIR (axes permuted and flipped)', [[0, -1, 0], [0, 0, -1], [-1, 0, 0]], [1, 2, 1.5], [64, 40, 64]],
]

function images(html: string): Map<string, PNG> {
  const out = new Map<string, PNG>()
  for (const m of html.matchAll(/<img src="data:image\/png;base64,([^"]+)"[^>]*data-node="(\d+)" data-view="(\w+)"/g)) {
    out.set(`${m[2]}/${m[3]}`, PNG.sync.read(Buffer.from(m[1]!, 'base64')))
  }
  return out
}

/** Centroid (x, y) of the pixels for which `pick(r, g, b)` holds, and their count. */
function centroid(png: PNG, pick: (r: number, g: number, b: number) => boolean): { x: number; y: number; count: number } {
  let sx = 0, sy = 0, count = 0
  for (let y = 0; y < png.height; y++) for (let x = 0; x < png.width; x++) {
    const o = 4 * (x + png.width * y)
    if (pick(png.data[o]!, png.data[o + 1]!, png.data[o + 2]!)) { sx += x; sy += y; count++ }
  }
  return { x: sx / count, y: sy / count, count }
}

const bright = (r: number, g: number, b: number) => r >= 250 && g === r && b === r
const colour = ([cr, cg, cb]: number[]) => (r: number, g: number, b: number) => r === cr && g === cg && b === cb

for (const [what, axes, spacing, extent] of ORIENTATIONS) {
  test(`report thumbnails are in radiological orientation whatever the voxel order (${what})`, () => {
    const { image, labels } = scan(axes, spacing, extent)
    const result = fakeResult(labels, BENIGN_MALIGNANT_CLASSES, { image })
    assert.equal(result.nodes.length, 1)
    const html = predictionReportHtml(fakeCase('case_a', fakeModel(BENIGN_MALIGNANT_CLASSES), result, { image }))
    const pngs = images(html)
    assert.deepEqual([...pngs.keys()].sort(), ['1/axial', '1/coronal'])
    for (const view of ['axial', 'coronal']) {
      const png = pngs.get(`1/${view}`)!
      const marker = centroid(png, bright)
      assert.ok(marker.count > 50, `${view}: the marker shows (${marker.count} bright pixels)`)
      // right-anterior (axial) / right-superior (coronal) of the node: the image's left-top quadrant
      assert.ok(marker.x < png.width / 2 && marker.y < png.height / 2, `${view}: marker at (${marker.x.toFixed(0)}, ${marker.y.toFixed(0)}) of ${png.width}x${png.height}`)
      // 15 mm right and 15 mm anterior / 12 mm superior of the centre, in a 60 mm field
      assert.ok(Math.abs(marker.x / png.width - (0.5 - 15 / 60)) < 0.05, `${view}: marker x ${(marker.x / png.width).toFixed(3)}`)
      assert.ok(Math.abs(marker.y / png.height - (0.5 - (view === 'axial' ? 15 : 12) / 60)) < 0.05, `${view}: marker y ${(marker.y / png.height).toFixed(3)}`)
      // the node's outline, in the malignant colour, around the centre
      const outline = centroid(png, colour(MALIGNANT_COLOUR))
      assert.ok(outline.count > 20, `${view}: outline drawn (${outline.count} red pixels)`)
      assert.ok(Math.abs(outline.x - png.width / 2) < png.width * 0.05 && Math.abs(outline.y - png.height / 2) < png.height * 0.05, `${view}: outline centred`)
      assert.equal(centroid(png, colour(BENIGN_COLOUR)).count, 0)
    }
  })
}

test('report.html: header, warnings, node table values, self-contained; written by the case writer', async () => {
  const { image, labels } = scan(ORIENTATIONS[0]![1], [1, 1, 2], [64, 64, 40])
  const result = fakeResult(labels, BENIGN_MALIGNANT_CLASSES, { image, warnings: ['voxel spacing 9.00 mm on axis z is far outside the training data'] })
  const n = result.nodes[0]!
  const tmp = tempDir()
  try {
    const c = fakeCase('case_a', fakeModel(BENIGN_MALIGNANT_CLASSES), result, { image, formats: ['json', 'html'] })
    const dir = await writeCaseOutputs(tmp.path, c, [writePredictionReport])
    const html = readFileSync(join(dir, REPORT_HTML), 'utf8')
    assert.match(html, /<h1>nodal predict: case_a<\/h1>/)
    assert.match(html, /test-model \(target benign-malignant; fold 0\)/)
    assert.match(html, /class="warnings">.*voxel spacing 9\.00 mm on axis z/s)
    const row = [String(n.id), 'malignant_node', String(Number(n.score_mean.toFixed(3))), String(Number(n.score_max.toFixed(3))),
      String(Number(n.short_axis_mm.toFixed(1))), String(Number(n.long_axis_mm.toFixed(1))), String(Number(n.volume_ml.toFixed(3))),
      n.centre_mm.map((x) => String(Number(x.toFixed(1)))).join(', '), String(Number(n.mean_hu!.toFixed(0)))]
    assert.ok(html.includes(`<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}`), `row ${row.join(' | ')}`)
    assert.ok(Math.abs(n.mean_hu! - HU_NODE) < 1 && n.short_axis_mm > 10 && n.short_axis_mm < 13.5, `measured ${n.mean_hu} HU, ${n.short_axis_mm} mm`)
    assert.ok(!/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(html), 'nothing loaded from a network')
    assert.ok(!/<script/i.test(html))
  } finally {
    tmp.cleanup()
  }
})

test('report.html without nodes says so; without an image the outlines are drawn on grey', async () => {
  const { image, labels } = scan(ORIENTATIONS[0]![1], [1, 1, 2], [64, 64, 40])
  const empty = fakeResult(labels.withData(new Uint8Array(labels.data.length)), BENIGN_MALIGNANT_CLASSES, { image })
  const html = predictionReportHtml(fakeCase('empty', fakeModel(BENIGN_MALIGNANT_CLASSES), empty, { image }))
  assert.match(html, /no nodes found/i)
  assert.equal(images(html).size, 0)
  const noImage = predictionReportHtml(fakeCase('plain', fakeModel(BENIGN_MALIGNANT_CLASSES), fakeResult(labels, BENIGN_MALIGNANT_CLASSES)))
  const png = images(noImage).get('1/axial')!
  assert.ok(centroid(png, colour(MALIGNANT_COLOUR)).count > 20)
  assert.equal(centroid(png, bright).count, 0)
  // an MR-like scan gets a min-max window: the marker is the brightest thing, the fat the darkest
  const mr = scan(ORIENTATIONS[1]![1], [1, 1, 2], [64, 64, 40], 'MR')
  const mrHtml = predictionReportHtml(fakeCase('mr', fakeModel(BENIGN_MALIGNANT_CLASSES, 'zscore'), fakeResult(mr.labels, BENIGN_MALIGNANT_CLASSES), { image: mr.image }))
  const mrPng = images(mrHtml).get('1/axial')!
  const marker = centroid(mrPng, bright)
  assert.ok(marker.count > 50 && marker.x < mrPng.width / 2 && marker.y < mrPng.height / 2)
})
