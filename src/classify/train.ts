/**
 * Trains stage 2, the node classifier (src/models/classifier.ts), on collected samples (src/classify/samples.ts):
 * cases split into training and validation (by case, so no node is seen on both sides), inverse-frequency
 * class weights, Adam, random shifts (a spec.size crop of the larger stored patch) and flips along each
 * patient axis, the epoch with the lowest validation loss kept. Reports on the validation cases: ROC AUC of
 * malignant vs benign among true nodes, ROC AUC of node vs not-a-node among all candidates, and accuracy.
 */
import { CLASSIFIER_CLASSES } from '../bundle/index.js'
import { NodalError } from '../errors.js'
import { rocAuc } from '../eval/classification.js'
import { NodeClassifier } from '../models/classifier.js'
import { makeRng } from '../random.js'
import { availableParallelism } from 'node:os'
import { Adam, manualSeed, noGrad, setNumThreads, type Tensor, tensor, tidy } from '../torch/index.js'
import { crossEntropy } from '../train/losses/index.js'
import { type MeasuredFeature, type PatchChannel } from './candidate.js'
import { type SampleSet } from './samples.js'
import { chooseOperatingPoint, type OperatingPoint } from './operating-point.js'

/** Features per stage: small, so that a classifier trains in minutes on two CPU cores. */
export const DEFAULT_FEATURES = [8, 16, 32]

export interface ClassifierTraining {
  samples: SampleSet
  channels: PatchChannel[]
  measured: MeasuredFeature[]
  /** Side of the patch the network sees (the stored patches are larger). */
  size: number
  epochs: number
  batchSize?: number
  lr?: number
  seed: number
  /** libtorch threads (default: every core). */
  threads?: number
  /** Fraction of cases held out for validation. */
  validationFraction?: number
  features?: number[]
  onEpoch?: (epoch: number, epochs: number, trainLoss: number, valLoss: number) => void
}

export interface ClassifierResult {
  model: NodeClassifier
  measuredMean: number[]
  measuredStd: number[]
  validation: { cases: number; samples: number; loss: number; auc_malignant: number | null; auc_node: number | null; accuracy: number; epoch: number }
  training: { cases: number; samples: number; by_label: number[]; epochs: number; seconds: number }
  /** Cuts chosen on the validation samples (operating-point.ts). */
  operatingPoint: OperatingPoint
}

export async function trainClassifier(o: ClassifierTraining): Promise<ClassifierResult> {
  const start = performance.now()
  setNumThreads(o.threads ?? availableParallelism())
  manualSeed(o.seed)
  const rng = makeRng(o.seed)
  const { train, val, valCases, trainCases } = splitByCase(o.samples, o.validationFraction ?? 0.2, rng)
  if (train.length === 0 || val.length === 0) throw new NodalError('bad-dataset', `stage 2 needs samples from at least two cases (${o.samples.records.length} samples)`)
  const { mean, std } = standardisation(o.samples, train, o.measured)
  const data = new SampleTensors(o.samples, o.channels, o.measured, o.size, mean, std)
  const counts = [0, 1, 2].map((l) => train.filter((i) => o.samples.records[i]!.label === l).length)
  const weights = counts.map((c) => (c > 0 ? Math.sqrt(train.length / (3 * c)) : 0))
  const model = new NodeClassifier({ inChannels: o.channels.length, numClasses: CLASSIFIER_CLASSES.length, features: o.features ?? DEFAULT_FEATURES, numMeasured: o.measured.length, dropout: 0.3 })
  const optimizer = new Adam(model.parameters(), { lr: o.lr ?? 1e-3, weightDecay: 1e-4 })
  const batch = o.batchSize ?? 32
  let best: { loss: number; epoch: number; state: Map<string, Tensor> } | null = null
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    model.train()
    const order = shuffled(train, rng)
    let sum = 0
    for (let s = 0; s < order.length; s += batch) {
      const ids = order.slice(s, s + batch)
      const { x, m, y } = data.batch(ids, rng)
      optimizer.zeroGrad()
      const loss = tidy(() => crossEntropy(model.forward(x, m), y, { weight: weights }))
      sum += loss.item() * ids.length
      await loss.backwardAsync()
      loss.dispose(); x.dispose(); m.dispose(); y.dispose()
      optimizer.step()
    }
    const v = evaluate(model, data, val, weights)
    o.onEpoch?.(epoch, o.epochs, sum / order.length, v.loss)
    if (!best || v.loss < best.loss) {
      best?.state.forEach((t) => t.dispose())
      best = { loss: v.loss, epoch, state: new Map([...model.stateDict()].map(([k, t]) => [k, noGrad(() => t.clone())])) }
    }
  }
  model.loadStateDict(best!.state)
  best!.state.forEach((t) => t.dispose())
  const v = evaluate(model, data, val, weights)
  model.eval()
  return {
    model, measuredMean: mean, measuredStd: std,
    validation: { cases: valCases, samples: val.length, loss: round(v.loss), auc_malignant: v.aucMalignant, auc_node: v.aucNode, accuracy: round(v.accuracy), epoch: best!.epoch },
    training: { cases: trainCases, samples: train.length, by_label: counts, epochs: o.epochs, seconds: Math.round((performance.now() - start) / 1000) },
    operatingPoint: chooseOperatingPoint(v.labels, v.probs),
  }
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4
}

