/** Shared helpers for nodal's tests: temp folders, shared sample data, external tools. */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root (tests run from dist/test/...). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const SHARED_DATA = resolve(REPO, '..', 'shared', 'data')
export const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js')
/** Debian's python, which has numpy, nibabel and pydicom (another python may be first on PATH). */
export const DEBIAN_PYTHON = '/usr/bin/python3'

/** Path of a file in ../shared/data, or null (the test should skip) when it is missing. */
export function sharedData(rel: string): string | null {
  const p = join(SHARED_DATA, rel)
  return existsSync(p) ? p : null
}

export function tempDir(prefix = 'nodal-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
}

export function hasPythonModules(...mods: string[]): boolean {
  if (!existsSync(DEBIAN_PYTHON)) return false
  return spawnSync(DEBIAN_PYTHON, ['-c', mods.map((m) => `import ${m}`).join(';')]).status === 0
}

/** Runs Debian's python on inline code; returns stdout. */
export function python(code: string, args: string[] = []): string {
  return execFileSync(DEBIAN_PYTHON, ['-c', code, ...args], { encoding: 'utf8' })
}

export function fixture(name: string): string {
  return join(REPO, 'test', 'fixtures', name)
}

/** Runs the nodal CLI; never throws. */
export function runCli(args: string[], opts: { cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: opts.cwd ?? REPO })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** Largest |a[i] - b[i]| of two arrays of one length (a length mismatch fails the test). */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`arrays of ${a.length} and ${b.length} values`)
  let max = 0
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!))
  return max
}
