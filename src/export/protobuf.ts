/**
 * A minimal protocol-buffers encoder: enough to write ONNX's ModelProto. Written by hand because neither
 * libtorch's C++ API (no ONNX exporter outside Python) nor onnxruntime-node (no protobuf writer in its
 * public API) can produce ONNX files, and the whole format needs only varints, fixed32 floats and
 * length-delimited fields.
 */

const enum WireType {
  Varint = 0,
  Fixed32 = 5,
  LengthDelimited = 2,
}

export class ProtoWriter {
  private readonly chunks: Uint8Array[] = []
  private length = 0

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes)
    this.length += bytes.length
  }

  private tag(field: number, wire: WireType): void {
    this.push(encodeVarint(BigInt((field << 3) | wire)))
  }

  /** int32/int64/enum/bool field (negative values as 10-byte two's complement, as protobuf does). */
  int(field: number, value: number | bigint): this {
    this.tag(field, WireType.Varint)
    this.push(encodeVarint(BigInt.asUintN(64, BigInt(value))))
    return this
  }

  float(field: number, value: number): this {
    this.tag(field, WireType.Fixed32)
    const bytes = new Uint8Array(4)
    new DataView(bytes.buffer).setFloat32(0, value, true)
    this.push(bytes)
    return this
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.LengthDelimited)
    this.push(encodeVarint(BigInt(value.length)))
    this.push(value)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value))
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter()
    build(inner)
    return this.bytes(field, inner.finish())
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length)
    let offset = 0
    for (const chunk of this.chunks) {
      out.set(chunk, offset)
      offset += chunk.length
    }
    return out
  }
}

export function encodeVarint(value: bigint): Uint8Array {
  const bytes: number[] = []
  let v = value
  do {
    let byte = Number(v & 0x7fn)
    v >>= 7n
    if (v !== 0n) byte |= 0x80
    bytes.push(byte)
  } while (v !== 0n)
  return Uint8Array.from(bytes)
}
