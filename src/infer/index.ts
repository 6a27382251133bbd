/**
 * Whole-volume inference. A browser bundle should import './sliding-window.js' directly: this index also
 * re-exports the onnxruntime-node session wrapper.
 */
export * from './sliding-window.js'
export * from './onnx-session.js'
