import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { caseName, VOLUME_EXTENSIONS } from '../dataset/layout.js'
import { NodalError } from '../errors.js'

/** Kept here for older imports; both live in src/dataset/layout.ts. */
export { caseName, VOLUME_EXTENSIONS }

/** Volume files of a folder keyed by case name (a single file gives one entry). */
export function listVolumes(path: string, what: string): Map<string, string> {
  if (!existsSync(path)) throw new NodalError('not-found', `${path}: no such file or folder (${what})`)
  if (!statSync(path).isDirectory()) return new Map([[caseName(path), path]])
  const out = new Map<string, string>()
  for (const name of readdirSync(path).sort()) {
    if (VOLUME_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e))) out.set(caseName(name), join(path, name))
  }
  return out
}

/** The file for `name` in an optional folder: `<name><ext>` or, for images, `<name>_0000<ext>`. */
export function findCaseFile(dir: string | undefined, name: string, extensions: string[]): string | null {
  if (!dir) return null
  for (const stem of [name, `${name}_0000`]) {
    for (const ext of extensions) {
      const p = join(dir, stem + ext)
      if (existsSync(p)) return p
    }
  }
  return null
}

export const VOLUME_FILE_EXTENSIONS = VOLUME_EXTENSIONS
