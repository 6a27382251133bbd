/**
 * Worker thread of the batch loader: reads each requested region from the preprocessed cache, maps the
 * labels to the training target, augments, and sends the batch back with its buffers transferred.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { type CacheHeader, readRegion } from '../preprocess/cache.js'
import { augmentPatch, type AugmentOptions, centerCrop, makeRng } from './augment/index.js'
import type { PatchRequest, Triple } from './sampler.js'

export interface LoaderWorkerData {
  cacheDir: string
  cases: CacheHeader[]
  patch: Triple
  pad: number[]
  lookup: Uint8Array
  augment: AugmentOptions | null
}

export interface BatchMessage {
  iteration: number
  requests: PatchRequest[]
}

const data = workerData as LoaderWorkerData

function buildBatch(requests: PatchRequest[]): { image: Float32Array; label: Uint8Array } {
  const [pz, py, px] = data.patch
  const voxels = pz * py * px
  const channels = data.cases[0]!.channels
  const image = new Float32Array(requests.length * channels * voxels)
  const label = new Uint8Array(requests.length * voxels)
  requests.forEach((r, b) => {
    const header = data.cases[r.caseIndex]!
    const region = readRegion(data.cacheDir, header, r.region, data.pad)
    for (let i = 0; i < region.label.length; i++) region.label[i] = data.lookup[region.label[i]!]!
    const input = { image: region.image, label: region.label, channels, shape: r.region.size, spacing: header.spacing }
    const out = data.augment ? augmentPatch(input, data.patch, data.augment, makeRng(r.seed)) : centerCrop(input, data.patch)
    image.set(out.image, b * channels * voxels)
    label.set(out.label, b * voxels)
  })
  return { image, label }
}

parentPort!.on('message', (message: BatchMessage) => {
  try {
    const batch = buildBatch(message.requests)
    parentPort!.postMessage({ iteration: message.iteration, ...batch }, [batch.image.buffer as ArrayBuffer, batch.label.buffer as ArrayBuffer])
  } catch (e) {
    parentPort!.postMessage({ iteration: message.iteration, error: (e as Error).message })
  }
})
