/** Runs a Python snippet on Debian's python3-torch (the reference implementation) and parses its JSON output. */
import { spawnSync } from 'node:child_process'
import { DEBIAN_PYTHON } from '../helpers.js'

export const debianPython = DEBIAN_PYTHON

export function runPython<T>(code: string, input: unknown = null): T {
  const result = spawnSync(debianPython, ['-c', code], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 << 20 })
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}
