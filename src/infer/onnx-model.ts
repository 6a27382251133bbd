/**
 * One ONNX model in an ONNX Runtime session, and the PatchPredictor the sliding window calls, with no
 * file or Node access: the runtime module and the model's bytes are given. nodal predict gets them from
 * onnx-session.ts (onnxruntime-node or -web, files read from the bundle); nodal view's page from
 * onnxruntime-web in a worker and the server's /model routes.
 */
import type * as Ort from 'onnxruntime-common'
import { NodalError } from '../errors.js'
import type { PatchPredictor } from './sliding-window.js'

export type OrtModule = typeof Ort

export interface OnnxCreateOptions {
  /** Intra-op threads (the WebAssembly runtime takes them from ort.env.wasm instead). */
  threads: number
  /** Execution providers, e.g. ['webgpu', 'wasm'] in a browser; default the runtime's own. */
  executionProviders?: string[]
  /** The model's name in messages (a file name); default its size. */
  what?: string
}

export class OnnxModelBase {
  private released = false

  /** Use create() (or OnnxModel.load in Node); the constructor wraps an open session. */
  constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    readonly inputName: string,
    readonly outputName: string,
  ) {}

  /** Opens an ONNX model from its bytes (or, with onnxruntime-node, a path) in the given runtime. */
  static async create<T extends OnnxModelBase>(this: new (ort: OrtModule, session: Ort.InferenceSession, inputName: string, outputName: string) => T,
    ort: OrtModule, model: Uint8Array | string, options: OnnxCreateOptions): Promise<T> {
    const sessionOptions: Ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      ...(options.executionProviders ? { executionProviders: options.executionProviders } : {}),
    }
    const what = options.what ?? (typeof model === 'string' ? model : `an ONNX model (${model.length} bytes)`)
    let session: Ort.InferenceSession
    try {
      session = typeof model === 'string'
        ? await ort.InferenceSession.create(model, sessionOptions)
        : await ort.InferenceSession.create(model, sessionOptions)
    } catch (error) {
      throw new NodalError('bad-model', `${what}: ONNX Runtime cannot load it (${(error as Error).message})`)
    }
    const inputName = session.inputNames[0]
    const outputName = session.outputNames[0]
    if (inputName === undefined || outputName === undefined) {
      await session.release()
      throw new NodalError('bad-model', `${what}: the model has no input or no output`)
    }
    return new this(ort, session, inputName, outputName)
  }

  /** A PatchPredictor for patches [B, channels, ...patch]; returns the model's logits [B, K, ...patch]. */
  predictor(patch: [number, number, number], channels: number): PatchPredictor {
    const patchValues = channels * patch[0] * patch[1] * patch[2]
    return async (batch, batchSize) => {
      if (this.released) throw new NodalError('released', 'the ONNX model was released')
      if (batch.length !== batchSize * patchValues) {
        throw new NodalError('bad-argument', `ONNX predictor: ${batch.length} values for ${batchSize} patches of ${channels}×${patch.join('×')}`)
      }
      const input = new this.ort.Tensor('float32', batch, [batchSize, channels, ...patch])
      const outputs = await this.session.run({ [this.inputName]: input })
      const output = outputs[this.outputName]
      if (!output || output.type !== 'float32') throw new NodalError('bad-model', `ONNX predictor: output '${this.outputName}' is missing or not float32`)
      return output.data as Float32Array
    }
  }

  /** One run with named float32 inputs; returns every output by name. */
  async run(feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
    if (this.released) throw new NodalError('released', 'the ONNX model was released')
    const inputs = Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, new this.ort.Tensor('float32', f.data, f.dims)]))
    const outputs = await this.session.run(inputs)
    return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, { data: t.data as Float32Array, dims: t.dims }]))
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    await this.session.release()
  }
}
