/**
 * A `nodal predict` case without a network, for the output writers' and evaluate's tests: a label map
 * of network classes (and per-voxel foreground probabilities) on a scan's grid becomes a PredictionResult
 * through the real node extraction (src/infer/nodes.ts), and a CaseOutput around it.
 */
import type { ModelJson, OutputClass } from '../../src/bundle/index.js'
import { extractNodes } from '../../src/infer/nodes.js'
import type { CaseOutput, OutputFormat } from '../../src/infer/outputs.js'
import type { PredictionResult } from '../../src/infer/predict.js'
import { Volume } from '../../src/volume/volume.js'

export const BACKGROUND: OutputClass = { index: 0, name: 'background', dataset_labels: [0] }
/** An all-nodes model: one class standing for benign (1) and malignant (2) nodes. */
export const ALL_NODES_CLASSES: OutputClass[] = [BACKGROUND, { index: 1, name: 'node', dataset_labels: [1, 2] }]
export const BENIGN_MALIGNANT_CLASSES: OutputClass[] = [
  BACKGROUND, { index: 1, name: 'benign_node', dataset_labels: [1] }, { index: 2, name: 'malignant_node', dataset_labels: [2] },
]

export function fakeModel(classes: OutputClass[], scheme: 'ct' | 'zscore' = 'ct'): ModelJson {
  return {
    format: 'nodal-model', version: 1, name: 'test-model', created: '2024-01-01T00:00:00Z', nodal_version: '0.1.0',
    target: classes.length > 2 ? 'benign-malignant' : 'all-nodes', classes,
    channels: [{ name: scheme === 'ct' ? 'CT' : 'MR', normalization: scheme === 'ct' ? { scheme: 'ct', clip: [-1000, 1000], mean: 0, std: 1 } : { scheme: 'zscore' } }],
    network: { name: 'unet', config: {} }, patch_size: [32, 32, 32], target_spacing: [1, 1, 1], loss: 'dice_ce',
    folds: [{ fold: 0, onnx: 'fold_0.onnx', weights: 'fold_0.bin', iterations: 1, training_seconds: 1, validation_cases: 1, validation: null }],
    synthetic_training_data: false, intended_use: 'tests',
  } as unknown as ModelJson
}

/**
 * A prediction from network classes per voxel (`labels`, on the scan's grid) and the foreground
 * probability per voxel (default 0.9 inside, 0 outside).
 */
export function fakeResult(labels: Volume, classes: OutputClass[], o: { image?: Volume | null; foreground?: Float32Array; warnings?: string[] } = {}): PredictionResult {
  const foreground = o.foreground ?? Float32Array.from(labels.data, (v) => (v > 0 ? 0.9 : 0))
  const ct = o.image && String(o.image.meta.modality ?? '').toUpperCase() === 'CT' ? o.image : null
  const { instances, nodes } = extractNodes(labels, foreground, { classes, ct })
  return {
    labels, instances, nodes, probabilities: null, uncertainty: null, warnings: o.warnings ?? [], foreground, stage2: null, cam: null,
    timings: { preprocess: 0, network: 0, postprocess: 0 }, network: { shape: [1, 1, 1], tiles: 0, skippedTiles: 0 },
  }
}

export function fakeCase(name: string, model: ModelJson, result: PredictionResult, o: { image?: Volume; dicomDir?: string | null; formats?: OutputFormat[] } = {}): CaseOutput {
  return {
    caseName: name, input: `${name}.nii.gz`, dicomDir: o.dicomDir ?? null, model, modelDir: 'models/test', result,
    formats: new Set(o.formats ?? ['nifti', 'json', 'csv']), seconds: 1.5, image: o.image,
  }
}
