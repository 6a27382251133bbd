/**
 * `nodal view`'s web server (fastify): the single-page app, the data it was started with, and the few
 * actions the page asks of it. Every route is fixed; no request names a file on disk, so there is no
 * path to traverse:
 *
 *   GET  /                      the page (index.html)
 *   GET  /app/<file>            the page's bundled scripts and style (only the files the build wrote)
 *   GET  /ort/<file>            onnxruntime-web's WebAssembly files (only its eight published ones)
 *   GET  /api/session           the case: name, classes, nodes, what is loaded, the model, where a save goes
 *   GET  /data/scan.nii         the scan as NIfTI (any format nodal reads, converted by nodal's writer)
 *   GET  /data/pet.nii          PET as NIfTI, on its own grid
 *   GET  /data/labels.u8        class per voxel, raw uint8, in the scan's voxel order
 *   GET  /data/instances.u16    node id per voxel, raw little-endian uint16, same order
 *   GET  /model/model.json      the model bundle's model.json (for in-browser inference)
 *   GET  /model/<file>.onnx     only the ONNX files model.json names
 *   POST /api/open              a scan file uploaded from the page (NIfTI, NRRD, MHA), header x-file-name
 *   POST /api/open-dicom        a DICOM folder uploaded from the page as a zip
 *   POST /api/predict           run the model in this process (the same loadModel/predict as nodal predict)
 *   POST /api/result            the result of the model run in the page (labels, node ids, nodes), so a save
 *                               starts from it
 *   POST /api/save              the reviewed class map and decisions: writes the review (review.ts)
 * (POST bodies of label maps carry only the labelled voxels: sparse.ts.)
 *
 * The server listens on 127.0.0.1 unless told otherwise, and then also refuses requests whose Host
 * header names another host (a web page elsewhere cannot reach it through DNS rebinding). Uploads
 * larger than `maxUploadBytes` are refused with 413 before they are read. Every response carries
 * COOP/COEP headers: the page is cross-origin isolated, which WebAssembly threads need.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { endianness, tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { unzipSync } from 'fflate'
import { readBundle, type ModelJson, outputClasses } from '../bundle/index.js'
import { NodalError } from '../errors.js'
import { nodesJson } from '../infer/outputs.js'
import { readVolume } from '../io/index.js'
import { encodeNifti } from '../io/nifti.js'
import { releaseTemp, trackTemp } from '../io/temp.js'
import type { NodalModel } from '../infer/predict.js'
import { applyReview, defaultReviewer, type ReviewRequest, writeReview } from './review.js'
import { attachLabels, caseName, emptySession, type ViewSession } from './session.js'
import { decodeSparse, SparseError } from './sparse.js'

/** Where the build puts the page (scripts/build-viewer.mjs): dist/src/view/app/. */
export const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), 'app')

export const DEFAULT_MAX_UPLOAD = 1024 ** 3

const ORT_FILES = ['', '.jsep', '.jspi', '.asyncify'].flatMap((v) => [`ort-wasm-simd-threaded${v}.wasm`, `ort-wasm-simd-threaded${v}.mjs`])
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.map': 'application/json', '.json': 'application/json',
}
/** The page's files (scripts/build-viewer.mjs writes them); nothing else under APP_DIR is served. */
const APP_FILES = ['index.html', 'style.css', 'app.js', 'app.js.map', 'worker.js', 'worker.js.map']
const SCAN_EXTENSIONS = ['.nii.gz', '.nii', '.nrrd', '.mha']

export interface ViewServerOptions {
  /** The case to show, or null to start empty (the page then opens a dropped file or folder). */
  session: ViewSession | null
  /** Model bundle for in-browser and on-server inference, or null. */
  modelDir?: string | null
  /** Reviewer name written into saved reviews; default the operating-system user. */
  reviewer?: string
  /** Largest accepted upload (bytes); default 1 GiB. */
  maxUploadBytes?: number
  /** Where uploaded cases are saved when no --out was given: <outRoot>/<name>-reviewed (default: cwd). */
  outRoot?: string
  /** The --out folder, if given (uploaded cases are then saved there too). */
  out?: string
  /** The page folder; default APP_DIR. */
  appDir?: string
  /** ONNX Runtime threads for "run on server". */
  threads?: number
}

export interface ViewServer {
  app: FastifyInstance
  /** Listens; returns the URL. */
  listen(port: number, host: string): Promise<string>
  close(): Promise<void>
  readonly session: ViewSession | null
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host)
}

