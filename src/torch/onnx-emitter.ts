import type { Tensor } from './tensor.js'

/** An ONNX attribute value, tagged with its protobuf type. */
export type OnnxAttribute = { i: number } | { f: number } | { s: string } | { ints: number[] } | { floats: number[] }

/**
 * What a Module needs to describe itself as ONNX nodes. Implemented by src/export/onnx.ts; kept here as an
 * interface so that the nn layer does not depend on the exporter.
 */
export interface OnnxEmitter {
  /** Appends a node and returns the name of its (first) output. */
  node(opType: string, inputs: string[], attributes?: Record<string, OnnxAttribute>): string
  /** Stores a tensor's current value as a float32 initializer and returns its name. */
  initializer(value: Tensor, hint: string): string
  /** A 1-D int64 constant. */
  int64s(values: number[]): string
  /** A float32 constant with the given shape (a scalar for []). */
  floats(values: number[], shape: number[]): string
}
