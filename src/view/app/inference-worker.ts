/**
 * nodal view's in-browser inference, in a Web Worker so the page stays responsive: the same pipeline as
 * `nodal predict` (src/infer/pipeline.ts: preprocessing, sliding window, nodes, stage 2), bundled by
 * esbuild, on onnxruntime-web (WebGPU when the browser has an adapter, else WebAssembly with threads,
 * which needs the page to be cross-origin isolated; the server sends COOP/COEP). The scan is decoded by
 * nodal's own NIfTI reader (src/io/nifti.ts; the bundle maps node:zlib to fflate and Buffer to the
 * `buffer` package).
 */
import * as ort from 'onnxruntime-web/webgpu'
import { checkModelJson, type ModelJson, outputClasses } from '../../bundle/schema.js'
import { NodalPipeline } from '../../infer/pipeline.js'
import { OnnxModelBase, type OrtModule } from '../../infer/onnx-model.js'
import { decodeNifti } from '../../io/nifti.js'
import type { Volume } from '../../volume/volume.js'
import type { RunRequest, WorkerMessage } from './protocol.js'

const post = (m: WorkerMessage, transfer: Transferable[] = []) => (self as unknown as { postMessage(m: unknown, t: Transferable[]): void }).postMessage(m, transfer)

let cached: { key: string; pipeline: NodalPipeline; backend: string } | null = null

self.onmessage = async (event: MessageEvent<RunRequest>) => {
  const req = event.data
  if (req.type !== 'run') return
  try {
    const start = performance.now()
    const { pipeline, backend } = await loadPipeline(req)
    post({ type: 'status', text: `running the model (${backend})` })
    const scan = decodeNifti('scan.nii', Buffer.from(req.scan))
    const channels: Volume[] = [scan]
    if (req.pet && pipeline.acceptsPet) channels.push(decodeNifti('pet.nii', Buffer.from(req.pet)))
    const result = await pipeline.predict(channels, {
      onProgress: (stage, done, total) => post({ type: 'progress', stage, done, total }),
    })
    post({ type: 'status', text: `sending ${result.nodes.length} node(s) to the page` })
    const labels = result.labels.data instanceof Uint8Array ? result.labels.data : Uint8Array.from(result.labels.data as ArrayLike<number>)
    const instances = result.instances.data instanceof Uint16Array ? result.instances.data : Uint16Array.from(result.instances.data as ArrayLike<number>)
    post({
      type: 'result', labels, instances, nodes: JSON.parse(JSON.stringify(result.nodes)), classes: outputClasses(pipeline.json).map((c) => ({ index: c.index, name: c.name })),
      warnings: result.warnings, seconds: (performance.now() - start) / 1000, timings: result.timings as unknown as Record<string, number>, backend,
    }, [labels.buffer, instances.buffer])
  } catch (e) {
    post({ type: 'error', message: (e as Error).message })
  }
}

async function loadPipeline(req: RunRequest): Promise<{ pipeline: NodalPipeline; backend: string }> {
  const key = `${req.modelBase}|${req.threads}`
  if (cached?.key === key) return cached
  ort.env.wasm.wasmPaths = req.wasmBase
  ort.env.wasm.numThreads = self.crossOriginIsolated ? req.threads : 1
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu
  const webgpu = gpu ? Boolean(await gpu.requestAdapter().catch(() => null)) : false
  const executionProviders = webgpu ? ['webgpu', 'wasm'] : ['wasm']
  const backend = webgpu ? 'WebGPU' : `WebAssembly, ${ort.env.wasm.numThreads} thread(s)`
  post({ type: 'status', text: `loading the model (${backend})` })
  const json = checkModelJson(await (await fetchOk(`${req.modelBase}model.json`)).json() as ModelJson, 'the model')
  const open = async (file: string) => {
    const bytes = new Uint8Array(await (await fetchOk(req.modelBase + encodeURIComponent(file))).arrayBuffer())
    return OnnxModelBase.create(ort as unknown as OrtModule, bytes, { threads: req.threads, executionProviders, what: file })
  }
  const pipeline = await NodalPipeline.open(json.name, json, open)
  cached = { key, pipeline, backend }
  return cached
}

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url)
  if (!r.ok) throw new Error(`${url}: ${r.status} ${(await r.text()).slice(0, 200)}`)
  return r
}
