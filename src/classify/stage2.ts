/**
 * Stage 2 at prediction time: every candidate stage 1 found is measured and cut out (src/classify/candidate.ts,
 * the code training used), run through the bundle's node classifier (ONNX Runtime, batched) and given
 * P(not a node), P(benign), P(malignant) and a class-activation map of the decision.
 */
import { CLASSIFIER_CLASSES, type ClassifierSpec } from '../bundle/schema.js'
import { NodalError } from '../errors.js'
import type { OnnxModelBase } from '../infer/onnx-model.js'
import type { Grid } from '../volume/volume.js'
import { camOnPatch } from './cam.js'
import { type CandidateRegion, type CandidateScan, extractPatch, measureCandidate, measuredVector, patchGrid } from './candidate.js'

export interface NodeVerdict {
  /** In CLASSIFIER_CLASSES order: not_node, benign, malignant. */
  probabilities: number[]
  /** Class-activation map of the winning class on the patch grid, in [0, 1]. */
  cam: Float32Array
  grid: Grid
}

const BATCH = 16

export class NodeClassifierRunner {
  private constructor(readonly spec: ClassifierSpec, private readonly session: OnnxModelBase) {}

  /** The classifier of `spec`, its ONNX file (spec.onnx, in the bundle `dir`) opened by `open`. */
  static async load(dir: string, spec: ClassifierSpec, open: (file: string) => Promise<OnnxModelBase>): Promise<NodeClassifierRunner> {
    if (spec.classes.join() !== CLASSIFIER_CLASSES.join()) throw new NodalError('bad-model', `${dir}: classifier ${spec.name} has classes ${spec.classes.join(', ')}; this nodal reads ${CLASSIFIER_CLASSES.join(', ')}`)
    return new NodeClassifierRunner(spec, await open(spec.onnx))
  }

  async classify(scan: CandidateScan, regions: CandidateRegion[]): Promise<NodeVerdict[]> {
    const { patch, measured } = this.spec
    const voxels = patch.channels.length * patch.size ** 3
    const verdicts: NodeVerdict[] = []
    for (let start = 0; start < regions.length; start += BATCH) {
      const batch = regions.slice(start, start + BATCH)
      const patches = new Float32Array(batch.length * voxels)
      const vectors = new Float32Array(batch.length * measured.names.length)
      const grids: Grid[] = []
      batch.forEach((region, b) => {
        const m = measureCandidate(scan, region)
        patches.set(extractPatch(scan, region, m.centre_mm, patch), b * voxels)
        vectors.set(measuredVector(m.values, measured.names, measured.mean, measured.std), b * measured.names.length)
        grids.push(patchGrid(m.centre_mm, patch.size, patch.spacing_mm))
      })
      const out = await this.session.run({
        patch: { data: patches, dims: [batch.length, patch.channels.length, patch.size, patch.size, patch.size] },
        measured: { data: vectors, dims: [batch.length, measured.names.length] },
      })
      verdicts.push(...toVerdicts(out.logits!, out.cam!, grids, patch.size))
    }
    return verdicts
  }

  async release(): Promise<void> {
    await this.session.release()
  }
}

function toVerdicts(logits: { data: Float32Array }, cam: { data: Float32Array; dims: readonly number[] }, grids: Grid[], size: number): NodeVerdict[] {
  const classes = CLASSIFIER_CLASSES.length
  const dims = cam.dims.slice(2) as [number, number, number]
  const mapSize = dims[0] * dims[1] * dims[2]
  return grids.map((grid, b) => {
    const probabilities = softmax(logits.data.subarray(b * classes, (b + 1) * classes))
    const winner = probabilities.indexOf(Math.max(...probabilities))
    const raw = cam.data.subarray((b * classes + winner) * mapSize, (b * classes + winner + 1) * mapSize)
    return { probabilities, cam: camOnPatch(raw, dims, size), grid }
  })
}

export function softmax(z: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(z))
  const e = Array.from(z, (v) => Math.exp(v - max))
  const sum = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / sum)
}
