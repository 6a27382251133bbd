/** nodal view's server without a browser: what it serves, what it refuses, uploads, saving, the CLI. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { zipSync } from 'fflate'
import { decodeNifti, encodeNifti } from '../../src/io/nifti.js'
import { readVolume } from '../../src/io/index.js'
import { createViewServer, parseSaveBody } from '../../src/view/server.js'
import { attachLabels, emptySession } from '../../src/view/session.js'
import { encodeSparse } from '../../src/view/sparse.js'
import { type Vec3, Volume } from '../../src/volume/volume.js'
import { CLI, REPO, tempDir } from '../helpers.js'

const SHAPE: Vec3 = [24, 20, 8]

function scan(): Volume {
  const n = SHAPE[0] * SHAPE[1] * SHAPE[2]
  const data = Int16Array.from({ length: n }, (_, v) => (v % 97) - 40)
  return new Volume(data, [...SHAPE], [0.8, 0.8, 2.5], [-10, 20, -30], [[1, 0, 0], [0, -1, 0], [0, 0, 1]], { modality: 'CT' })
}

function withNode(out: string) {
  const s = emptySession('case', scan(), out)
  const labels = new Uint8Array(s.scan.data.length)
  for (let k = 2; k < 5; k++) for (let j = 5; j < 9; j++) for (let i = 5; i < 9; i++) labels[i + SHAPE[0] * (j + SHAPE[1] * k)] = 2
  for (let k = 2; k < 4; k++) for (let j = 12; j < 15; j++) for (let i = 15; i < 18; i++) labels[i + SHAPE[0] * (j + SHAPE[1] * k)] = 1
  attachLabels(s, s.scan.withData(labels, {}), null, null)
  return s
}

/** A raw HTTP GET whose path is sent exactly as written (no URL normalisation). */
function rawGet(port: number, path: string, host = `127.0.0.1:${port}`): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { host } }, (res) => {
      let body = ''
      res.on('data', (c) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

test('nodal view serves the case on loopback, with cross-origin isolation headers, and the scan as NIfTI with its geometry', async () => {
  const tmp = tempDir()
  const server = createViewServer({ session: withNode(join(tmp.path, 'out')), modelDir: join(REPO, 'models', 'nodes_multi'), reviewer: 'tester' })
  try {
    const url = await server.listen(0, '127.0.0.1')
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
    const address = server.app.server.address()
    assert.ok(typeof address === 'object' && address && address.address === '127.0.0.1')
    const page = await fetch(url)
    assert.equal(page.status, 200)
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin')
    assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp')
    assert.match(await page.text(), /nodal view/)
    const session = await (await fetch(`${url}api/session`)).json()
    assert.equal(session.case.nodes.length, 2)
    assert.equal(session.reviewer, 'tester')
    assert.equal(session.model.pipeline, 'multi')
    const nifti = Buffer.from(await (await fetch(`${url}data/scan.nii`)).arrayBuffer())
    const back = decodeNifti('scan.nii', nifti)
    assert.deepEqual(Array.from(back.data), Array.from(server.session!.scan.data))
    for (const key of ['spacing', 'origin', 'axes'] as const) {
      assert.ok(JSON.stringify(back[key].flat().map((x) => Math.round(x * 1e4))) === JSON.stringify(server.session!.scan[key].flat().map((x) => Math.round(x * 1e4))), key)
    }
    const labels = new Uint8Array(await (await fetch(`${url}data/labels.u8`)).arrayBuffer())
    assert.deepEqual(labels, server.session!.labels)
    const ids = new Uint16Array(await (await fetch(`${url}data/instances.u16`)).arrayBuffer())
    assert.deepEqual(ids, server.session!.instances)
    assert.equal((await fetch(`${url}model/model.json`)).status, 200)
    assert.equal((await fetch(`${url}model/fold_all.onnx`)).status, 200)
    assert.equal((await fetch(`${url}ort/ort-wasm-simd-threaded.wasm`)).status, 200)
  } finally {
    await server.close()
    tmp.cleanup()
  }
})

test('nodal view refuses path traversal, absolute paths, unknown routes and foreign Host headers', async () => {
  const tmp = tempDir()
  const server = createViewServer({ session: withNode(join(tmp.path, 'out')), modelDir: join(REPO, 'models', 'nodes_multi') })
  try {
    await server.listen(0, '127.0.0.1')
    const port = (server.app.server.address() as { port: number }).port
    const secret = readFileSync(join(REPO, 'package.json'), 'utf8')
    const attempts = [
      '/app/../../../../package.json', '/app/..%2f..%2f..%2f..%2fpackage.json', '/app/%2e%2e/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/app/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json', `/app/${encodeURIComponent(join(REPO, 'package.json'))}`, `/app/${join(REPO, 'package.json')}`,
      '/data/../../etc/passwd', '/data/..%2f..%2fetc%2fpasswd', '/data//etc/passwd', '/data/%2fetc%2fpasswd',
      '/model/..%2fpackage.json', '/model/../package.json', `/model/${encodeURIComponent(join(REPO, 'models', 'nodes_multi', 'card.md'))}`, '/model/card.md',
      '/ort/..%2f..%2fpackage.json', '/ort/%2e%2e%2fpackage.json', '/ort/ort.min.js', '/app/main.js', '/app/inference-worker.js',
      '/../package.json', '/%2e%2e/package.json', '//etc/passwd', `/${join(REPO, 'package.json')}`, '/etc/passwd', '/package.json', '/nope',
    ]
    for (const path of attempts) {
      const r = await rawGet(port, path)
      assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`)
      assert.ok(!r.body.includes('"nodal-lymph"') && !r.body.includes('root:') && r.body.length < 200, `${path} leaked ${r.body.slice(0, 80)}`)
      assert.ok(!secret.includes(r.body) || r.body.length < 40)
    }
    assert.equal((await rawGet(port, '/api/session', 'evil.example:80')).status, 403, 'DNS rebinding: a foreign Host is refused')
    assert.equal((await rawGet(port, '/api/session', `localhost:${port}`)).status, 200)
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/nope`, { method: 'POST' })).status, 404)
    assert.equal((await fetch(`http://127.0.0.1:${port}/data/pet.nii`)).status, 404)
  } finally {
    await server.close()
    tmp.cleanup()
  }
})