export function createViewServer(o: ViewServerOptions): ViewServer {
  const maxUpload = o.maxUploadBytes ?? DEFAULT_MAX_UPLOAD
  const appDir = o.appDir ?? APP_DIR
  const reviewer = o.reviewer ?? defaultReviewer()
  const app = Fastify({ bodyLimit: maxUpload, logger: false })
  const state = { session: o.session, version: 0, cache: new Map<string, Buffer>(), boundHost: '127.0.0.1', port: 0 }
  const uploads: string[] = []
  let model: Promise<NodalModel> | null = null
  const modelJson: ModelJson | null = o.modelDir ? readBundle(o.modelDir) : null
  const modelFiles = new Set(modelJson ? [...modelJson.folds.map((f) => f.onnx), ...(modelJson.classifiers ?? []).map((c) => c.onnx)] : [])
  const appFiles = new Set(APP_FILES.filter((f) => existsSync(join(appDir, f))))
  const ortDir = resolveOrtDir()

  for (const type of ['application/octet-stream', 'application/zip']) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: maxUpload }, (_req, body, done) => done(null, body))
  }

  app.addHook('onRequest', async (req, reply) => {
    reply.header('Cross-Origin-Opener-Policy', 'same-origin')
    reply.header('Cross-Origin-Embedder-Policy', 'require-corp')
    reply.header('Cross-Origin-Resource-Policy', 'same-origin')
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('Cache-Control', 'no-store')
    if (isLoopback(state.boundHost)) {
      const host = String(req.headers.host ?? '').replace(/:\d+$/, '')
      if (!isLoopback(host)) return reply.code(403).send({ error: `host ${host} refused: this server answers only on loopback` })
    }
  })

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) {
      return reply.code(413).send({ error: `upload refused: larger than the limit of ${formatBytes(maxUpload)} (nodal view --max-upload)` })
    }
    if (error instanceof NodalError) return reply.code(400).send({ error: error.message })
    if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send({ error: error.message })
    console.error(`nodal: view: ${error.stack ?? error.message}`)
    return reply.code(500).send({ error: error.message.split('\n')[0] })
  })
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not found' }))

  const sendFile = (reply: FastifyReply, path: string) => {
    const ext = path.endsWith('.wasm') ? '.wasm' : path.slice(path.lastIndexOf('.'))
    return reply.type(CONTENT_TYPES[ext] ?? 'application/octet-stream').send(readFileSync(path))
  }
  const needSession = (): ViewSession => {
    if (!state.session) throw new NodalError('no-scan', 'no scan is open: drop a NIfTI file or a DICOM folder on the page, or use Open')
    return state.session
  }
  const cached = (key: string, make: () => Buffer): Buffer => {
    const k = `${state.version}:${key}`
    if (!state.cache.has(k)) state.cache.set(k, make())
    return state.cache.get(k)!
  }
  const setSession = (s: ViewSession) => {
    state.session = s
    state.version++
    state.cache.clear()
  }
  const labelsChanged = () => {
    state.version++
    for (const k of [...state.cache.keys()]) if (!k.endsWith('.nii')) state.cache.delete(k)
  }

  app.get('/', (_req, reply) => {
    if (!appFiles.has('index.html')) throw new NodalError('missing-build', `the viewer page is not built (${appDir}); run npm run build`)
    return sendFile(reply, join(appDir, 'index.html'))
  })
  app.get<{ Params: { file: string } }>('/app/:file', (req, reply) => {
    if (!appFiles.has(req.params.file)) return reply.code(404).send({ error: 'not found' })
    return sendFile(reply, join(appDir, req.params.file))
  })
  app.get<{ Params: { file: string } }>('/ort/:file', (req, reply) => {
    if (!ortDir || !ORT_FILES.includes(req.params.file)) return reply.code(404).send({ error: 'not found' })
    return sendFile(reply, join(ortDir, req.params.file))
  })
  app.get('/api/session', () => sessionSummary(state.session, state.version, modelJson, o.modelDir ?? null, reviewer))
  app.get<{ Params: { id: string } }>('/data/:id', (req, reply) => {
    const s = needSession()
    const bytes = (buf: Buffer) => reply.type('application/octet-stream').send(buf)
    switch (req.params.id) {
      case 'scan.nii': return bytes(cached('scan.nii', () => encodeNifti(s.scan, false)))
      case 'pet.nii':
        if (!s.pet) return reply.code(404).send({ error: 'no PET is open' })
        return bytes(cached('pet.nii', () => encodeNifti(s.pet!, false)))
      case 'labels.u8': return bytes(cached('labels.u8', () => Buffer.from(s.labels.buffer, s.labels.byteOffset, s.labels.byteLength)))
      case 'instances.u16': return bytes(cached('instances.u16', () => littleEndian16(s.instances)))
      default: return reply.code(404).send({ error: 'not found' })
    }
  })
  app.get<{ Params: { file: string } }>('/model/:file', (req, reply) => {
    if (!o.modelDir || !modelJson) return reply.code(404).send({ error: 'no model bundle (nodal view --model)' })
    if (req.params.file === 'model.json') return reply.type('application/json').send(modelJson)
    if (!modelFiles.has(req.params.file)) return reply.code(404).send({ error: 'not found' })
    return sendFile(reply, join(o.modelDir, req.params.file))
  })

  app.post('/api/open', async (req) => {
    const name = String(req.headers['x-file-name'] ?? '')
    const ext = SCAN_EXTENSIONS.find((e) => name.toLowerCase().endsWith(e))
    if (!ext) throw new NodalError('bad-input', `${basename(name) || 'the upload'}: give a NIfTI, NRRD or MHA file (${SCAN_EXTENSIONS.join(' ')}), or a DICOM folder`)
    const body = bodyBuffer(req.body)
    const dir = uploadDir(uploads)
    const path = join(dir, `scan${ext}`)
    writeFileSync(path, body)
    const scan = await readVolume(path)
    const cname = caseName(basename(name))
    setSession(emptySession(cname, scan, o.out ?? join(o.outRoot ?? process.cwd(), `${cname}-reviewed`)))
    return sessionSummary(state.session, state.version, modelJson, o.modelDir ?? null, reviewer)
  })
  app.post('/api/open-dicom', async (req) => {
    const dir = uploadDir(uploads)
    const files = unzipFlat(bodyBuffer(req.body), dir)
    if (files === 0) throw new NodalError('bad-input', 'the uploaded folder holds no files')
    const scan = await readVolume(dir)
    const cname = String(req.headers['x-file-name'] ?? 'dicom').replace(/[^\w.-]+/g, '_').slice(0, 64) || 'dicom'
    setSession(emptySession(cname, scan, o.out ?? join(o.outRoot ?? process.cwd(), `${cname}-reviewed`), { dicomDir: dir }))
    return sessionSummary(state.session, state.version, modelJson, o.modelDir ?? null, reviewer)
  })
  app.post('/api/predict', async () => {
    const s = needSession()
    if (!o.modelDir || !modelJson) throw new NodalError('no-model', 'this server has no model bundle (start it with nodal view --model DIR)')
    const { loadModel } = await import('../infer/predict.js')
    model ??= loadModel(o.modelDir, { threads: o.threads })
    const m = await model
    const start = performance.now()
    const channels = [s.scan, ...(s.pet && m.acceptsPet ? [s.pet] : [])]
    const result = await m.predict(channels, {})
    const seconds = (performance.now() - start) / 1000
    const json = nodesJson({ caseName: s.name, input: s.scanPath ?? s.name, dicomDir: s.dicomDir, model: m.json, modelDir: o.modelDir, result, formats: new Set(), seconds }) as Record<string, unknown>
    attachLabels(s, result.labels, result.instances, json, 'the prediction')
    labelsChanged()
    return { ...sessionSummary(s, state.version, modelJson, o.modelDir, reviewer), seconds, warnings: result.warnings }
  })
  app.post('/api/result', async (req) => {
    const s = needSession()
    const { json, labels, instances } = parseResultBody(bodyBuffer(req.body), s.labels.length)
    attachLabels(s, s.scan.withData(labels, {}), s.scan.withData(instances, {}), json, 'the result from the page')
    labelsChanged()
    return sessionSummary(s, state.version, modelJson, o.modelDir ?? null, reviewer)
  })
  app.post('/api/save', async (req) => {
    const s = needSession()
    const { request, labels } = parseSaveBody(bodyBuffer(req.body), s.labels.length)
    const who = reviewer
    const time = new Date().toISOString()
    const reviewed = applyReview(s, labels, request, who, time)
    const files = await writeReview(s, reviewed, who, time)
    return { out: s.out, files, nodes: reviewed.nodes.length, rejected: reviewed.rejected.length }
  })

  return {
    app,
    get session() { return state.session },
    async listen(port: number, host: string) {
      state.boundHost = host
      await app.listen({ port, host })
      const address = app.server.address()
      state.port = typeof address === 'object' && address ? address.port : port
      const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host
      return `http://${shown}:${state.port}/`
    },
    async close() {
      await app.close()
      if (model) await (await model).release()
      for (const dir of uploads) {
        rmSync(dir, { recursive: true, force: true })
        releaseTemp(dir)
      }
    },
  }
}

