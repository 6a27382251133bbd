/**
 * nodal view in a real browser: Debian's chromium driven by playwright-core (never a downloaded
 * browser), WebGL2 through SwiftShader. A small phantom chest CT (cropped so the model runs in seconds)
 * is predicted by `nodal predict`, opened with its labels and nodes.json, and the page is checked:
 * the overlay is drawn where the labels are, a table row moves the crosshair to its node, a rejected
 * node is gone from the saved labels, and the model run in the page equals `nodal predict`'s result.
 * Opening data: a dropped NIfTI file, and a real 3-slice CT DICOM folder (samples/dicom/ct-3slice) both
 * through the page's "DICOM folder…" input and through a dropped folder's entry walk.
 * Skipped when /usr/bin/chromium is missing (scripts/setup.sh installs it).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { PNG } from 'pngjs'
import type { Browser, Page } from 'playwright-core'
import { readVolume, writeVolume } from '../../src/io/index.js'
import { rasterizeRoi, readRtstruct } from '../../src/io/rtstruct/read.js'
import { readSeg, segmentOnGrid } from '../../src/io/seg/read.js'
import { cropOrPad } from '../../src/volume/crop.js'
import { createViewServer, type ViewServer } from '../../src/view/server.js'
import { openSession } from '../../src/view/session.js'
import type { Vec3, Volume } from '../../src/volume/volume.js'
import { CLI, REPO, tempDir } from '../helpers.js'
import { dice } from '../rtstruct/scene.js'

export const CHROMIUM = '/usr/bin/chromium'
/** Headless chromium has no GPU: WebGL2 on SwiftShader. */
export const CHROMIUM_ARGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist']
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (Debian's chromium; scripts/setup.sh installs it)`

const tmp = tempDir('nodal-view-')
let browser: Browser
let server: ViewServer
let url = ''
let page: Page
let scanFile = '', predDir = ''
let labels: Volume, instances: Volume
let nodes: Record<string, { centre_mm: Vec3; class_index: number }>

function cli(args: string[]): string {
  const r = spawnSync('nice', ['-n', '19', process.execPath, CLI, ...args], { encoding: 'utf8', cwd: REPO })
  assert.equal(r.status, 0, `nodal ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

before(async () => {
  if (skip) return
  // scripts/setup.sh compiles with tsc only: bundle the page here when npm run build has not
  if (!existsSync(join(REPO, 'dist', 'src', 'view', 'app', 'worker.js'))) {
    const built = spawnSync(process.execPath, [join(REPO, 'scripts', 'build-viewer.mjs')], { encoding: 'utf8' })
    assert.equal(built.status, 0, `scripts/build-viewer.mjs: ${built.stderr}`)
  }
  // a phantom chest CT (seed 11) cropped to 64x64x32 voxels around two of its nodes
  cli(['phantom', '--site', 'chest', '--cases', '1', '--seed', '11', '--spacing', '2,2,3', '--out', join(tmp.path, 'phantom')])
  const full = await readVolume(join(tmp.path, 'phantom', 'imagesTr', 'chest_000_0000.nii.gz'))
  scanFile = join(tmp.path, 'crop.nii.gz')
  await writeVolume(cropOrPad(full, [64, 40, 48], [64, 64, 32]), scanFile)
  cli(['predict', scanFile, '--model', join(REPO, 'models', 'nodes_multi'), '--out', join(tmp.path, 'pred'), '--format', 'nifti,json', '--threads', '2'])
  predDir = join(tmp.path, 'pred', 'crop')
  labels = await readVolume(join(predDir, 'labels.nii.gz'))
  instances = await readVolume(join(predDir, 'instances.nii.gz'))
  nodes = JSON.parse(readFileSync(join(predDir, 'nodes.json'), 'utf8')).instances
  assert.ok(Object.keys(nodes).length >= 2, 'the crop holds at least two predicted nodes')
  const session = await openSession({ scan: scanFile, labels: join(predDir, 'labels.nii.gz'), nodes: join(predDir, 'nodes.json'), out: join(tmp.path, 'reviewed') })
  server = createViewServer({ session, modelDir: join(REPO, 'models', 'nodes_multi'), reviewer: 'browser-test', outRoot: tmp.path })
  url = await server.listen(0, '127.0.0.1')
  const { chromium } = await import('playwright-core')
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  page = await openPage()
})

after(async () => {
  await browser?.close()
  await server?.close()
  tmp.cleanup()
})

async function openPage(): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1300, height: 760 }, deviceScaleFactor: 1 })
  const errors: string[] = []
  p.on('pageerror', (e) => errors.push(e.message))
  await p.goto(url)
  await p.waitForFunction(() => (window as any).nodalView !== undefined)
  await p.evaluate(() => (window as any).nodalView.ready)
  assert.deepEqual(errors, [])
  return p
}

/** The RGB of the canvas around a canvas position (3x3 mean), from a screenshot. */
async function pixel(p: Page, at: number[]): Promise<number[]> {
  const png = PNG.sync.read(await p.locator('#gl').screenshot())
  const sum = [0, 0, 0]
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
    const o = ((Math.round(at[1]!) + dy) * png.width + Math.round(at[0]!) + dx) * 4
    for (let c = 0; c < 3; c++) sum[c] += png.data[o + c]!
  }
  return sum.map((s) => s / 9)
}

test('the page opens the case: views, node table, overlay, cross-origin isolated (WebAssembly threads)', { skip }, async () => {
  const info = await page.evaluate(() => {
    const v = (window as any).nodalView
    const gl = document.createElement('canvas').getContext('webgl2')
    let drawn = 0
    for (const x of v.nv.drawBitmap) if (x) drawn++
    return {
      webgl2: gl !== null, isolated: crossOriginIsolated, volumes: v.nv.volumes.length, drawn,
      rows: [...document.querySelectorAll('#node-table tbody tr')].map((tr) => Number((tr as HTMLElement).dataset.id)),
      status: document.querySelector('#status')!.textContent,
    }
  })
  assert.ok(info.webgl2, 'WebGL2 (SwiftShader)')
  assert.ok(info.isolated, 'COOP/COEP make the page cross-origin isolated')
  assert.equal(info.volumes, 1)
  assert.deepEqual(info.rows, Object.keys(nodes).map(Number))
  assert.equal(info.drawn, Array.from(labels.data).filter((x) => x > 0).length, 'every labelled voxel is in the drawing layer')
  assert.match(info.status!, new RegExp(`${Object.keys(nodes).length} node\\(s\\)`))
})

test('the overlay is drawn where the labels are, in the class colour, and nowhere else', { skip }, async () => {
  await page.selectOption('#layout-select', 'axial')
  const id = Number(Object.keys(nodes)[Object.keys(nodes).length - 1])
  const node = nodes[id]!
  const look = async (mm: number[]) => page.evaluate((mm) => {
    const v = (window as any).nodalView
    v.nv.setCrosshairWidth(0)
    const frac = v.nv.mm2frac(mm)
    const dims = v.nv.back.dimsRAS
    const ijk = [0, 1, 2].map((d) => Math.floor(frac[d] * dims[d + 1]))
    return { canvas: v.nv.frac2canvasPos(frac), label: v.nv.drawBitmap[ijk[0] + dims[1] * (ijk[1] + dims[2] * ijk[2])] }
  }, mm)
  await page.evaluate((id) => (window as any).nodalView.gotoNode(id), id)
  const centre = [-node.centre_mm[0], -node.centre_mm[1], node.centre_mm[2]]
  const on = await look(centre)
  assert.equal(on.label, node.class_index)
  let away: { canvas: number[]; label: number } | null = null
  for (const dx of [30, -30, 40, -40]) {
    const candidate = await look([centre[0]! + dx, centre[1]!, centre[2]!])
    if (candidate.label === 0) { away = candidate; break }
  }
  assert.ok(away, 'a background point on the slice')
  const opacity = (o: number) => page.evaluate((o) => { const v = (window as any).nodalView; v.nv.setDrawOpacity(o); v.nv.drawScene() }, o)
  await opacity(1)
  const onWith = await pixel(page, on.canvas), awayWith = await pixel(page, away.canvas)
  await opacity(0)
  const onWithout = await pixel(page, on.canvas), awayWithout = await pixel(page, away.canvas)
  await opacity(0.6)
  // the node under the mouse highlights its row
  const box = (await page.locator('#gl').boundingBox())!
  await page.mouse.move(box.x + away.canvas[0]!, box.y + away.canvas[1]!)
  assert.equal(await page.locator('#node-table tbody tr.hover').count(), 0)
  await page.mouse.move(box.x + on.canvas[0]!, box.y + on.canvas[1]!)
  assert.deepEqual(await page.locator('#node-table tbody tr.hover').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.id))), [id])
  const change = (a: number[], b: number[]) => Math.max(...a.map((x, c) => Math.abs(x - b[c]!)))
  assert.ok(change(onWith, onWithout) > 60, `the node's pixel changes with the overlay: ${onWith} vs ${onWithout}`)
  assert.ok(change(awayWith, awayWithout) < 3, `a background pixel does not: ${awayWith} vs ${awayWithout}`)
  // nodal's class colours (src/colours.ts): malignant red, benign green
  if (node.class_index === 2) assert.ok(onWith[0]! > 200 && onWith[1]! < 100, `malignant is red: ${onWith}`)
  else assert.ok(onWith[1]! > 200 && onWith[0]! < 100, `benign is green: ${onWith}`)
  await page.selectOption('#layout-select', 'multi')
})

test('clicking a table row moves the crosshair to the node centre in every view', { skip }, async () => {
  for (const [id, node] of Object.entries(nodes)) {
    await page.click(`#node-table tbody tr[data-id="${id}"] td:first-child`)
    const mm = await page.evaluate(() => { const nv = (window as any).nodalView.nv; return Array.from(nv.frac2mm(nv.scene.crosshairPos)) as number[] })
    const want = [-node.centre_mm[0], -node.centre_mm[1], node.centre_mm[2]]
    for (let d = 0; d < 3; d++) assert.ok(Math.abs(mm[d]! - want[d]!) < 0.01, `node ${id}: crosshair ${mm.slice(0, 3)} vs centre (RAS) ${want}`)
    assert.ok(await page.locator(`#node-table tbody tr[data-id="${id}"].selected`).count() === 1)
  }
})

test('rejecting a node and saving removes it from the saved labels; undo brings a node back', { skip }, async () => {
  const [first, second] = Object.keys(nodes).map(Number)
  const count = () => page.evaluate((id) => {
    const v = (window as any).nodalView
    let n = 0
    v.state.instancesRas.forEach((x: number, j: number) => { if (x === id && v.nv.drawBitmap[j]) n++ })
    return n
  }, second)
  const before = await count()
  await page.click(`#node-table tbody tr[data-id="${second}"] button.reject`)
  assert.equal(await count(), 0)
  await page.click('#undo')
  assert.equal(await count(), before, 'undo restores the rejected node')
  await page.click(`#node-table tbody tr[data-id="${first}"] button.reject`)
  await page.click(`#node-table tbody tr[data-id="${second}"] button.accept`)
  const newClass = nodes[second]!.class_index === 2 ? 1 : 2
  await page.selectOption(`#node-table tbody tr[data-id="${second}"] select.cls`, String(newClass))
  await page.click('#save')
  await page.waitForFunction(() => (window as any).nodalView.lastSave || document.querySelector('#status')!.classList.contains('error'))
  const status = await page.evaluate(() => document.querySelector('#status')!.textContent)
  assert.equal(status, 'saved')
  const out = join(tmp.path, 'reviewed')
  const saved = await readVolume(join(out, 'labels.nii.gz'))
  for (let v = 0; v < saved.data.length; v++) {
    const want = instances.data[v] === first ? 0 : instances.data[v] === second ? newClass : labels.data[v]
    if (saved.data[v] !== want) assert.fail(`voxel ${v}: saved ${saved.data[v]}, expected ${want}`)
  }
  const json = JSON.parse(readFileSync(join(out, 'nodes.json'), 'utf8'))
  assert.ok(!(String(first) in json.instances))
  assert.equal(json.instances[String(second)].review.decision, 'accepted')
  assert.equal(json.instances[String(second)].review.reviewer, 'browser-test')
  assert.equal(json.instances[String(second)].class_index, newClass)
  assert.equal(json.instances[String(second)].review.class_before, newClass === 1 ? 'malignant_node' : 'benign_node')
  assert.deepEqual(json.review.rejected.map((n: { id: number }) => n.id), [first])
})

test('the model run in the page (onnxruntime-web in a worker) equals nodal predict: node count, Dice >= 0.99', { skip, timeout: 120_000 }, async () => {
  const p = await openPage()
  await p.evaluate(() => { (window as any).nodalView.lastRun = undefined })
  await p.click('#run-browser')
  await p.waitForFunction(() => (window as any).nodalView.lastRun || document.querySelector('#status')!.classList.contains('error'), null, { timeout: 110_000 })
  const run = await p.evaluate(() => ({ ...(window as any).nodalView.lastRun, status: document.querySelector('#status')!.textContent }))
  assert.ok(run.nodes !== undefined, run.status)
  const browserLabels: number[] = await p.evaluate(() => Array.from((window as any).nodalView.labelsInFileOrder()))
  const rows = await p.locator('#node-table tbody tr').count()
  assert.equal(run.nodes, Object.keys(nodes).length, 'same node count as nodal predict')
  assert.equal(rows, run.nodes)
  let inter = 0, a = 0, b = 0, sameClass = 0
  for (let v = 0; v < browserLabels.length; v++) {
    const x = browserLabels[v]! > 0, y = labels.data[v]! > 0
    if (x) a++
    if (y) b++
    if (x && y) { inter++; if (browserLabels[v] === labels.data[v]) sameClass++ }
  }
  const dice = (2 * inter) / (a + b)
  assert.ok(dice >= 0.99, `Dice ${dice.toFixed(4)} between the page's and nodal predict's labels`)
  assert.ok(sameClass / inter >= 0.99, 'same classes')
  assert.deepEqual(Array.from(server.session!.labels), browserLabels, 'the server holds the page\'s result (a save starts from it)')
  assert.deepEqual(server.session!.nodes.map((n) => n.id), Object.keys(nodes).map(Number))
  assert.ok(server.session!.nodes.every((n) => typeof n.score_max === 'number'), 'with the model\'s scores')
  console.log(`# in-page inference: ${run.seconds.toFixed(1)} s (${run.backend}), Dice ${dice.toFixed(4)} vs nodal predict`)
  await p.close()
})

test('the brush paints voxels onto the selected node, undo takes the stroke back, and the saved node is re-measured', { skip }, async () => {
  const p = await openPage()
  await p.selectOption('#layout-select', 'axial')
  const id = Number(Object.keys(nodes)[0])
  await p.click(`#node-table tbody tr[data-id="${id}"] td:first-child`)
  await p.click('[data-tool="draw"]')
  const drawn = () => p.evaluate(() => (window as any).nodalView.nv.drawBitmap.reduce((n: number, x: number) => n + (x ? 1 : 0), 0))
  const before = await drawn()
  const c = nodes[id]!.centre_mm
  const path = await p.evaluate((mm) => {
    const nv = (window as any).nodalView.nv
    return [0, 4, 8, 12, 16].map((dx) => nv.frac2canvasPos(nv.mm2frac([mm[0] + dx, mm[1], mm[2]])))
  }, [-c[0], -c[1], c[2]])
  const box = (await p.locator('#gl').boundingBox())!
  const stroke = async () => {
    await p.mouse.move(box.x + path[0]![0]!, box.y + path[0]![1]!)
    await p.mouse.down()
    for (const q of path.slice(1)) await p.mouse.move(box.x + q[0]!, box.y + q[1]!, { steps: 4 })
    await p.mouse.up()
  }
  await stroke()
  const after = await drawn()
  assert.ok(after > before, `the stroke painted voxels: ${before} -> ${after}`)
  await p.click('#undo')
  assert.equal(await drawn(), before, 'undo removes the stroke')
  await stroke()
  assert.equal(await drawn(), after)
  await p.click('[data-tool="view"]')
  await p.evaluate(() => { (window as any).nodalView.lastSave = undefined })
  await p.click('#save')
  await p.waitForFunction(() => (window as any).nodalView.lastSave || document.querySelector('#status')!.classList.contains('error'))
  const json = JSON.parse(readFileSync(join(tmp.path, 'reviewed', 'nodes.json'), 'utf8'))
  const node = json.instances[String(id)]
  assert.equal(node.review.edited, true)
  const voxelsBefore = Array.from(instances.data).filter((x) => x === id).length
  assert.equal(node.voxels, voxelsBefore + (after - before), 'the painted voxels joined the node')
  assert.ok(node.voxels > voxelsBefore)
  await p.close()
})

test('"Run on server" runs nodal predict\'s code in the server process and shows the same nodes', { skip }, async () => {
  const p = await openPage()
  await p.evaluate(() => (window as any).nodalView.state.nodes = [])
  await p.click('#run-server')
  await p.waitForFunction(() => /^model on the server/.test(document.querySelector('#status')!.textContent!) || document.querySelector('#status')!.classList.contains('error'), null, { timeout: 60_000 })
  const status = await p.evaluate(() => document.querySelector('#status')!.textContent)
  assert.match(status!, new RegExp(`${Object.keys(nodes).length} node\\(s\\)`))
  const shown: number[] = await p.evaluate(() => Array.from((window as any).nodalView.labelsInFileOrder()))
  assert.deepEqual(shown, Array.from(labels.data), 'the same labels as nodal predict')
  await p.close()
})

test('a NIfTI file dropped on the page is shown and uploaded; its review is saved', { skip }, async () => {
  const p = await openPage()
  const bytes = readFileSync(scanFile).toString('base64')
  await p.evaluate((b64) => {
    const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))
    const dt = new DataTransfer()
    dt.items.add(new File([raw], 'dropped.nii.gz'))
    document.querySelector('#viewer')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }))
  }, bytes)
  await p.waitForFunction(() => /dropped\.nii\.gz open/.test(document.querySelector('#status')!.textContent!) || document.querySelector('#status')!.classList.contains('error'), null, { timeout: 60_000 })
  assert.equal(await p.evaluate(() => document.querySelector('#status')!.textContent), 'dropped.nii.gz open')
  assert.equal(server.session!.name, 'dropped')
  assert.equal(await p.locator('#node-table tbody tr').count(), 0)
  const dims = await p.evaluate(() => Array.from((window as any).nodalView.nv.back.hdr.dims).slice(1, 4))
  assert.deepEqual(dims, server.session!.scan.shape)
  await p.click('#save')
  await p.waitForFunction(() => (window as any).nodalView.lastSave || document.querySelector('#status')!.classList.contains('error'))
  const saved = await readVolume(join(tmp.path, 'dropped-reviewed', 'labels.nii.gz'))
  assert.deepEqual(saved.shape, server.session!.scan.shape)
  assert.ok(Array.from(saved.data).every((x) => x === 0))
  await p.close()
})

