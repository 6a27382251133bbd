/**
 * nodal's prediction pipeline with no file or Node access, so that `nodal predict` and nodal view's page
 * (bundled for the browser, src/view/app/worker.ts) run the same code: preprocess exactly as the bundle's
 * plans say (src/preprocess, the path training used) -> ONNX Runtime sliding window
 * (src/infer/sliding-window.ts), optional mirroring TTA and fold ensembling -> probabilities back onto
 * the input grid by world coordinates -> labels -> nodes (26-connected components, small ones removed,
 * measured) -> for multi-stage bundles, stage 2 classifies each node. The model's ONNX sessions come in
 * already open (NodalPipeline.open with an opener; predict.ts opens them from a bundle folder).
 */
import { helperClass, type ModelJson, outputClasses } from '../bundle/schema.js'
import { NodeClassifierRunner } from '../classify/stage2.js'
import { camOverlay } from '../classify/cam.js'
import { NodalError } from '../errors.js'
import { normalizedFloor, preprocessCase, revertChannel, revertToLabels } from '../preprocess/index.js'
import { resampleTo } from '../volume/resample.js'
import { type Grid, sameGrid, Volume } from '../volume/volume.js'
import type { CandidateScan } from '../classify/candidate.js'
import { extractNodes, type PredictedNode } from './nodes.js'
import type { OnnxModelBase } from './onnx-model.js'
import { slidingWindow } from './sliding-window.js'

export interface PredictOptions {
  tta?: boolean
  saveProbabilities?: boolean
  saveUncertainty?: boolean
  /** Tiles per network call; default 2. */
  batchSize?: number
  minVolumeMm3?: number
  /** Multi-stage bundles: 'detector' stops after stage 1 (all candidates, as stage 2's training sees them). */
  stages?: 'all' | 'detector'
  /** Multi-stage: also return the class-activation overlay of every kept node (on the input grid). */
  saveCam?: boolean
  onProgress?: (stage: string, done: number, total: number) => void
}

export interface PredictionResult {
  /** Class index per voxel on the input grid (0 background). */
  labels: Volume
  /** Node id per voxel (0 none); ids are those of `nodes`. */
  instances: Volume
  nodes: PredictedNode[]
  /** With saveProbabilities: one volume per output class, on the input grid. */
  probabilities: Volume[] | null
  /** With saveUncertainty: binary predictive entropy (bits) of node vs background, on the input grid. */
  uncertainty: Volume | null
  warnings: string[]
  /** Stage 1's node (foreground) probability on the input grid. */
  foreground: Float32Array
  /** Multi-stage: how many stage-1 candidates stage 2 rejected as not a node, and the classifier used. */
  stage2: { classifier: string; candidates: number; rejected: number } | null
  /** Multi-stage with saveCam: the class-activation maps of the kept nodes' decisions, in [0, 1]. */
  cam: Volume | null
  timings: { preprocess: number; network: number; postprocess: number; classify?: number }
  /** Network grid and tile counts, for benchmarks. */
  network: { shape: [number, number, number]; tiles: number; skippedTiles: number }
}

export class NodalPipeline {
  constructor(readonly dir: string, readonly json: ModelJson, protected readonly sessions: OnnxModelBase[],
    protected readonly classifiers: NodeClassifierRunner[]) {}

  /**
   * The pipeline of a bundle whose files `open` opens: model.json already read and checked, each ONNX file
   * (named as model.json names it) opened by `open` (nodal predict: from the bundle folder; nodal view's
   * page: fetched from the server into onnxruntime-web).
   */
  static async open<T extends NodalPipeline>(this: new (dir: string, json: ModelJson, sessions: OnnxModelBase[], classifiers: NodeClassifierRunner[]) => T,
    dir: string, json: ModelJson, open: (file: string) => Promise<OnnxModelBase>, options: { folds?: (number | 'all')[] } = {}): Promise<T> {
    const folds = options.folds ? json.folds.filter((f) => options.folds!.includes(f.fold)) : json.folds
    if (options.folds && folds.length !== options.folds.length) {
      const missing = options.folds.filter((k) => !json.folds.some((f) => f.fold === k))
      throw new NodalError('bad-model', `${dir}: has no fold ${missing.join(', ')} (folds: ${json.folds.map((f) => f.fold).join(', ')})`)
    }
    const sessions: OnnxModelBase[] = []
    for (const f of folds) sessions.push(await open(f.onnx))
    const classifiers: NodeClassifierRunner[] = []
    for (const spec of json.pipeline === 'multi' ? json.classifiers ?? [] : []) classifiers.push(await NodeClassifierRunner.load(dir, spec, open))
    return new this(dir, json, sessions, classifiers)
  }

