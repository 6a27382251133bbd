/**
 * Whole-file writes that never leave a half file: the data goes to a temporary name beside the target
 * (same folder, so the rename is atomic on one file system), then is renamed over it.
 * (Multi-file outputs use writeAtomically in ./index.ts, which stages a whole folder.)
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs'

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`
  try {
    writeFileSync(tmp, data)
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
}
