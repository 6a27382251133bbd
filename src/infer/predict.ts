/**
 * The one entry point for prediction (as transformers.js hides its sessions):
 *   const model = await loadModel(dir); const result = await model.predict([ct])
 * Read -> preprocess exactly as the bundle's plans say (src/preprocess, the path training used) -> ONNX
 * Runtime sliding window (src/infer/sliding-window.ts, shared with training's validation and the viewer),
 * optional mirroring TTA and fold ensembling -> probabilities back onto the input grid by world coordinates
 * -> labels -> nodes (26-connected components, small ones removed, measured).
 */
import { join } from 'node:path'
import { readBundle } from '../bundle/index.js'
import { OnnxModel } from './onnx-session.js'
import { NodalPipeline } from './pipeline.js'

export type { PredictOptions, PredictionResult } from './pipeline.js'
export { NodalPipeline } from './pipeline.js'

export interface LoadOptions {
  threads?: number
  /** Folds to ensemble (default: every fold in the bundle). */
  folds?: (number | 'all')[]
}

/** The pipeline of a bundle folder, its ONNX files opened in onnxruntime-node (or -web in Node). */
export class NodalModel extends NodalPipeline {
  static async load(dir: string, options: LoadOptions = {}): Promise<NodalModel> {
    const json = readBundle(dir)
    const open = (file: string) => OnnxModel.load(join(dir, file), { threads: options.threads })
    return NodalModel.open(dir, json, open, { folds: options.folds })
  }
}

export async function loadModel(dir: string, options: LoadOptions = {}): Promise<NodalModel> {
  return NodalModel.load(dir, options)
}
