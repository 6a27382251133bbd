/**
 * Running torch work on a worker thread, so that a whole training loop (forward passes included, which
 * AsyncWorker-based calls such as backwardAsync cannot move) leaves the main thread free for progress
 * output and servers. The addon is context-aware: each worker gets its own tensor table.
 */
import { Worker } from 'node:worker_threads'

export interface TorchWorkerHandlers<Message> {
  /** Called for every message the worker posts (e.g. progress). */
  onMessage?: (message: Message) => void
}

/**
 * Starts `script` (an ES module URL or path) on a worker thread with `workerData`, forwards its messages,
 * and resolves with its exit code once it ends (rejects if it throws).
 */
export function runTorchWorker<Message = unknown>(script: URL | string, workerData: unknown, handlers: TorchWorkerHandlers<Message> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { workerData })
    worker.on('message', (m: Message) => handlers.onMessage?.(m))
    worker.once('error', reject)
    worker.once('exit', resolve)
  })
}
