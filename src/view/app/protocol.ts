/** Messages between nodal view's page (main.ts) and its inference worker (inference-worker.ts). */

export interface RunRequest {
  type: 'run'
  /** The scan as NIfTI bytes (what the page shows). */
  scan: ArrayBuffer
  /** PET as NIfTI bytes, for a bundle whose stage 2 takes PET. */
  pet: ArrayBuffer | null
  /** URL prefix the bundle's files are fetched from: <base>model.json, <base><file>.onnx. */
  modelBase: string
  /** URL prefix of onnxruntime-web's .wasm/.mjs files. */
  wasmBase: string
  threads: number
}

export interface WorkerNode {
  id: number
  class: string
  class_index: number
  [key: string]: unknown
}

export type WorkerMessage =
  | { type: 'progress'; stage: string; done: number; total: number }
  | { type: 'status'; text: string }
  | {
    type: 'result'
    /** Class per voxel and node id per voxel, in the scan file's voxel order. */
    labels: Uint8Array
    instances: Uint16Array
    nodes: WorkerNode[]
    classes: { index: number; name: string }[]
    warnings: string[]
    seconds: number
    timings: Record<string, number>
    backend: string
  }
  | { type: 'error'; message: string }
