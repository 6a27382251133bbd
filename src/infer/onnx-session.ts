/**
 * ONNX Runtime (Node) behind the sliding-window predictor: load a nodal ONNX export once, then hand out
 * PatchPredictors that reuse the same session. The browser viewer does the same with onnxruntime-web; only
 * this file depends on onnxruntime-node.
 */
import { availableParallelism } from 'node:os'
import * as ort from 'onnxruntime-node'
import { NodalError } from '../errors.js'
import type { PatchPredictor } from './sliding-window.js'

export interface OnnxSessionOptions {
  /** Intra-op threads; default os.availableParallelism(). */
  threads?: number
}

export class OnnxModel {
  private released = false

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputName: string,
    readonly outputName: string,
  ) {}

  /** Opens an ONNX model from a file path or from its bytes (e.g. exportOnnx's result). */
  static async load(pathOrBytes: string | Uint8Array, options: OnnxSessionOptions = {}): Promise<OnnxModel> {
    const threads = options.threads ?? availableParallelism()
    if (!(Number.isInteger(threads) && threads >= 1)) throw new NodalError('bad-argument', `ONNX Runtime threads ${threads} must be a positive integer`)
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    }
    const what = typeof pathOrBytes === 'string' ? pathOrBytes : `an ONNX model (${pathOrBytes.length} bytes)`
    let session: ort.InferenceSession
    try {
      session = typeof pathOrBytes === 'string'
        ? await ort.InferenceSession.create(pathOrBytes, sessionOptions)
        : await ort.InferenceSession.create(pathOrBytes, sessionOptions)
    } catch (error) {
      throw new NodalError('bad-model', `${what}: ONNX Runtime cannot load it (${(error as Error).message})`)
    }
    const inputName = session.inputNames[0]
    const outputName = session.outputNames[0]
    if (inputName === undefined || outputName === undefined) {
      await session.release()
      throw new NodalError('bad-model', `${what}: the model has no input or no output`)
    }
    return new OnnxModel(session, inputName, outputName)
  }

  /** A PatchPredictor for patches [B, channels, ...patch]; returns the model's logits [B, K, ...patch]. */
  predictor(patch: [number, number, number], channels: number): PatchPredictor {
    const patchValues = channels * patch[0] * patch[1] * patch[2]
    return async (batch, batchSize) => {
      if (this.released) throw new NodalError('released', 'the ONNX model was released')
      if (batch.length !== batchSize * patchValues) {
        throw new NodalError('bad-argument', `ONNX predictor: ${batch.length} values for ${batchSize} patches of ${channels}×${patch.join('×')}`)
      }
      const input = new ort.Tensor('float32', batch, [batchSize, channels, ...patch])
      const outputs = await this.session.run({ [this.inputName]: input })
      const output = outputs[this.outputName]
      if (!output || output.type !== 'float32') throw new NodalError('bad-model', `ONNX predictor: output '${this.outputName}' is missing or not float32`)
      return output.data as Float32Array
    }
  }

  /** One run with named float32 inputs; returns every output by name. */
  async run(feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
    if (this.released) throw new NodalError('released', 'the ONNX model was released')
    const inputs = Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, new ort.Tensor('float32', f.data, f.dims)]))
    const outputs = await this.session.run(inputs)
    return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, { data: t.data as Float32Array, dims: t.dims }]))
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    await this.session.release()
  }
}
