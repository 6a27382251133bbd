/**
 * Temporary files and folders that outputs are written into before being renamed into place. They are
 * tracked so that a command stopped by SIGINT/SIGTERM (see src/cli/main.ts) removes them before exiting:
 * a stopped command leaves nothing partial behind.
 */
import { rmSync } from 'node:fs'

const live = new Set<string>()

export function trackTemp(path: string): string {
  live.add(path)
  return path
}

export function releaseTemp(path: string): void {
  live.delete(path)
}

/** Removes every tracked temporary path (synchronously: called from a signal handler); returns how many. */
export function removeTrackedTemps(): number {
  const n = live.size
  for (const path of live) rmSync(path, { recursive: true, force: true })
  live.clear()
  return n
}
