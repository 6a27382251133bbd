/**
 * How the page sends label maps to the server (save, and the result of the model run in the page): only
 * the labelled voxels, since a node map is almost all background (a 512x512x300 scan has 78.6M voxels and
 * its nodes a few thousand). Used by both sides; no Node or browser API beyond DataView/TextEncoder.
 *
 *   uint32 LE  n, then n bytes of UTF-8 JSON
 *   uint32 LE  count of labelled voxels, uint32 LE flags (1: node ids follow)
 *   count x uint32 LE  voxel index (scan file order), count x uint8 class, [count x uint16 LE node id]
 */
export function encodeSparse(json: unknown, labels: Uint8Array, ids: Uint16Array | null = null): Uint8Array<ArrayBuffer> {
  const text = new TextEncoder().encode(JSON.stringify(json))
  let count = 0
  for (let v = 0; v < labels.length; v++) if (labels[v]) count++
  const out = new Uint8Array(4 + text.length + 8 + count * (ids ? 7 : 5))
  const view = new DataView(out.buffer)
  view.setUint32(0, text.length, true)
  out.set(text, 4)
  let at = 4 + text.length
  view.setUint32(at, count, true)
  view.setUint32(at + 4, ids ? 1 : 0, true)
  at += 8
  const labelsAt = at + 4 * count, idsAt = labelsAt + count
  let k = 0
  for (let v = 0; v < labels.length; v++) {
    if (!labels[v]) continue
    view.setUint32(at + 4 * k, v, true)
    out[labelsAt + k] = labels[v]!
    if (ids) view.setUint16(idsAt + 2 * k, ids[v]!, true)
    k++
  }
  return out
}

export class SparseError extends Error {}

/** Decodes encodeSparse's bytes onto a scan of `voxels` voxels; throws SparseError on anything malformed. */
export function decodeSparse(bytes: Uint8Array, voxels: number): { json: unknown; labels: Uint8Array; ids: Uint16Array | null } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.length < 4) throw new SparseError('the request is empty')
  const n = view.getUint32(0, true)
  if (4 + n + 8 > bytes.length) throw new SparseError('the request is truncated')
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n)))
  } catch {
    throw new SparseError('its JSON part is not valid JSON')
  }
  let at = 4 + n
  const count = view.getUint32(at, true)
  const withIds = (view.getUint32(at + 4, true) & 1) === 1
  at += 8
  if (at + count * (withIds ? 7 : 5) !== bytes.length) throw new SparseError(`it holds ${bytes.length} bytes, not the ${at + count * (withIds ? 7 : 5)} its ${count} voxels need`)
  const labels = new Uint8Array(voxels)
  const ids = withIds ? new Uint16Array(voxels) : null
  const labelsAt = at + 4 * count, idsAt = labelsAt + count
  for (let k = 0; k < count; k++) {
    const v = view.getUint32(at + 4 * k, true)
    if (v >= voxels) throw new SparseError(`voxel ${v} is outside the scan's ${voxels} voxels`)
    labels[v] = bytes[labelsAt + k]!
    if (ids) ids[v] = view.getUint16(idsAt + 2 * k, true)
  }
  return { json, labels, ids }
}
