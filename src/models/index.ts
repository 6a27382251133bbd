export * from './blocks.js'
export * from './unet.js'
export * from './classifier.js'
export * from './registry.js'