function sessionSummary(s: ViewSession | null, version: number, model: ModelJson | null, modelDir: string | null, reviewer: string) {
  return {
    version,
    reviewer,
    model: model ? {
      name: model.name, dir: modelDir, pipeline: model.pipeline ?? 'single', classes: outputClasses(model),
      acceptsPet: (model.classifiers ?? []).some((c) => c.patch.channels.includes('PET')),
    } : null,
    case: s ? {
      name: s.name, shape: s.scan.shape, spacing: s.scan.spacing, dicom: s.dicomDir !== null, pet: s.pet !== null,
      modality: s.scan.meta.modality ?? null, classes: s.classes, nodes: s.nodes, out: s.out,
    } : null,
  }
}

function resolveOrtDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))
  } catch {
    return null
  }
}

function uploadDir(uploads: string[]): string {
  const dir = trackTemp(mkdtempSync(join(tmpdir(), 'nodal-view-')))
  uploads.push(dir)
  return dir
}

function bodyBuffer(body: unknown): Buffer {
  if (!Buffer.isBuffer(body) || body.length === 0) throw new NodalError('bad-input', 'the request has no body (send application/octet-stream)')
  return body
}

/** Unzips into `dir` under generated names (f00000, f00001, ...): names inside the zip never reach the file system. */
function unzipFlat(zip: Buffer, dir: string): number {
  let entries: Record<string, Uint8Array>
  try {
    entries = unzipSync(new Uint8Array(zip.buffer, zip.byteOffset, zip.byteLength))
  } catch (e) {
    throw new NodalError('bad-input', `the uploaded folder is not a readable zip (${(e as Error).message})`)
  }
  let n = 0
  mkdirSync(dir, { recursive: true })
  for (const [name, data] of Object.entries(entries)) {
    if (name.endsWith('/') || data.length === 0) continue
    writeFileSync(join(dir, `f${String(n++).padStart(5, '0')}`), data)
  }
  return n
}