  get channelNames(): string[] {
    return this.json.channels.map((c) => c.name)
  }

  /** Whether a PET channel may follow the detector's channels (a multi-stage bundle with a PET/CT classifier). */
  get acceptsPet(): boolean {
    return this.classifiers.some((c) => c.spec.patch.channels.includes('PET'))
  }

  async predict(input: Volume[], o: PredictOptions = {}): Promise<PredictionResult> {
    const extraPet = this.acceptsPet && input.length === this.json.channels.length + 1 ? input[input.length - 1]! : null
    const channels = extraPet ? input.slice(0, -1) : input
    const warnings = this.check(channels)
    const t0 = performance.now()
    const pre = preprocessCase(channels, { target_spacing: this.json.target_spacing, channels: this.json.channels })
    const t1 = performance.now()
    const classes = this.json.classes.length
    const floor = normalizedFloor(this.json.channels[0]!.normalization)
    let probabilities: Float32Array | null = null
    let disagreement: Float32Array | null = null
    let tiles = 0, skippedTiles = 0
    for (const [i, session] of this.sessions.entries()) {
      const result = await slidingWindow(pre.image, pre.shape, session.predictor(this.json.patch_size, channels.length), {
        patch: this.json.patch_size, channels: channels.length, classes, batchSize: o.batchSize ?? 2,
        mirrorAxes: o.tta ? [0, 1, 2] : undefined,
        skipBelow: Number.isFinite(floor) ? floor + 1e-3 : undefined,
        onProgress: (done, total) => o.onProgress?.(`network${this.sessions.length > 1 ? ` fold ${i + 1}/${this.sessions.length}` : ''}`, done, total),
      })
      probabilities = addInto(probabilities, result.probabilities)
      if (result.disagreement) disagreement = addInto(disagreement, result.disagreement)
      tiles += result.tiles
      skippedTiles += result.skippedTiles
    }
    scale(probabilities!, 1 / this.sessions.length)
    if (disagreement) scale(disagreement, 1 / this.sessions.length)
    const t2 = performance.now()
    const voxels = pre.shape[0] * pre.shape[1] * pre.shape[2]
    const foregroundNet = new Float32Array(voxels)
    for (let v = 0; v < voxels; v++) foregroundNet[v] = 1 - probabilities![v]!
    const foreground = revertChannel(pre.record, foregroundNet).data as Float32Array
    // a border or core class (nodal dataset borders/cores) only helps to keep nodes apart: nodes are found at
    // foreground 0.5 as with two classes, and the helper class marks the voxels where it takes the larger share
    const helper = helperClass(this.json.classes)
    const labels = classes === 2 ? thresholdLabels(foreground, channels[0]!)
      // (the helper channel is brought back only where the foreground passes 0.5: the rest is never read)
      : helper ? nodeAndHelperLabels(foreground, revertChannel(pre.record, probabilities!.subarray(helper.index * voxels, (helper.index + 1) * voxels), 0, aboveHalf(foreground)).data as Float32Array, channels[0]!, helper)
        : revertToLabels(pre.record, probabilities!, classes).labels
    const disagreementOnInput = disagreement ? revertChannel(pre.record, disagreement).data as Float32Array : null
    const ct = this.json.channels[0]!.normalization.scheme === 'ct' ? channels[0]! : null
    const petIndex = this.json.channels.findIndex((c) => c.normalization.scheme === 'pet')
    // PET for SUVmax and for stage 2: a channel of the network, or the one a multi-stage bundle takes after them
    const petInput = petIndex >= 0 ? channels[petIndex]! : extraPet
    const pet = petInput ? onInputGrid(petInput, channels[0]!) : null
    const { instances, nodes } = extractNodes(labels, foreground, { classes: this.json.classes, minVolumeMm3: o.minVolumeMm3, ct, pet, disagreement: disagreementOnInput })
    for (let v = 0; v < labels.data.length; v++) if (instances.data[v] === 0) labels.data[v] = 0 // small components removed
    const t3 = performance.now()
    const staged = this.classifiers.length > 0 && (o.stages ?? 'all') === 'all'
      ? await this.classifyNodes({ ct: channels[0]!, pet, foreground }, labels, instances, nodes, o)
      : { nodes, stage2: null, cam: null }
    const result: PredictionResult = {
      labels, instances, nodes: staged.nodes, warnings, foreground, stage2: staged.stage2, cam: staged.cam,
      probabilities: o.saveProbabilities ? this.json.classes.map((_, k) => revertChannel(pre.record, probabilities!.subarray(k * voxels, (k + 1) * voxels), k === 0 ? 1 : 0)) : null,
      uncertainty: o.saveUncertainty ? entropyVolume(foreground, channels[0]!) : null,
      timings: { preprocess: (t1 - t0) / 1000, network: (t2 - t1) / 1000, postprocess: (t3 - t2) / 1000, ...(staged.stage2 ? { classify: (performance.now() - t3) / 1000 } : {}) },
      network: { shape: pre.shape, tiles, skippedTiles },
    }
    return result
  }

