/**
 * The data that ships with nodal (samples/, models/), found from any folder: the README's and the help's
 * examples name `samples/...` and `models/...` as in the repository; after `npm install -g` those folders
 * sit in the package, not in the user's folder.
 */
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package's root folder (dist/src/cli/ -> three up). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** The shipped multi-stage bundle (trained by nodal on synthetic data; see its card.md): demo's and view's default. */
export const SHIPPED_MODEL = join(PACKAGE_ROOT, 'models', 'nodes_multi')

/**
 * An input path as given, or, when nothing exists there and it names a file of the shipped samples/ or
 * models/ (e.g. `samples/ct/chest_ct_lidc0314_1p8mm.nii.gz` run from another folder), the shipped one,
 * with a note on stderr. Never redirects a path that exists, nor one the package lacks.
 */
export function shippedOr(path: string): string {
  if (!/^(samples|models)[\\/]/.test(path) || existsSync(path)) return path
  const shipped = join(PACKAGE_ROOT, path)
  if (resolve(path) === shipped || !existsSync(shipped)) return path
  process.stderr.write(`nodal: ${path} is not in this folder; using the one shipped with nodal (${shipped})\n`)
  return shipped
}
