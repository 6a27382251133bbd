/**
 * ONNX export of the networks in src/models (and any Module): each module describes itself through the
 * OnnxEmitter interface (Module.toOnnx); this file collects the nodes and initializers and writes an ONNX
 * ModelProto (opset 17) with dynamic batch and spatial axes. Field numbers follow onnx/onnx.proto.
 */
import { rename, writeFile } from 'node:fs/promises'
import { releaseTemp, trackTemp } from '../io/temp.js'
import { NodalError } from '../errors.js'
import { type Module, type OnnxAttribute, type OnnxEmitter, type Tensor } from '../torch/index.js'
import { ProtoWriter } from './protobuf.js'

export const onnxOpset = 17
const irVersion = 8 // the IR version that goes with opset 17

const enum DataType {
  Float = 1,
  Int64 = 7,
}

const enum AttributeType {
  Float = 1,
  Int = 2,
  String = 3,
  Floats = 6,
  Ints = 7,
}

interface NodeRecord {
  opType: string
  inputs: string[]
  output: string
  attributes: Record<string, OnnxAttribute>
}

interface InitializerRecord {
  name: string
  dims: number[]
  dataType: DataType
  raw: Uint8Array
}

function rawBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
}

/** Collects the graph as modules emit it. */
class GraphBuilder implements OnnxEmitter {
  readonly nodes: NodeRecord[] = []
  readonly initializers: InitializerRecord[] = []
  private counter = 0

  private fresh(hint: string): string {
    return `${hint}_${this.counter++}`
  }

  node(opType: string, inputs: string[], attributes: Record<string, OnnxAttribute> = {}): string {
    const output = this.fresh(opType.toLowerCase())
    this.nodes.push({ opType, inputs, output, attributes })
    return output
  }

  initializer(value: Tensor, hint: string): string {
    const data = value.detach().to({ dtype: 'float32', device: 'cpu' })
    const name = this.fresh(hint)
    this.initializers.push({ name, dims: data.shape, dataType: DataType.Float, raw: rawBytes(data.toArray()) })
    data.dispose()
    return name
  }

  int64s(values: number[]): string {
    const name = this.fresh('const_i64')
    this.initializers.push({ name, dims: [values.length], dataType: DataType.Int64, raw: rawBytes(BigInt64Array.from(values.map(BigInt))) })
    return name
  }

  floats(values: number[], shape: number[]): string {
    const name = this.fresh('const_f32')
    this.initializers.push({ name, dims: shape, dataType: DataType.Float, raw: rawBytes(Float32Array.from(values)) })
    return name
  }
}

function writeAttribute(w: ProtoWriter, name: string, value: OnnxAttribute): void {
  w.string(1, name)
  if ('f' in value) w.float(2, value.f).int(20, AttributeType.Float)
  else if ('i' in value) w.int(3, value.i).int(20, AttributeType.Int)
  else if ('s' in value) w.string(4, value.s).int(20, AttributeType.String)
  else if ('floats' in value) {
    for (const f of value.floats) w.float(7, f)
    w.int(20, AttributeType.Floats)
  } else {
    for (const i of value.ints) w.int(8, i)
    w.int(20, AttributeType.Ints)
  }
}

function writeNode(w: ProtoWriter, node: NodeRecord, index: number): void {
  for (const input of node.inputs) w.string(1, input)
  w.string(2, node.output)
  w.string(3, `${node.opType}_${index}`)
  w.string(4, node.opType)
  for (const [name, value] of Object.entries(node.attributes)) w.message(5, (a) => writeAttribute(a, name, value))
}

function writeInitializer(w: ProtoWriter, t: InitializerRecord): void {
  for (const d of t.dims) w.int(1, d)
  w.int(2, t.dataType)
  w.string(8, t.name)
  w.bytes(9, t.raw)
}

/** A value's type: float32 tensor whose dims are numbers (fixed) or strings (named dynamic axes). */
function writeValueInfo(w: ProtoWriter, name: string, dims: (number | string)[] | null): void {
  w.string(1, name)
  w.message(2, (type) => type.message(1, (tensorType) => {
    tensorType.int(1, DataType.Float)
    if (dims) {
      tensorType.message(2, (shape) => {
        for (const d of dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)))
      })
    }
  }))
}

export interface OnnxExportOptions {
  /** Input channels (e.g. 1 for CT, 2 for CT + PET). */
  inputChannels: number
  /** Spatial axes of the input: 3 for volumes [N, C, D, H, W], 2 for slices [N, C, H, W]. */
  spatialDims: 2 | 3
  inputName?: string
  outputName?: string
}

/**
 * Serialises a model's inference graph (eval mode) to ONNX bytes. Batch and spatial axes are dynamic
 * ('N', 'D', 'H', 'W'); sizes must still suit the network's strides, as in libtorch.
 */
export function exportOnnx(model: Module, options: OnnxExportOptions): Uint8Array {
  const inputName = options.inputName ?? 'input'
  const outputName = options.outputName ?? 'output'
  const spatial = options.spatialDims === 3 ? ['D', 'H', 'W'] : ['H', 'W']
  return exportOnnxGraph(model, [{ name: inputName, dims: ['N', options.inputChannels, ...spatial] }], (g, [x]) => {
    const result = model.toOnnx(g, x!)
    if (result === inputName) throw new NodalError('export-failed', 'the model is an identity: nothing to export')
    return { [outputName]: result }
  })
}

/** A graph input: its name and dims (numbers fixed, strings named dynamic axes). */
export interface GraphInput {
  name: string
  dims: (number | string)[]
}

/**
 * The general form: `build` emits the model's nodes from the named inputs and returns the graph outputs
 * (output name -> emitted value), e.g. a classifier's logits and its class-activation maps.
 */
export function exportOnnxGraph(model: Module, inputs: GraphInput[], build: (g: OnnxEmitter, inputs: string[]) => Record<string, string>): Uint8Array {
  const wasTraining = model.training
  model.eval()
  const graph = new GraphBuilder()
  let outputs: Record<string, string>
  try {
    outputs = build(graph, inputs.map((i) => i.name))
  } finally {
    model.train(wasTraining)
  }
  for (const [name, value] of Object.entries(outputs)) {
    graph.node('Identity', [value])
    graph.nodes[graph.nodes.length - 1]!.output = name
  }
  const model_ = new ProtoWriter()
  model_.int(1, irVersion)
  model_.string(2, 'nodal')
  model_.string(3, '0.1.0')
  model_.message(7, (g) => {
    graph.nodes.forEach((node, i) => g.message(1, (n) => writeNode(n, node, i)))
    g.string(2, 'nodal')
    for (const t of graph.initializers) g.message(5, (w) => writeInitializer(w, t))
    for (const input of inputs) g.message(11, (v) => writeValueInfo(v, input.name, input.dims))
    for (const name of Object.keys(outputs)) g.message(12, (v) => writeValueInfo(v, name, null))
  })
  model_.message(8, (o) => o.string(1, '').int(2, onnxOpset))
  return model_.finish()
}

/** Writes the ONNX file through a temporary name and a rename, so a crash never leaves a half file. */
export async function saveOnnx(model: Module, path: string, options: OnnxExportOptions): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`
  trackTemp(temporary)
  await writeFile(temporary, exportOnnx(model, options))
  await rename(temporary, path)
  releaseTemp(temporary)
}
