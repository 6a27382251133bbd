/**
 * SIGINT / SIGTERM during a long command: the first signal asks the work to stop at its next safe point
 * (the command then cleans up and says what was left unfinished); a second one exits at once.
 */
export function onInterrupt(): { requested: () => boolean; dispose: () => void } {
  let requested = false
  const handler = (signal: NodeJS.Signals) => {
    if (requested) process.exit(130)
    requested = true
    console.error(`\nnodal: ${signal} received: stopping at the next safe point (send it again to quit at once)`)
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    requested: () => requested,
    dispose: () => {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
}