/** Save body (sparse.ts): the decisions as JSON and the final class map's labelled voxels. */
export function parseSaveBody(body: Buffer, voxels: number): { request: ReviewRequest; labels: Uint8Array } {
  const { json, labels } = sparse(body, voxels, 'save')
  const request = json as ReviewRequest
  if (typeof request !== 'object' || !request || typeof request.decisions !== 'object') throw new NodalError('bad-input', 'the save request has no decisions')
  return { request, labels }
}

/** Result body (sparse.ts): {classes, nodes} as JSON, the class and node id of each labelled voxel. */
export function parseResultBody(body: Buffer, voxels: number): { json: Record<string, unknown>; labels: Uint8Array; instances: Uint16Array } {
  const { json, labels, ids } = sparse(body, voxels, 'result')
  const parsed = json as { classes?: unknown; nodes?: { id: number }[] }
  if (!ids || !Array.isArray(parsed?.nodes) || !Array.isArray(parsed.classes)) throw new NodalError('bad-input', 'the result has no nodes, classes or node ids')
  return { json: { classes: parsed.classes, instances: Object.fromEntries(parsed.nodes.map((node) => [String(node.id), node])) }, labels, instances: ids }
}

function sparse(body: Buffer, voxels: number, what: string): ReturnType<typeof decodeSparse> {
  try {
    return decodeSparse(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), voxels)
  } catch (e) {
    if (e instanceof SparseError) throw new NodalError('bad-input', `the ${what} request does not fit the scan: ${e.message}`)
    throw e
  }
}

function littleEndian16(a: Uint16Array): Buffer {
  if (endianness() === 'LE') return Buffer.from(a.buffer, a.byteOffset, a.byteLength)
  const out = Buffer.alloc(a.length * 2)
  for (let v = 0; v < a.length; v++) out.writeUInt16LE(a[v]!, v * 2)
  return out
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let u = 0
  while (n >= 1024 && u < units.length - 1 && n % 1024 === 0) { n /= 1024; u++ }
  return `${n} ${units[u]}`
}
