/**
 * A model bundle whose answer is known: fold_0.onnx is a 1×1×1 convolution whose foreground-minus-background
 * logit is k·(x − t) on the CT channel, i.e. "node where HU > 100", with a complete model.json and plans.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { exportOnnx } from '../../src/export/onnx.js'
import { nn, noGrad, tensor } from '../../src/torch/index.js'

export const HU_BG = -100, HU_NODE = 300, HU_THRESHOLD = 100
export const CT_NORM = { scheme: 'ct' as const, clip: [-1000, 1000] as [number, number], mean: 0, std: 100 }
const K = 6 // logit slope per normalised unit: p(node) = sigmoid(K·((HU − 100) / 100))

/** fold_0.onnx: Conv(inChannels → 2, kernel 1) with logit_bg = 0, logit_fg = K·(x_ct − t). */
function thresholdOnnx(inChannels: number): Uint8Array {
  const conv = new nn.Conv(3, inChannels, 2, 1)
  const t = (HU_THRESHOLD - CT_NORM.mean) / CT_NORM.std
  const w = new Float32Array(2 * inChannels)
  w[inChannels] = K // output 1 (foreground) reads channel 0 (CT) only
  noGrad(() => {
    conv.weight.copy_(tensor(w, [2, inChannels, 1, 1, 1]))
    conv.bias!.copy_(tensor(new Float32Array([0, -K * t]), [2]))
  })
  return exportOnnx(conv, { inputChannels: inChannels, spatialDims: 3 })
}

/**
 * A border bundle (background, node, node_border): node where HU > 100 as above, and border where HU > 350
 * (its logit K·(x − t) + K·(x − 3.5) passes the node's), so a bright slab between two spheres is their border.
 */
export const HU_BORDER = 450
function borderOnnx(): Uint8Array {
  const conv = new nn.Conv(3, 1, 3, 1)
  const t = (HU_THRESHOLD - CT_NORM.mean) / CT_NORM.std
  noGrad(() => {
    conv.weight.copy_(tensor(new Float32Array([0, K, 2 * K]), [3, 1, 1, 1, 1]))
    conv.bias!.copy_(tensor(new Float32Array([0, -K * t, -K * t - K * 3.5]), [3]))
  })
  return exportOnnx(conv, { inputChannels: 1, spatialDims: 3 })
}

export interface BundleOptions {
  /** Three classes: background, node, node_border (CT only). */
  border?: boolean
  /** Three classes: background, node, node_core, with the border bundle's network (core where HU > 350). */
  core?: boolean
  pet?: boolean
  version?: number
  /** Training spacings [z, y, x]. */
  spacings?: [number, number, number][]
  withoutOnnx?: boolean
  withoutModelJson?: boolean
}

const onnxCache = new Map<number, Uint8Array>()

export function makeBundle(dir: string, o: BundleOptions = {}): string {
  mkdirSync(dir, { recursive: true })
  const channels = [{ name: 'CT', normalization: CT_NORM }, ...(o.pet ? [{ name: 'PET', normalization: { scheme: 'pet' as const, clip: 30, scale: 10 } }] : [])]
  const spacings = o.spacings ?? [[1.5, 1, 1], [2, 0.8, 0.8], [1.25, 0.7, 0.7]]
  const patch: [number, number, number] = [16, 16, 16]
  const target: [number, number, number] = [2.5, 2, 1.5]
  const config = { dims: 3, inChannels: channels.length, numClasses: 2, features: [4, 8], kernelSizes: [[3, 3, 3], [3, 3, 3]], strides: [[1, 1, 1], [2, 2, 2]] }
  const plans = {
    format: 'nodal-plans', version: 1, axis_order: 'zyx',
    dataset: { name: 'Dataset999_test', root: '.', channels: channels.map((c) => c.name), labels: { background: 0, node: 1 }, ignore_label: null },
    fingerprint: {
      cases: spacings.length, spacings, shapes: spacings.map(() => [100, 200, 200]), median_spacing: spacings[0], median_shape: [100, 200, 200],
      foreground_intensity: [{ channel: 0, mean: 50, std: 40, p00_5: -80, p99_5: 200, min: -200, max: 400 }], smallest_node_mm: 5, median_node_mm: 10,
    },
    target_spacing: target, channels: channels.map((c, index) => ({ index, ...c })), patch_size: patch, batch_size: 2,
    network: { name: 'unet', config },
    training: { optimizer: 'sgd', initial_lr: 0.01, momentum: 0.99, nesterov: true, weight_decay: 3e-5, foreground_oversampling: 0.33, deep_supervision: false },
    budget: { minutes: 1, threads: 1, measured_step_ms: 1, expected_iterations: 1, min_iterations: 1, machine: 'test', candidates: [] },
    preprocessed: 'preprocessed',
  }
  const json = {
    format: 'nodal-model', version: o.version ?? 1, name: 'threshold', created: '2024-01-01T00:00:00Z', nodal_version: '0.1.0', target: 'all-nodes',
    classes: [{ index: 0, name: 'background', dataset_labels: [0] }, { index: 1, name: 'node', dataset_labels: [1, 2] },
      ...(o.border ? [{ index: 2, name: 'node_border', dataset_labels: [3] }] : []),
      ...(o.core ? [{ index: 2, name: 'node_core', dataset_labels: [3] }] : [])],
    channels, network: { name: 'unet', config }, patch_size: patch, target_spacing: target, loss: 'dice_ce', plans,
    folds: [{ fold: 0, onnx: 'fold_0.onnx', weights: 'fold_0.safetensors', iterations: 1, training_seconds: 1, validation_cases: 0, validation: null }],
    synthetic_training_data: true, intended_use: 'tests',
  }
  if (!o.withoutModelJson) writeFileSync(join(dir, 'model.json'), JSON.stringify(json, null, 2))
  if (!o.withoutOnnx && (o.border || o.core)) writeFileSync(join(dir, 'fold_0.onnx'), borderOnnx())
  else if (!o.withoutOnnx) {
    const c = channels.length
    if (!onnxCache.has(c)) onnxCache.set(c, thresholdOnnx(c))
    writeFileSync(join(dir, 'fold_0.onnx'), onnxCache.get(c)!)
  }
  return dir
}