test('nodal view refuses uploads over the limit with a clear message, and opens a NIfTI or a zipped DICOM folder', async () => {
  const tmp = tempDir()
  const server = createViewServer({ session: null, maxUploadBytes: 4 * 1024 ** 2, outRoot: tmp.path })
  try {
    const url = await server.listen(0, '127.0.0.1')
    const empty = await (await fetch(`${url}api/session`)).json()
    assert.equal(empty.case, null)
    assert.equal((await fetch(`${url}data/scan.nii`)).status, 400)
    const big = await fetch(`${url}api/open`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-file-name': 'big.nii' }, body: new Uint8Array(4 * 1024 ** 2 + 1) })
    assert.equal(big.status, 413)
    assert.match((await big.json()).error, /larger than the limit of 4 MiB/)
    const wrong = await fetch(`${url}api/open`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-file-name': '../../etc/passwd' }, body: new Uint8Array(10) })
    assert.equal(wrong.status, 400)
    const small = encodeNifti(scan(), true)
    const ok = await fetch(`${url}api/open`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-file-name': 'ct.nii.gz' }, body: new Uint8Array(small) })
    assert.equal(ok.status, 200, await ok.clone().text())
    const s = await ok.json()
    assert.equal(s.case.name, 'ct')
    assert.equal(s.case.out, join(tmp.path, 'ct-reviewed'))
    // a DICOM folder arrives as a zip; names inside it never reach the file system
    const dicomDir = join(REPO, 'samples', 'dicom', 'ct-3slice')
    const files = Object.fromEntries(readdirSync(dicomDir).map((f, i) => [i === 0 ? `../../../../tmp/nodal-zip-slip-${process.pid}` : `sub/${f}`, new Uint8Array(readFileSync(join(dicomDir, f)))]))
    const zipped = await fetch(`${url}api/open-dicom`, { method: 'POST', headers: { 'content-type': 'application/zip', 'x-file-name': 'ct-3slice' }, body: zipSync(files, { level: 0 }) })
    assert.equal(zipped.status, 200, await zipped.clone().text())
    assert.equal((await zipped.json()).case.dicom, true)
    assert.ok(!existsSync(`/tmp/nodal-zip-slip-${process.pid}`))
    const original = await readVolume(dicomDir)
    assert.deepEqual(server.session!.scan.shape, original.shape)
    assert.deepEqual(Array.from(server.session!.scan.data), Array.from(original.data))
  } finally {
    await server.close()
    tmp.cleanup()
  }
})

test('Save over HTTP writes the review; a malformed save is refused', async () => {
  const tmp = tempDir()
  const out = join(tmp.path, 'reviewed')
  const server = createViewServer({ session: withNode(out), reviewer: 'Dr HTTP' })
  try {
    const url = await server.listen(0, '127.0.0.1')
    const s = server.session!
    const malignant = s.nodes.find((n) => n.class_index === 2)!
    const labels = s.labels.slice()
    for (let v = 0; v < labels.length; v++) if (s.instances[v] === malignant.id) labels[v] = 0
    const body = encodeSparse({ decisions: { [malignant.id]: { decision: 'rejected' } } }, labels)
    assert.ok(body.length < 400, 'only the labelled voxels travel')
    assert.deepEqual(parseSaveBody(Buffer.from(body), labels.length).labels, labels)
    const r = await fetch(`${url}api/save`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body })
    assert.equal(r.status, 200, await r.clone().text())
    assert.deepEqual(await r.json(), { out, files: ['labels.nii.gz', 'instances.nii.gz', 'nodes.json'].map((f) => join(out, f)), nodes: 1, rejected: 1 })
    const saved = await readVolume(join(out, 'labels.nii.gz'))
    assert.equal(Array.from(saved.data).filter((x) => x === 2).length, 0)
    assert.equal(Array.from(saved.data).filter((x) => x === 1).length, 18)
    const nodes = JSON.parse(readFileSync(join(out, 'nodes.json'), 'utf8'))
    const [only] = Object.values(nodes.instances) as { review: { reviewer: string; decision: string } }[]
    assert.deepEqual([only!.review.reviewer, only!.review.decision], ['Dr HTTP', 'unreviewed'])
    const short = await fetch(`${url}api/save`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: body.subarray(0, body.length - 3) })
    assert.equal(short.status, 400)
    assert.match((await short.json()).error, /does not fit the scan/)
    const outside = encodeSparse({ decisions: {} }, new Uint8Array(labels.length + 1).fill(1, labels.length))
    const refused = await fetch(`${url}api/save`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: outside })
    assert.match((await refused.json()).error, /outside the scan/)
  } finally {
    await server.close()
    tmp.cleanup()
  }
})

