/**
 * node:zlib for the browser bundle (scripts/build-viewer.mjs maps node:zlib here): the two calls
 * nodal's NIfTI reader and writer make (src/io/nifti.ts), on fflate.
 */
import { gunzipSync as gunzip, gzipSync as gzip } from 'fflate'

export function gunzipSync(data: Uint8Array): Buffer {
  return Buffer.from(gunzip(data))
}

export function gzipSync(data: Uint8Array, options: { level?: number } = {}): Buffer {
  return Buffer.from(gzip(data, { level: (options.level ?? 6) as 6 }))
}