const DICOM_DIR = join(REPO, 'samples', 'dicom', 'ct-3slice')

/** Waits until the page shows `name`'s case (loadSession's status) or an error; returns the status. */
async function waitForCase(p: Page, name: string): Promise<string> {
  await p.waitForFunction((name) => {
    const el = document.querySelector('#status')!
    return el.textContent!.startsWith(`${name}: `) || el.classList.contains('error')
  }, name, { timeout: 60_000 })
  return (await p.evaluate(() => document.querySelector('#status')!.textContent))!
}

/** The scan as the page holds it (Niivue's first volume): its dims and a checksum of its voxels in file order. */
async function pageScan(p: Page): Promise<{ volumes: number; dims: number[]; sum: number; weighted: number }> {
  return p.evaluate(() => {
    const nv = (window as any).nodalView.nv
    let sum = 0, weighted = 0
    nv.back.img.forEach((x: number, i: number) => { sum += x; weighted += x * ((i % 997) + 1) })
    return { volumes: nv.volumes.length, dims: Array.from(nv.back.hdr.dims as number[]).slice(1, 4), sum, weighted }
  })
}

function checksum(data: ArrayLike<number>): { sum: number; weighted: number } {
  let sum = 0, weighted = 0
  for (let i = 0; i < data.length; i++) { sum += data[i]!; weighted += data[i]! * ((i % 997) + 1) }
  return { sum, weighted }
}