  /**
   * Stage 2: each candidate classified as not a node, benign or malignant. Rejected candidates leave the
   * label and instance maps; kept ones are renumbered 1..n and labelled 1 benign / 2 malignant.
   */
  private async classifyNodes(scan: CandidateScan, labels: Volume, instances: Volume, nodes: PredictedNode[], o: PredictOptions) {
    const runner = (scan.pet ? this.classifiers.find((c) => c.spec.patch.channels.includes('PET')) : undefined)
      ?? this.classifiers.find((c) => !c.spec.patch.channels.includes('PET'))
    if (!runner) throw new NodalError('bad-input', `${this.dir}: this model's node classifier needs PET; give it (e.g. --pet)`)
    o.onProgress?.('classify', 0, nodes.length)
    const verdicts = await runner.classify(scan, nodes.map((n) => ({ instances, id: n.id, bbox: n.bbox_voxels })))
    o.onProgress?.('classify', nodes.length, nodes.length)
    const classes = outputClasses(this.json)
    const newId = new Uint16Array(nodes.length + 1)
    const kept: PredictedNode[] = []
    const cams: { map: Float32Array; grid: Grid }[] = []
    nodes.forEach((node, i) => {
      const [notNode, benign, malignant] = verdicts[i]!.probabilities as [number, number, number]
      if (1 - notNode < runner.spec.reject_below) return
      const pMalignant = malignant / Math.max(benign + malignant, 1e-12)
      const cls = pMalignant >= (runner.spec.malignant_above ?? 0.5) ? 2 : 1
      newId[node.id] = kept.length + 1
      cams.push({ map: verdicts[i]!.cam, grid: verdicts[i]!.grid })
      kept.push({
        ...node, id: kept.length + 1, class: classes[cls]!.name, class_index: cls,
        probability_node: round4(1 - notNode), probability_malignant: round4(pMalignant),
        stage2: { not_node: round4(notNode), benign: round4(benign), malignant: round4(malignant), classifier: runner.spec.name },
      })
    })
    for (let v = 0; v < instances.data.length; v++) {
      const id = instances.data[v]!
      if (id === 0) continue
      instances.data[v] = newId[id]!
      labels.data[v] = newId[id] ? kept[newId[id]! - 1]!.class_index : 0
    }
    return {
      nodes: kept, stage2: { classifier: runner.spec.name, candidates: nodes.length, rejected: nodes.length - kept.length },
      cam: o.saveCam ? camOverlay(labels.grid, cams) : null,
    }
  }