test('the nodal view command listens on 127.0.0.1 by default, prints its URL and stops cleanly on Ctrl-C', async () => {
  const tmp = tempDir()
  let child: ReturnType<typeof spawn> | null = null
  try {
    const scanFile = join(tmp.path, 'ct.nii.gz')
    const { writeVolume } = await import('../../src/io/index.js')
    await writeVolume(scan(), scanFile)
    child = spawn(process.execPath, [CLI, 'view', scanFile, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout!.on('data', (c) => { out += c })
    child.stderr!.on('data', (c) => { out += c })
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 30000)
      child!.stdout!.on('data', () => {
        const m = /http:\/\/[^\s]+\//.exec(out)
        if (m && out.includes('Ctrl-C stops')) { clearTimeout(timer); resolve(m[0]) }
      })
    })
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
    assert.match(out, new RegExp(`Save writes to ${join(tmp.path, 'ct-reviewed').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
    assert.equal((await fetch(`${url}api/session`)).status, 200)
    const code = await new Promise<number | null>((resolve) => {
      child!.on('exit', (c) => resolve(c))
      child!.kill('SIGINT')
    })
    assert.equal(code, 0, out)
    assert.match(out, /stopped/)
    const usage = spawn(process.execPath, [CLI, 'view', '--labels', scanFile], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    usage.stderr.on('data', (c) => { err += c })
    assert.equal(await new Promise((resolve) => usage.on('exit', resolve)), 2)
    assert.match(err, /--labels, --nodes and --pet go with a scan/)
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL')
    tmp.cleanup()
  }
})
