/**
 * A model bundle: the folder `nodal train` writes and `nodal predict` reads, which a user can copy
 * anywhere. Its file names live here and nowhere else (as transformers.js keeps config.json and friends
 * in one module), and model.json is read through one versioned, checked schema.
 *
 *   model.json            format, version, plans, channels and their normalisation, classes, network,
 *                         per-fold validation metrics and training time
 *   fold_<k>.onnx         the network without its deep-supervision heads (ONNX Runtime, no libtorch)
 *   fold_<k>.safetensors  the weights (for fine-tuning, or for Python)
 *   card.md               data, settings, time, measured metrics, intended use and limits
 *   classifier_<name>.onnx  multi-stage bundles: stage 2, the node classifier (one per input kind, e.g. ct
 *                         and petct); model.json "classifiers" says its patch, features and classes
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { NodalError } from '../errors.js'
import { writeFileAtomic } from '../io/atomic.js'
import { checkModelJson, MODEL_JSON, type ModelJson } from './schema.js'

export * from './schema.js'

function fail(dir: string, problem: string): never {
  throw new NodalError('bad-model', `${dir}: ${problem}`)
}

/** Reads and checks model.json, and that every fold's ONNX file is there. */
export function readBundle(dir: string): ModelJson {
  const path = join(dir, MODEL_JSON)
  if (!existsSync(path)) fail(dir, `not a model bundle (no ${MODEL_JSON})`)
  let json: ModelJson
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as ModelJson
  } catch (e) {
    fail(dir, `${MODEL_JSON} is not valid JSON (${(e as Error).message.split('\n')[0]})`)
  }
  checkModelJson(json, dir)
  for (const f of json.folds) if (!existsSync(join(dir, f.onnx))) fail(dir, `${f.onnx} is missing`)
  for (const c of json.pipeline === 'multi' ? json.classifiers! : []) if (!existsSync(join(dir, c.onnx))) fail(dir, `${c.onnx} is missing`)
  return json
}

/** Writes model.json atomically. */
export function writeModelJson(dir: string, json: ModelJson): void {
  const path = join(dir, MODEL_JSON)
  writeFileAtomic(path, JSON.stringify(json, null, 2) + '\n')
}
