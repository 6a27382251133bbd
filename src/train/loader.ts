/**
 * Batches built ahead of the training step by worker threads (read from the cache, target labels,
 * augmentation), so that on a 2-core machine the step and the next batch's augmentation overlap.
 * Batches are requested by iteration number and always delivered in order.
 */
import { Worker } from 'node:worker_threads'
import { NodalError } from '../errors.js'
import type { CacheHeader } from '../preprocess/cache.js'
import type { AugmentOptions } from './augment/index.js'
import type { LoaderWorkerData } from './loader-worker.js'
import { type SamplerSettings, sampleBatch, type Triple } from './sampler.js'

export interface Batch {
  iteration: number
  /** [B, C, pz, py, px] */
  image: Float32Array
  /** [B, pz, py, px] target classes, 255 = ignore */
  label: Uint8Array
}

export interface LoaderOptions {
  cacheDir: string
  cases: CacheHeader[]
  sampler: SamplerSettings
  seed: number
  pad: number[]
  lookup: Uint8Array
  augment: AugmentOptions | null
  workers: number
  /** Batches in flight ahead of the one being trained on. */
  prefetch?: number
}

export class BatchLoader {
  private readonly workers: Worker[]
  private readonly pending = new Map<number, { resolve: (b: Batch) => void; reject: (e: Error) => void; promise: Promise<Batch> }>()
  private next: number
  private failure: Error | null = null

  constructor(private readonly o: LoaderOptions, firstIteration: number) {
    this.next = firstIteration
    const data: LoaderWorkerData = { cacheDir: o.cacheDir, cases: o.cases, patch: o.sampler.patch as Triple, pad: o.pad, lookup: o.lookup, augment: o.augment }
    this.workers = Array.from({ length: Math.max(1, o.workers) }, () => {
      const worker = new Worker(new URL('./loader-worker.js', import.meta.url), { workerData: data })
      worker.on('message', (m: Batch & { error?: string }) => this.settle(m))
      worker.on('error', (e) => this.fail(e))
      return worker
    })
    for (let i = 0; i < (o.prefetch ?? 2 * this.workers.length); i++) this.request(this.next + i)
  }

  private request(iteration: number): void {
    if (this.pending.has(iteration)) return
    let resolve!: (b: Batch) => void, reject!: (e: Error) => void
    const promise = new Promise<Batch>((res, rej) => { resolve = res; reject = rej })
    promise.catch(() => {})
    this.pending.set(iteration, { resolve, reject, promise })
    const requests = sampleBatch(this.o.cases, iteration, this.o.seed, this.o.sampler)
    this.workers[iteration % this.workers.length]!.postMessage({ iteration, requests })
  }

  private settle(m: Batch & { error?: string }): void {
    const entry = this.pending.get(m.iteration)
    if (!entry) return
    if (m.error) entry.reject(new NodalError('loader', `building batch ${m.iteration}: ${m.error}`))
    else entry.resolve({ iteration: m.iteration, image: m.image, label: m.label })
  }

  private fail(e: Error): void {
    this.failure = e
    for (const entry of this.pending.values()) entry.reject(e)
  }

  /** The batch of the next iteration; asks for one more ahead. */
  async take(): Promise<Batch> {
    if (this.failure) throw this.failure
    const iteration = this.next++
    this.request(iteration)
    this.request(iteration + (this.o.prefetch ?? 2 * this.workers.length))
    const batch = await this.pending.get(iteration)!.promise
    this.pending.delete(iteration)
    return batch
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