  /** Refuses what the model cannot read; warns where the input is far from what it was trained on. */
  private check(channels: Volume[]): string[] {
    const names = this.channelNames
    if (channels.length !== names.length) {
      throw new NodalError('bad-input', `the model needs ${names.length} channel(s) (${names.join(', ')}), got ${channels.length}${names.length > channels.length ? `: give ${names.slice(channels.length).join(', ')} too (e.g. --pet)` : ''}`)
    }
    channels.forEach((ch, i) => {
      const wanted = this.json.channels[i]!.normalization.scheme
      const modality = String(ch.meta.modality ?? '').toUpperCase()
      const expected = wanted === 'ct' ? ['CT'] : wanted === 'pet' ? ['PT', 'PET'] : ['MR']
      if (modality && modality !== 'UNKNOWN' && !expected.includes(modality) && wanted !== 'zscore') {
        throw new NodalError('bad-input', `channel ${i} is ${modality} but the model was trained on ${names[i]} (${expected.join('/')})`)
      }
      if (wanted === 'zscore' && modality && ['CT', 'PT'].includes(modality)) {
        throw new NodalError('bad-input', `channel ${i} is ${modality} but the model was trained on ${names[i]} (MR)`)
      }
    })
    return this.rangeWarnings(channels[0]!)
  }

  private rangeWarnings(ch0: Volume): string[] {
    const warnings: string[] = []
    const fp = this.json.plans.fingerprint
    const spacing = [ch0.spacing[2], ch0.spacing[1], ch0.spacing[0]]
    spacing.forEach((s, a) => {
      const seen = fp.spacings.map((t) => t[a]!)
      const lo = Math.min(...seen), hi = Math.max(...seen)
      if (s > 2 * hi || s < lo / 2) warnings.push(`voxel spacing ${s.toFixed(2)} mm on axis ${'zyx'[a]} is far outside the training data's ${lo.toFixed(2)}-${hi.toFixed(2)} mm`)
    })
    if (this.json.channels[0]!.normalization.scheme === 'ct') {
      let min = Infinity, max = -Infinity
      for (let v = 0; v < ch0.data.length; v += 7) {
        const x = ch0.data[v]!
        if (x < min) min = x
        if (x > max) max = x
      }
      // HU: fat is below 0 and soft tissue above 0; raw unsigned scanner values (no rescale) start at 0 and run into the thousands
      if (max < 100 || min > -50) warnings.push(`intensities ${min.toFixed(0)}..${max.toFixed(0)} do not look like a CT in Hounsfield units`)
    }
    return warnings
  }

  async release(): Promise<void> {
    for (const s of this.sessions) await s.release()
  }
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4
}

function addInto(sum: Float32Array | null, add: Float32Array): Float32Array {
  if (!sum) return add
  for (let i = 0; i < sum.length; i++) sum[i] += add[i]!
  return sum
}

function scale(a: Float32Array, f: number): void {
  if (f === 1) return
  for (let i = 0; i < a.length; i++) a[i] *= f
}

/** Two classes: argmax is foreground probability > 0.5, from one resampled channel instead of two. */
function thresholdLabels(foreground: Float32Array, like: Volume): Volume {
  const out = new Uint8Array(foreground.length)
  for (let v = 0; v < out.length; v++) out[v] = foreground[v]! > 0.5 ? 1 : 0
  return Volume.zeros(like.grid, 'uint8').withData(out, {})
}

/**
 * A border or core bundle's labels (background, node, node_border or node_core): node where the foreground
 * probability passes 0.5, as for a two-class detector, and the helper class where it takes the larger share of it.
 */
function nodeAndHelperLabels(foreground: Float32Array, helperProbability: Float32Array, like: Volume, classes: { index: number; node: number }): Volume {
  const out = new Uint8Array(foreground.length)
  for (let v = 0; v < out.length; v++) {
    const p = foreground[v]!
    if (p > 0.5) out[v] = helperProbability[v]! > p / 2 ? classes.index : classes.node
  }
  return Volume.zeros(like.grid, 'uint8').withData(out, {})
}

function aboveHalf(p: Float32Array): Uint8Array {
  const out = new Uint8Array(p.length)
  for (let v = 0; v < p.length; v++) out[v] = p[v]! > 0.5 ? 1 : 0
  return out
}

function entropyVolume(foreground: Float32Array, like: Volume): Volume {
  const out = new Float32Array(foreground.length)
  for (let v = 0; v < out.length; v++) {
    const p = foreground[v]!
    out[v] = p <= 0 || p >= 1 ? 0 : -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p))
  }
  return Volume.zeros(like.grid, 'float32').withData(out, {})
}

/** PET read on the CT grid (linear, by world coordinates) for SUVmax. */
function onInputGrid(v: Volume, reference: Volume): Volume {
  return sameGrid(v, reference) ? v : resampleTo(v, reference.grid, { interpolation: 'linear' })
}
