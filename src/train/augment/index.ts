/**
 * nnU-Net-style data augmentation for 3D segmentation training, on typed arrays so it can run in worker
 * threads next to the training step. All randomness comes from the `rng` passed in, so a seeded rng gives
 * byte-identical patches.
 *
 * Order per patch: spatial transform (rotation ∘ zoom ∘ elastic, one resampling pass; a plain centre crop
 * when none is drawn), intensity transforms (image only), mirroring (image and label together).
 */
import type { Rng } from './common.js'
import { augmentIntensity, type IntensityOptions } from './intensity.js'
import {
  centerCrop, drawSpatialTransform, randomMirror, spatialTransform,
  type AugmentInput, type AugmentOutput, type SpatialOptions, type Vec3,
} from './spatial.js'

export * from './common.js'
export * from './intensity.js'
export * from './spatial.js'

export interface AugmentOptions extends SpatialOptions, IntensityOptions {}

/** Spacing ratio (largest / smallest) above which data count as anisotropic, as in nnU-Net. */
export const anisotropyThreshold = 3

export function isAnisotropic(spacing: Vec3): boolean {
  return Math.max(...spacing) / Math.min(...spacing) > anisotropyThreshold
}

/**
 * nnU-Net-like defaults. For anisotropic spacing (largest / smallest > 3) rotation is in-plane only (about
 * the z axis, ±180°) and low-resolution simulation leaves the z axis alone.
 */
export function defaultAugmentOptions(spacing: Vec3): AugmentOptions {
  const anisotropic = isAnisotropic(spacing)
  return {
    rotation: { probability: 0.2, maxDegrees: anisotropic ? [180, 0, 0] : [30, 30, 30] },
    scaling: { probability: 0.2, range: [0.7, 1.4] },
    elastic: { probability: 0.1, alphaMm: [0, 2], sigmaMm: [8, 12] },
    mirror: { axes: [0, 1, 2] },
    gamma: { probability: 0.3, range: [0.7, 1.5], invertedProbability: 0.1 },
    brightness: { probability: 0.15, range: [0.75, 1.25] },
    contrast: { probability: 0.15, range: [0.75, 1.25] },
    noise: { probability: 0.1, maxVariance: 0.1 },
    blur: { probability: 0.2, sigmaVoxels: [0.5, 1.0] },
    lowResolution: { probability: 0.25, zoomRange: [0.5, 1], axes: anisotropic ? [1, 2] : [0, 1, 2] },
  }
}

/**
 * Takes a region (usually larger than the patch, so rotations do not pull in padding) and returns a patch
 * of `patchShape` centred on the region's centre, transformed.
 */
export function augmentPatch(input: AugmentInput, patchShape: Vec3, options: AugmentOptions,
  rng: Rng): AugmentOutput {
  const spatial = drawSpatialTransform(options, patchShape, input.spacing, rng)
  const patch = spatial
    ? spatialTransform(input, patchShape, spatial.matrix, spatial.displacement)
    : centerCrop(input, patchShape)
  augmentIntensity(patch.image, input.channels, patchShape, options, rng)
  randomMirror(patch, options.mirror.axes, rng)
  return patch
}
