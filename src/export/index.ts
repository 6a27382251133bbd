export * from './onnx.js'