function splitByCase(s: SampleSet, fraction: number, rng: () => number) {
  const cases = shuffled([...new Set(s.records.map((r) => r.case))].sort(), rng)
  const nVal = Math.max(1, Math.round(cases.length * fraction))
  const valSet = new Set(cases.slice(0, nVal))
  const train: number[] = [], val: number[] = []
  s.records.forEach((r, i) => (valSet.has(r.case) ? val : train).push(i))
  return { train, val, valCases: nVal, trainCases: cases.length - nVal }
}

function shuffled<T>(items: T[], rng: () => number): T[] {
  const a = items.slice()
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a
}

function standardisation(s: SampleSet, train: number[], names: MeasuredFeature[]): { mean: number[]; std: number[] } {
  const mean = names.map((n) => train.reduce((a, i) => a + s.records[i]!.values[n], 0) / train.length)
  const std = names.map((n, f) => Math.sqrt(train.reduce((a, i) => a + (s.records[i]!.values[n] - mean[f]!) ** 2, 0) / train.length) || 1)
  return { mean, std }
}

/** Batches of network input from the stored samples: the chosen channels, a crop, flips. */
class SampleTensors {
  private readonly channelIndex: number[]
  constructor(private readonly s: SampleSet, channels: PatchChannel[], private readonly names: MeasuredFeature[], private readonly size: number,
    private readonly mean: number[], private readonly std: number[]) {
    this.channelIndex = channels.map((c) => {
      const i = s.channels.indexOf(c)
      if (i < 0) throw new NodalError('bad-input', `the samples have no ${c} channel (they have ${s.channels.join(', ')})`)
      return i
    })
    if (size > s.size) throw new NodalError('bad-input', `patch ${size} is larger than the stored ${s.size}`)
  }

  label(id: number): number {
    return this.s.records[id]!.label
  }

  /** With `rng`: a random crop and random flips (training); without: the centre crop. */
  batch(ids: number[], rng?: () => number): { x: Tensor; m: Tensor; y: Tensor } {
    const n = this.size, S = this.s.size, C = this.channelIndex.length
    const stored = this.s.channels.length * S ** 3
    const x = new Float32Array(ids.length * C * n ** 3)
    const centre = (S - n) >> 1
    ids.forEach((id, b) => {
      const off = rng ? [0, 1, 2].map(() => Math.floor(rng() * (S - n + 1))) : [centre, centre, centre]
      const flip = rng ? [0, 1, 2].map(() => rng() < 0.5) : [false, false, false]
      this.channelIndex.forEach((ch, c) => {
        const src = id * stored + ch * S ** 3
        let o = (b * C + c) * n ** 3
        for (let z = 0; z < n; z++) {
          const sz = off[2]! + (flip[2] ? n - 1 - z : z)
          for (let y = 0; y < n; y++) {
            const sy = off[1]! + (flip[1] ? n - 1 - y : y)
            const row = src + S * (sy + S * sz) + off[0]!
            for (let xx = 0; xx < n; xx++) x[o++] = this.s.patches[row + (flip[0] ? n - 1 - xx : xx)]!
          }
        }
      })
    })
    const m = new Float32Array(ids.length * this.names.length)
    ids.forEach((id, b) => this.names.forEach((name, f) => { m[b * this.names.length + f] = (this.s.records[id]!.values[name] - this.mean[f]!) / this.std[f]! }))
    const y = BigInt64Array.from(ids, (id) => BigInt(this.s.records[id]!.label))
    return { x: tensor(x, [ids.length, C, n, n, n]), m: tensor(m, [ids.length, this.names.length]), y: tensor(y, [ids.length]) }
  }
}

function evaluate(model: NodeClassifier, data: SampleTensors, ids: number[], weights: number[]) {
  model.eval()
  const probs: number[][] = []
  let loss = 0
  for (let s = 0; s < ids.length; s += 64) {
    const chunk = ids.slice(s, s + 64)
    const { x, m, y } = data.batch(chunk)
    noGrad(() => tidy(() => {
      const logits = model.forward(x, m)
      loss += crossEntropy(logits, y, { weight: weights }).item() * chunk.length
      const p = Array.from(logits.softmax(1).toArray() as Float32Array)
      for (let b = 0; b < chunk.length; b++) probs.push(p.slice(b * 3, b * 3 + 3))
    }))
    x.dispose(); m.dispose(); y.dispose()
  }
  const labels = ids.map((id) => data.label(id))
  const aucMalignant = rocAuc(labels.flatMap((l, i) => (l > 0 ? [{ malignant: l === 2, probability: probs[i]![2]! / (probs[i]![1]! + probs[i]![2]!) }] : [])))
  const aucNode = rocAuc(labels.map((l, i) => ({ malignant: l > 0, probability: 1 - probs[i]![0]! })))
  const correct = labels.filter((l, i) => probs[i]!.indexOf(Math.max(...probs[i]!)) === l).length
  return { loss: loss / ids.length, aucMalignant, aucNode, accuracy: correct / ids.length, labels, probs }
}
