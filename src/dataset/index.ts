/**
 * nodal's one home for the nnU-Net v2 raw dataset layout: reading and writing dataset.json, listing
 * cases, label sets, cross-validation splits and checks of a case's volumes.
 * Depends only on src/io/index.ts, src/volume and src/errors.
 */
export * from './layout.js'
export * from './labels.js'
export * from './splits.js'
export * from './check.js'
export * from './merge.js'
export * from './check-dataset.js'
