/**
 * Weights in the safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian data.
 * Python reads these with `safetensors.torch.load_file` (or by hand: struct + json + torch.frombuffer).
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { releaseTemp, trackTemp } from '../io/temp.js'
import { NodalError } from '../errors.js'
import type { Module } from './nn.js'
import { type DType, type Tensor, type TypedData, tensor } from './tensor.js'

const codeOf: Partial<Record<DType, string>> = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL' }
const dtypeOf: Record<string, DType> = { F32: 'float32', F64: 'float64', I64: 'int64', I32: 'int32', U8: 'uint8', BOOL: 'bool' }

interface HeaderEntry {
  dtype: string
  shape: number[]
  data_offsets: [number, number]
}

/** Serialises named tensors (and optional string metadata) to safetensors bytes. */
export function encodeSafetensors(tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, HeaderEntry | Record<string, string>> = {}
  if (Object.keys(metadata).length) header.__metadata__ = metadata
  const chunks: Buffer[] = []
  let offset = 0
  for (const [name, t] of [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const code = codeOf[t.dtype]
    if (!code) throw new NodalError('bad-dtype', `safetensors: cannot store ${name} of dtype ${t.dtype}`)
    const data = t.toArray()
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    header[name] = { dtype: code, shape: t.shape, data_offsets: [offset, offset + bytes.length] }
    chunks.push(bytes)
    offset += bytes.length
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - (json.length % 8)) % 8) // keeps the data 8-byte aligned, as the reference writer does
  const length = Buffer.alloc(8)
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)))
  return Buffer.concat([length, Buffer.from(json), ...chunks])
}

function typedView(code: string, bytes: Buffer): TypedData {
  const copy = new Uint8Array(bytes).buffer // aligned copy
  switch (code) {
    case 'F32': return new Float32Array(copy)
    case 'F64': return new Float64Array(copy)
    case 'I64': return new BigInt64Array(copy)
    case 'I32': return new Int32Array(copy)
    default: return new Uint8Array(copy)
  }
}

/** Parses safetensors bytes into tensors and metadata. */
export function decodeSafetensors(bytes: Buffer, source = 'safetensors'): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new NodalError('bad-input', `${source}: too short for a safetensors file`)
  const headerLength = Number(bytes.readBigUInt64LE(0))
  if (8 + headerLength > bytes.length) throw new NodalError('bad-input', `${source}: header length exceeds file size`)
  let header: Record<string, HeaderEntry | Record<string, string>>
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'))
  } catch {
    throw new NodalError('bad-input', `${source}: header is not valid JSON`)
  }
  const data = bytes.subarray(8 + headerLength)
  const tensors = new Map<string, Tensor>()
  let metadata: Record<string, string> = {}
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>
      continue
    }
    const { dtype, shape, data_offsets: [begin, end] } = entry as HeaderEntry
    const target = dtypeOf[dtype]
    if (!target) throw new NodalError('bad-input', `${source}: ${name} has unsupported dtype ${dtype}`)
    if (end > data.length || begin > end) throw new NodalError('bad-input', `${source}: ${name} lies outside the data`)
    tensors.set(name, tensor(typedView(dtype, data.subarray(begin, end)), shape, { dtype: target }))
  }
  return { tensors, metadata }
}

/** Writes via a temporary name and a rename, so a crash never leaves a half file. */
export async function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`
  trackTemp(temporary)
  await writeFile(temporary, encodeSafetensors(tensors, metadata))
  await rename(temporary, path)
  releaseTemp(temporary)
}

export async function loadSafetensors(path: string): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  return decodeSafetensors(await readFile(path), path)
}

/** Saves a module's state dict. */
export async function saveModule(module: Module, path: string, metadata: Record<string, string> = {}): Promise<void> {
  await saveSafetensors(path, module.stateDict(), metadata)
}

/** Loads a state dict saved by saveModule (or by Python's safetensors) into a module of the same architecture. */
export async function loadModule(module: Module, path: string): Promise<Record<string, string>> {
  const { tensors, metadata } = await loadSafetensors(path)
  try {
    module.loadStateDict(tensors)
  } finally {
    for (const t of tensors.values()) t.dispose()
  }
  return metadata
}
