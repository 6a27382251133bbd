/**
 * Which patches make up a batch. Every choice comes from a generator seeded by (seed, iteration), so the
 * batch of iteration i is the same whether the run was interrupted or not (exact resume), whichever
 * worker builds it.
 *
 * Foreground oversampling as nnU-Net: the last ceil(B·p) items of a batch of B are centred on a labelled
 * node (at least a third of patches with the default p = 0.33), the rest anywhere. Nodes are drawn per
 * connected component, not per voxel, so small nodes are seen as often as large ones; with the malignant
 * or classes target, malignant nodes (and borders between touching nodes) are drawn three times as often.
 */
import type { CacheHeader, Region } from '../preprocess/cache.js'
import { makeRng, type Rng } from './augment/index.js'

export type Triple = [number, number, number]

export const TARGETS = ['all-nodes', 'malignant', 'classes'] as const
export type Target = (typeof TARGETS)[number]

export interface PatchRequest {
  caseIndex: number
  region: Region
  /** Seeds this patch's augmentation. */
  seed: number
}

export interface SamplerSettings {
  patch: Triple
  batch: number
  oversampling: number
  /** The region read around a patch, larger than it so that rotation and zoom find real voxels. */
  region: Triple
  /** Rare labels drawn three times as often (malignant nodes, borders between touching nodes) for the malignant / classes targets. */
  favoured: number[]
  target: Target
}

/** A 32-bit seed from a run seed and an iteration (splitmix-style mixing). */
export function iterationSeed(seed: number, iteration: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(iteration + 1, 0x85ebca6b)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

/** Region size for a patch: room for rotation in the planes that rotate, and for zooming out a little. */
export function regionFor(patch: Triple, inPlaneOnly: boolean): Triple {
  return patch.map((p, a) => (inPlaneOnly && a === 0 ? Math.ceil(p * 1.15) : Math.ceil(p * 1.4))) as Triple
}

export function sampleBatch(cases: CacheHeader[], iteration: number, seed: number, s: SamplerSettings): PatchRequest[] {
  const rng = makeRng(iterationSeed(seed, iteration))
  const forced = Math.ceil(s.batch * s.oversampling)
  return Array.from({ length: s.batch }, (_, b) => {
    const caseIndex = Math.floor(rng() * cases.length)
    const header = cases[caseIndex]!
    const centre = b >= s.batch - forced ? nodeCentre(header, s, rng) ?? anyCentre(header, rng) : anyCentre(header, rng)
    const start = centre.map((c, a) => c - Math.floor(s.region[a]! / 2)) as Triple
    return { caseIndex, region: { start, size: s.region }, seed: Math.floor(rng() * 4294967296) }
  })
}

/** A voxel of a node, shifted by up to a quarter patch so that nodes are not always in the middle. */
function nodeCentre(h: CacheHeader, s: SamplerSettings, rng: Rng): Triple | null {
  if (h.components.length === 0) return null
  const favour = s.target !== 'all-nodes'
  const weights = h.components.map((c) => (favour && s.favoured.includes(c.label) ? 3 : 1))
  let pick = rng() * weights.reduce((a, b) => a + b, 0)
  let chosen = h.components.length - 1
  for (let i = 0; i < weights.length; i++) {
    if ((pick -= weights[i]!) < 0) {
      chosen = i
      break
    }
  }
  const samples = h.components[chosen]!.samples
  const flat = samples[Math.floor(rng() * samples.length)]!
  const [, Y, X] = h.shape
  const voxel: Triple = [Math.floor(flat / (Y * X)), Math.floor(flat / X) % Y, flat % X]
  return voxel.map((v, a) => v + Math.round((rng() - 0.5) * 0.5 * s.patch[a]!)) as Triple
}

/** Anywhere in the case (a patch may hang over the edge by up to half its size, as in nnU-Net). */
function anyCentre(h: CacheHeader, rng: Rng): Triple {
  return h.shape.map((n) => Math.floor(rng() * n)) as Triple
}

/** Label value lookup for a training target: dataset labels -> network classes (255 stays ignore). */
export function targetLookup(target: Target, foreground: number[], malignant: number[], ignore: number | null): Uint8Array {
  const lut = new Uint8Array(256)
  for (let v = 0; v < 256; v++) {
    if (v === 0) lut[v] = 0
    else if (v === ignore || v === 255) lut[v] = 255
    else if (!foreground.includes(v)) lut[v] = 0
    else if (target === 'all-nodes') lut[v] = 1
    else if (target === 'malignant') lut[v] = malignant.includes(v) ? 1 : 0
    else lut[v] = foreground.indexOf(v) + 1
  }
  return lut
}

export function classesFor(target: Target, foreground: number[]): number {
  return target === 'classes' ? foreground.length + 1 : 2
}
