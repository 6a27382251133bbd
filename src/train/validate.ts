/**
 * Validation on whole held-out cases with the sliding-window predictor that `nodal predict` uses
 * (src/infer), here with the network in libtorch: Dice of each class and node detection (26-connected
 * components, matched at IoU >= 0.1 as nnDetection) with sensitivity and false positives per scan, overall
 * and for nodes of short axis >= 10 mm. Measured on the network's grid (the preprocessed cache).
 */
import { detectCase, detectionReport, type CaseDetection } from '../eval/detection.js'
import { type NodeMap, nodesFromLabelMap } from '../eval/nodes.js'
import { slidingWindow } from '../infer/sliding-window.js'
import type { UNet } from '../models/index.js'
import { type CacheHeader, readRegion } from '../preprocess/cache.js'
import { fromZyx } from '../preprocess/index.js'
import { noGrad, tensor, tidy } from '../torch/index.js'
import { Volume } from '../volume/volume.js'
import type { Triple } from './sampler.js'

/** As nodal predict: components smaller than this (mm³) are not nodes. */
export const MIN_NODE_VOLUME_MM3 = 20

export interface ValidationResult {
  cases: number
  /** Pooled Dice (2·TP / (2·TP + FP + FN) over all validation voxels) per foreground class, then their mean. */
  dice: number[]
  mean_dice: number
  /** Node detection over all foreground classes merged. */
  sensitivity: number | null
  fp_per_scan: number
  sensitivity_10mm: number | null
  fp_per_scan_10mm: number
  seconds: number
}

export interface ValidationOptions {
  cacheDir: string
  cases: CacheHeader[]
  patch: Triple
  classes: number
  lookup: Uint8Array
  pad: number[]
  /** Skip tiles whose channel 0 is all below this (air). */
  skipBelow?: number
  onCase?: (done: number, total: number) => void
}

/** A PatchPredictor backed by the libtorch network (eval mode, no autograd). */
export function torchPredictor(model: UNet, patch: Triple, channels: number) {
  return async (batch: Float32Array, batchSize: number): Promise<Float32Array> => {
    model.eval()
    return noGrad(() => tidy(() => model.forward(tensor(batch, [batchSize, channels, ...patch])).toArray() as Float32Array))
  }
}

export async function validate(model: UNet, o: ValidationOptions): Promise<ValidationResult> {
  const start = performance.now()
  const tp = new Float64Array(o.classes), fp = new Float64Array(o.classes), fn = new Float64Array(o.classes)
  const detections: CaseDetection[] = []
  o.onCase?.(0, o.cases.length)
  for (const [i, header] of o.cases.entries()) {
    const { image, label } = readRegion(o.cacheDir, header, { start: [0, 0, 0], size: header.shape }, o.pad)
    for (let v = 0; v < label.length; v++) label[v] = o.lookup[label[v]!]!
    const result = await slidingWindow(image, header.shape, torchPredictor(model, o.patch, header.channels), {
      patch: o.patch, channels: header.channels, classes: o.classes, skipBelow: o.skipBelow,
    })
    const predicted = argmax(result.probabilities, o.classes, label.length)
    countOverlap(predicted, label, o.classes, tp, fp, fn)
    detections.push(detectNodes(predicted, label, result.probabilities, header))
    o.onCase?.(i + 1, o.cases.length)
  }
  const dice = Array.from({ length: o.classes - 1 }, (_, k) => {
    const c = k + 1
    const denominator = 2 * tp[c]! + fp[c]! + fn[c]!
    return denominator ? (2 * tp[c]!) / denominator : 1
  })
  const report = detectionReport(detections)
  const large = report.by_size['>=10mm']!
  return {
    cases: o.cases.length,
    dice,
    mean_dice: dice.reduce((a, b) => a + b, 0) / dice.length,
    sensitivity: report.sensitivity,
    fp_per_scan: report.fp_per_scan,
    sensitivity_10mm: large.sensitivity,
    fp_per_scan_10mm: large.fp_per_scan,
    seconds: (performance.now() - start) / 1000,
  }
}

export function argmax(probabilities: Float32Array, classes: number, voxels: number): Uint8Array {
  const out = new Uint8Array(voxels)
  for (let v = 0; v < voxels; v++) {
    let best = probabilities[v]!
    for (let k = 1; k < classes; k++) {
      const p = probabilities[k * voxels + v]!
      if (p > best) {
        best = p
        out[v] = k
      }
    }
  }
  return out
}

function countOverlap(pred: Uint8Array, truth: Uint8Array, classes: number, tp: Float64Array, fp: Float64Array, fn: Float64Array): void {
  for (let v = 0; v < pred.length; v++) {
    const t = truth[v]!
    if (t === 255) continue
    const p = pred[v]!
    if (p === t) tp[p]++
    else {
      fp[p]++
      fn[t]++
    }
  }
}

/** Nodes = 26-connected components of all foreground classes; a predicted node scores its peak probability. */
function detectNodes(pred: Uint8Array, truth: Uint8Array, probabilities: Float32Array, header: CacheHeader): CaseDetection {
  const shape = fromZyx(header.shape)
  const spacing = fromZyx(header.spacing)
  const truthMap = new Uint8Array(truth.length)
  for (let v = 0; v < truth.length; v++) truthMap[v] = truth[v] !== 0 && truth[v] !== 255 ? 1 : 0
  const predNodes = withoutSmallNodes(nodesFromLabelMap(new Volume(pred.map((p) => (p ? 1 : 0)), shape, spacing), [1]), MIN_NODE_VOLUME_MM3 / (spacing[0] * spacing[1] * spacing[2]))
  const gtNodes = nodesFromLabelMap(new Volume(truthMap, shape, spacing), [1])
  const peak = new Float32Array(predNodes.nodes.length)
  for (let v = 0; v < pred.length; v++) {
    const id = predNodes.ids[v]!
    if (id === 0) continue
    const index = predNodes.indexOfId.get(id)!
    peak[index] = Math.max(peak[index]!, 1 - probabilities[v]!)
  }
  predNodes.nodes.forEach((node, i) => { node.score = peak[i]! })
  return detectCase(predNodes, gtNodes, { by: 'iou', threshold: 0.1 })
}

function withoutSmallNodes(map: NodeMap, minVoxels: number): NodeMap {
  const kept = new Set(map.nodes.filter((n) => n.voxels >= minVoxels).map((n) => n.id))
  for (let v = 0; v < map.ids.length; v++) if (map.ids[v] !== 0 && !kept.has(map.ids[v]!)) map.ids[v] = 0
  const nodes = map.nodes.filter((n) => kept.has(n.id))
  return { ...map, nodes, indexOfId: new Map(nodes.map((n, i) => [n.id, i])) }
}