test('a DICOM folder chosen with "DICOM folder…" is uploaded, read by nodal and shown; its review is saved with RTSTRUCT and DICOM-SEG', { skip, timeout: 180_000 }, async () => {
  const want = await readVolume(DICOM_DIR)
  assert.equal(want.shape[2], 3, 'the sample holds 3 slices')
  const p = await openPage()
  assert.equal(await p.locator('#open-folder-input').getAttribute('webkitdirectory'), '')
  await p.locator('#open-folder-input').setInputFiles(DICOM_DIR)
  const status = await waitForCase(p, 'ct-3slice')
  assert.match(status, /^ct-3slice: 0 node\(s\)/)
  // the server holds the DICOM series as nodal reads it
  const s = server.session!
  assert.equal(s.name, 'ct-3slice')
  assert.ok(s.dicomDir, 'the session keeps the uploaded series (for RTSTRUCT and SEG)')
  assert.deepEqual(s.scan.shape, want.shape)
  assert.deepEqual(checksum(s.scan.data), checksum(want.data))
  // the page shows it: Niivue's volume is that scan, voxel for voxel
  const shown = await pageScan(p)
  assert.equal(shown.volumes, 1)
  assert.deepEqual(shown.dims, want.shape)
  assert.deepEqual({ sum: shown.sum, weighted: shown.weighted }, checksum(want.data))
  assert.equal(await p.locator('#case-name').textContent(), 'ct-3slice')
  assert.equal(await p.evaluate(() => document.body.classList.contains('empty')), false)
  await p.selectOption('#layout-select', 'axial')
  const png = PNG.sync.read(await p.locator('#gl').screenshot())
  const greys = new Set<number>()
  for (let o = 0; o < png.data.length; o += 4) greys.add((png.data[o]! << 16) | (png.data[o + 1]! << 8) | png.data[o + 2]!)
  assert.ok(greys.size > 100, `the axial view draws the CT slice (${greys.size} colours on the canvas)`)
  // a block of voxels painted on all three slices and saved: a new node, written as labels, RTSTRUCT and SEG
  const painted = await p.evaluate(() => {
    const v = (window as any).nodalView
    const dims = v.nv.back.dimsRAS
    let n = 0
    for (let z = 0; z < dims[3]; z++) for (let y = 240; y < 260; y++) for (let x = 240; x < 260; x++) { v.nv.drawBitmap[x + dims[1] * (y + dims[2] * z)] = 1; n++ }
    v.nv.refreshDrawing(true)
    v.lastSave = undefined
    return n
  })
  assert.equal(painted, 20 * 20 * 3)
  const inFileOrder: number[] = await p.evaluate(() => Array.from((window as any).nodalView.labelsInFileOrder()))
  await p.click('#save')
  await p.waitForFunction(() => (window as any).nodalView.lastSave || document.querySelector('#status')!.classList.contains('error'), null, { timeout: 60_000 })
  assert.equal(await p.evaluate(() => document.querySelector('#status')!.textContent), 'saved')
  const out = join(tmp.path, 'ct-3slice-reviewed')
  const saved = await p.evaluate(() => (window as any).nodalView.lastSave)
  assert.equal(saved.out, out)
  assert.deepEqual(saved.files.map((f: string) => basename(f)).sort(), ['instances.nii.gz', 'labels.nii.gz', 'nodes.json', 'rtstruct.dcm', 'seg.dcm'])
  assert.deepEqual(readdirSync(out).sort(), ['instances.nii.gz', 'labels.nii.gz', 'nodes.json', 'rtstruct.dcm', 'seg.dcm'])
  const labelsOut = await readVolume(join(out, 'labels.nii.gz'))
  assert.deepEqual(labelsOut.shape, want.shape)
  assert.equal(Array.from(labelsOut.data).filter((x) => x === 1).length, painted)
  assert.deepEqual(Array.from(labelsOut.data), inFileOrder, 'the saved labels are the page\'s drawing')
  const json = JSON.parse(readFileSync(join(out, 'nodes.json'), 'utf8'))
  const saidNodes = Object.values(json.instances) as { voxels: number; review: { decision: string } }[]
  assert.equal(saidNodes.length, 1)
  assert.equal(saidNodes[0]!.voxels, painted)
  assert.equal(saidNodes[0]!.review.decision, 'added')
  const rt = readRtstruct(join(out, 'rtstruct.dcm'))
  assert.equal(rt.rois.length, 1)
  const fromRt = rasterizeRoi(rt.rois[0]!, want, 'rtstruct.dcm').mask
  const seg = readSeg(join(out, 'seg.dcm'))
  assert.equal(seg.segments.length, 1)
  const fromSeg = segmentOnGrid(seg, 0, want).data
  const dRt = dice(fromRt, labelsOut.data), dSeg = dice(fromSeg, labelsOut.data)
  assert.ok(dRt >= 0.95, `RTSTRUCT on the series vs the saved labels: Dice ${dRt}`)
  assert.ok(dSeg >= 0.999, `SEG on the series vs the saved labels: Dice ${dSeg}`)
  console.log(`# DICOM folder input: RTSTRUCT Dice ${dRt.toFixed(4)}, SEG Dice ${dSeg.toFixed(4)} vs the saved labels`)
  await p.close()
})

