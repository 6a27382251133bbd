/**
 * ONNX Runtime behind the sliding-window predictor: load a nodal ONNX export once, then hand out
 * PatchPredictors that reuse the same session. Only this file loads a runtime.
 *
 * The runtime is onnxruntime-node (native, fastest) where it is installed, else onnxruntime-web's
 * WebAssembly build, which runs in Node too. onnxruntime-node is an optional dependency because its
 * install step downloads CUDA files from nuget.org: where that host cannot be reached, npm drops the
 * package and nodal still predicts, on WebAssembly. NODAL_ONNX_RUNTIME=web forces the WebAssembly one.
 */
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { NodalError } from '../errors.js'
import { OnnxModelBase, type OrtModule } from './onnx-model.js'

export { OnnxModelBase } from './onnx-model.js'

type RuntimeName = 'onnxruntime-node' | 'onnxruntime-web'
interface Runtime { ort: OrtModule; name: RuntimeName }

const runtimes = new Map<string, Promise<Runtime>>()

/**
 * The ONNX Runtime nodal runs on: `wanted` 'node' or 'web', or by default (NODAL_ONNX_RUNTIME unset)
 * onnxruntime-node, falling back to onnxruntime-web (WebAssembly) where the native one is missing.
 */
export function onnxRuntime(wanted: string | undefined = process.env.NODAL_ONNX_RUNTIME): Promise<Runtime> {
  const key = wanted ?? 'auto'
  if (!runtimes.has(key)) runtimes.set(key, loadRuntime(wanted))
  return runtimes.get(key)!
}

async function loadRuntime(wanted: string | undefined): Promise<Runtime> {
  if (wanted !== undefined && wanted !== 'node' && wanted !== 'web') throw new NodalError('bad-argument', `ONNX runtime "${wanted}": use node or web (NODAL_ONNX_RUNTIME)`)
  if (wanted !== 'web') {
    try {
      return { ort: (await import('onnxruntime-node')) as unknown as OrtModule, name: 'onnxruntime-node' }
    } catch (error) {
      if (wanted === 'node') throw new NodalError('missing-dependency', `onnxruntime-node cannot be loaded (${(error as Error).message.split('\n')[0]})`)
      process.stderr.write('nodal: onnxruntime-node is not installed; running the model on onnxruntime-web (WebAssembly, slower)\n')
    }
  }
  try {
    return { ort: (await import('onnxruntime-web')) as unknown as OrtModule, name: 'onnxruntime-web' }
  } catch (error) {
    throw new NodalError('missing-dependency', `neither onnxruntime-node nor onnxruntime-web can be loaded (${(error as Error).message.split('\n')[0]}); reinstall nodal`)
  }
}

export interface OnnxSessionOptions {
  /** Intra-op threads; default os.availableParallelism(). */
  threads?: number
  /** 'node' or 'web'; default NODAL_ONNX_RUNTIME, else onnxruntime-node with onnxruntime-web as fallback. */
  runtime?: 'node' | 'web'
}

/** OnnxModelBase opened from a file or bytes in the runtime onnxRuntime() picks (Node). */
export class OnnxModel extends OnnxModelBase {
  /** Opens an ONNX model from a file path or from its bytes (e.g. exportOnnx's result). */
  static async load(pathOrBytes: string | Uint8Array, options: OnnxSessionOptions = {}): Promise<OnnxModel> {
    const threads = options.threads ?? availableParallelism()
    if (!(Number.isInteger(threads) && threads >= 1)) throw new NodalError('bad-argument', `ONNX Runtime threads ${threads} must be a positive integer`)
    const { ort, name } = await onnxRuntime(options.runtime ?? process.env.NODAL_ONNX_RUNTIME)
    // the WebAssembly build takes its threads from env, and only bytes (it has no file system of its own)
    if (name === 'onnxruntime-web') ort.env.wasm.numThreads = threads
    const what = typeof pathOrBytes === 'string' ? pathOrBytes : `an ONNX model (${pathOrBytes.length} bytes)`
    const model = typeof pathOrBytes === 'string' && name === 'onnxruntime-web' ? new Uint8Array(readFileSync(pathOrBytes)) : pathOrBytes
    return OnnxModel.create(ort, model, { threads, what })
  }
}
