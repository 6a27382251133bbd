/**
 * Network topology from patch and spacing, in nnU-Net's way: an axis is downsampled (stride 2) while its
 * feature map stays >= 4 voxels and its spacing is not more than twice the finest current spacing (so a
 * thick-slice axis waits until the in-plane axes have caught up); its kernel is 1 while it is that coarse.
 */
import type { UNetConfig } from '../models/index.js'
import type { Triple } from './plans.js'

export const MAX_STAGES = 6
export const MAX_FEATURES = 320

export interface Topology {
  strides: number[][]
  kernelSizes: number[][]
  /** Product of strides per axis: the patch must be a multiple of it. */
  totalStride: Triple
}

/** Strides and kernels for a patch of about `patch` voxels at `spacing` (both [z, y, x]). */
export function topologyFor(patch: Triple, spacing: Triple): Topology {
  const size = [...patch]
  const current = [...spacing]
  const strides: number[][] = [[1, 1, 1]]
  const kernelSizes: number[][] = [kernelsAt(current)]
  while (strides.length < MAX_STAGES) {
    const finest = Math.min(...current)
    const stride = [0, 1, 2].map((a) => (size[a]! / 2 >= 4 && current[a]! <= 2 * finest ? 2 : 1))
    if (stride.every((s) => s === 1)) break
    for (let a = 0; a < 3; a++) {
      size[a] = Math.floor(size[a]! / stride[a]!)
      current[a] = current[a]! * stride[a]!
    }
    strides.push(stride)
    kernelSizes.push(kernelsAt(current))
  }
  const totalStride = [0, 1, 2].map((a) => strides.reduce((p, s) => p * s[a]!, 1)) as Triple
  return { strides, kernelSizes, totalStride }
}

function kernelsAt(spacing: number[]): number[] {
  const finest = Math.min(...spacing)
  return spacing.map((s) => (s > 2 * finest ? 1 : 3))
}

/** Rounds each axis up to a multiple of the topology's total stride. */
export function fitPatch(patch: Triple, totalStride: Triple): Triple {
  return patch.map((p, a) => Math.max(totalStride[a]!, Math.ceil(p / totalStride[a]!) * totalStride[a]!)) as Triple
}

/** A U-Net configuration: features base·2^s capped at 320, deep supervision on. */
export function unetConfigFor(patch: Triple, spacing: Triple, baseFeatures: number, inChannels: number, numClasses: number): { config: UNetConfig; patch: Triple } {
  let topology = topologyFor(patch, spacing)
  const fitted = fitPatch(patch, topology.totalStride)
  topology = topologyFor(fitted, spacing)
  const finalPatch = fitPatch(fitted, topology.totalStride)
  return {
    patch: finalPatch,
    config: {
      dims: 3,
      inChannels,
      numClasses,
      features: topology.strides.map((_, s) => Math.min(baseFeatures * 2 ** s, MAX_FEATURES)),
      kernelSizes: topology.kernelSizes,
      strides: topology.strides,
      deepSupervision: true,
    },
  }
}

/** A rough cost of one training step (voxels × width², summed over stages) used to rank candidates before timing them. */
export function costProxy(config: UNetConfig, patch: Triple): number {
  let voxels = patch[0] * patch[1] * patch[2]
  let cost = 0
  config.features.forEach((f, s) => {
    const stride = config.strides[s]!
    voxels /= stride[0]! * stride[1]! * stride[2]!
    const k = config.kernelSizes[s]!.reduce((p, v) => p * v, 1)
    cost += voxels * f * f * k
  })
  return cost
}
