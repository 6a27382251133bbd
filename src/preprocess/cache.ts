/**
 * The preprocessed cache that training reads: per case a raw little-endian float32 file [C, Z, Y, X], a raw
 * uint8 label file [Z, Y, X] and a small JSON header.
 *
 * Why raw files: a patch is a z-slab of whole slices cropped in y and x, and a z-slab of a channel is one
 * contiguous byte range, so the sampler reads exactly what it needs with one positioned read per channel
 * (the operating system's page cache keeps hot cases in memory). Compressed formats (npz, .nii.gz) would
 * spend the augmentation workers' time on decompression, and Node has no memory mapping of its own.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { NodalError } from '../errors.js'
import { writeFileAtomic } from '../io/atomic.js'
import { connectedComponents } from '../volume/components.js'
import type { PreprocessedCase, PreprocessRecord, Triple } from './index.js'

export interface CachedComponent {
  label: number
  voxels: number
  /** Up to 64 flat indices (z·Y·X + y·X + x) of voxels inside it, for centring patches on it. */
  samples: number[]
}

export interface CacheHeader {
  name: string
  channels: number
  shape: Triple
  spacing: Triple
  record: PreprocessRecord
  /** Foreground components per label (26-connected), used for foreground oversampling. */
  components: CachedComponent[]
  /** Label values present. */
  labels: number[]
}

export function cachePaths(dir: string, name: string) {
  return { image: join(dir, `${name}.image.f32`), label: join(dir, `${name}.label.u8`), header: join(dir, `${name}.json`) }
}

/** Writes one case (header last, so a header on disk means its data is whole). */
export function writeCachedCase(dir: string, name: string, c: PreprocessedCase, ignore: number | null): CacheHeader {
  if (!c.label) throw new NodalError('bad-dataset', `${name}: a training case needs labels`)
  const paths = cachePaths(dir, name)
  writeFileAtomic(paths.image, new Uint8Array(c.image.buffer, c.image.byteOffset, c.image.byteLength))
  writeFileAtomic(paths.label, c.label)
  const header: CacheHeader = {
    name,
    channels: c.image.length / (c.shape[0] * c.shape[1] * c.shape[2]),
    shape: c.shape,
    spacing: c.spacing,
    record: c.record,
    components: componentsOf(c.label, c.shape, ignore),
    labels: [...new Set(c.label)].sort((a, b) => a - b),
  }
  writeFileAtomic(paths.header, JSON.stringify(header))
  return header
}

/** Every 26-connected component of each foreground label, with a strided sample of its voxels. */
function componentsOf(label: Uint8Array, shape: Triple, ignore: number | null): CachedComponent[] {
  const values = [...new Set(label)].filter((v) => v !== 0 && v !== ignore).sort((a, b) => a - b)
  const out: CachedComponent[] = []
  for (const value of values) {
    const mask = new Uint8Array(label.length)
    for (let i = 0; i < label.length; i++) mask[i] = label[i] === value ? 1 : 0
    // connectedComponents takes [nx, ny, nz]; the flat layout is the same
    const { labels, sizes } = connectedComponents(mask, [shape[2], shape[1], shape[0]], 26)
    const seen = new Int32Array(sizes.length)
    const samples: number[][] = sizes.map(() => [])
    for (let i = 0; i < labels.length; i++) {
      const c = labels[i]!
      if (c === 0) continue
      const stride = Math.max(1, Math.floor(sizes[c]! / 64))
      if (seen[c]++ % stride === 0 && samples[c]!.length < 64) samples[c]!.push(i)
    }
    for (let c = 1; c < sizes.length; c++) out.push({ label: value, voxels: sizes[c]!, samples: samples[c]! })
  }
  return out
}

export function readCacheHeader(dir: string, name: string): CacheHeader {
  try {
    return JSON.parse(readFileSync(cachePaths(dir, name).header, 'utf8')) as CacheHeader
  } catch {
    throw new NodalError('bad-cache', `${dir}: case ${name} is missing from the preprocessed cache (run nodal plan again)`)
  }
}

export interface Region {
  /** Start per axis [z, y, x]; may be negative or pass the edge (padded). */
  start: Triple
  size: Triple
}

/**
 * Reads a region of a cached case: image [C, rz, ry, rx] (outside the case: each channel's `pad` value)
 * and label [rz, ry, rx] (outside: 0). One positioned read per channel and one for the label.
 */
export function readRegion(dir: string, header: CacheHeader, region: Region, pad: number[]): { image: Float32Array; label: Uint8Array } {
  const [Z, Y, X] = header.shape
  const [rz, ry, rx] = region.size
  const [z0, y0, x0] = region.start
  const zLo = Math.max(0, z0), zHi = Math.min(Z, z0 + rz)
  const image = new Float32Array(header.channels * rz * ry * rx)
  const label = new Uint8Array(rz * ry * rx)
  for (let c = 0; c < header.channels; c++) image.subarray(c * rz * ry * rx, (c + 1) * rz * ry * rx).fill(pad[c] ?? 0)
  if (zHi <= zLo) return { image, label }
  const slab = (zHi - zLo) * Y * X
  const paths = cachePaths(dir, header.name)
  const imageFd = openSync(paths.image, 'r')
  const labelFd = openSync(paths.label, 'r')
  try {
    const buffer = new Float32Array(slab)
    for (let c = 0; c < header.channels; c++) {
      readFully(imageFd, new Uint8Array(buffer.buffer), (c * Z * Y * X + zLo * Y * X) * 4)
      copySlab(buffer, image.subarray(c * rz * ry * rx), header.shape, region, zLo, zHi)
    }
    const labels = new Uint8Array(slab)
    readFully(labelFd, labels, zLo * Y * X)
    copySlab(labels, label, header.shape, region, zLo, zHi)
  } finally {
    closeSync(imageFd)
    closeSync(labelFd)
  }
  return { image, label }
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done)
    if (n === 0) throw new NodalError('bad-cache', 'preprocessed cache file is shorter than its header says (run nodal plan again)')
    done += n
  }
}

/** Copies rows of a z-slab [zLo, zHi) of whole slices into the region buffer. */
function copySlab<T extends Float32Array | Uint8Array>(slab: T, out: T, shape: Triple, region: Region, zLo: number, zHi: number): void {
  const [, Y, X] = shape
  const [, ry, rx] = region.size
  const [z0, y0, x0] = region.start
  const xLo = Math.max(0, x0), xHi = Math.min(X, x0 + rx)
  if (xHi <= xLo) return
  for (let z = zLo; z < zHi; z++) {
    for (let y = Math.max(0, y0); y < Math.min(Y, y0 + ry); y++) {
      const src = ((z - zLo) * Y + y) * X
      const dst = ((z - z0) * ry + (y - y0)) * rx - x0
      out.set(slab.subarray(src + xLo, src + xHi), dst + xLo)
    }
  }
}