test('a dropped DICOM folder is walked entry by entry (readEntries in batches, a subfolder) and uploaded', { skip, timeout: 120_000 }, async () => {
  const want = await readVolume(DICOM_DIR)
  const slices = readdirSync(DICOM_DIR).sort().map((f) => ({ name: f, b64: readFileSync(join(DICOM_DIR, f)).toString('base64') }))
  assert.equal(slices.length, 3)
  const p = await openPage()
  await p.evaluate((slices) => {
    // A synthetic DragEvent's DataTransfer holds no file-system entries: its items are made to return a
    // directory entry built here, shaped like Chrome's. Its reader gives two batches, then an empty one
    // (as Chrome does for big folders); the second batch holds a subfolder with the third slice.
    const reads: Record<string, number> = {}
    ;(window as any).entryReads = reads
    const file = (s: { name: string; b64: string }) => ({
      isFile: true, isDirectory: false, name: s.name,
      file: (ok: (f: File) => void) => setTimeout(() => ok(new File([Uint8Array.from(atob(s.b64), (c) => c.charCodeAt(0))], s.name)), 0),
    })
    const dir = (name: string, batches: unknown[][]) => ({
      isFile: false, isDirectory: true, name,
      createReader: () => {
        let call = 0
        return { readEntries: (ok: (e: unknown[]) => void) => { reads[name] = ++call; setTimeout(() => ok(batches[call - 1] ?? []), 0) } }
      },
    })
    const root = dir('dropped-dicom', [[file(slices[0]!), file(slices[1]!)], [dir('sub', [[file(slices[2]!)]])]])
    DataTransferItem.prototype.webkitGetAsEntry = () => root as unknown as FileSystemEntry
    const dt = new DataTransfer()
    dt.items.add(new File([''], 'dropped-dicom'))
    document.querySelector('#viewer')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }))
  }, slices)
  const status = await waitForCase(p, 'dropped-dicom')
  assert.match(status, /^dropped-dicom: 0 node\(s\)/)
  const reads = await p.evaluate(() => (window as any).entryReads)
  assert.deepEqual(reads, { 'dropped-dicom': 3, sub: 2 }, 'each folder is read until its reader gives an empty batch')
  const s = server.session!
  assert.equal(s.name, 'dropped-dicom')
  assert.ok(s.dicomDir)
  assert.equal(readdirSync(s.dicomDir!).length, 3, 'all three files were uploaded')
  assert.deepEqual(s.scan.shape, want.shape, 'all three slices make the scan')
  assert.deepEqual(checksum(s.scan.data), checksum(want.data))
  const shown = await pageScan(p)
  assert.deepEqual(shown.dims, want.shape)
  assert.deepEqual({ sum: shown.sum, weighted: shown.weighted }, checksum(want.data))
  await p.close()
})
