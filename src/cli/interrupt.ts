/**
 * SIGINT / SIGTERM during a long command: the first signal asks the work to stop at its next safe point
 * (the command then cleans up and says what was left unfinished); a second one exits at once.
 */
let cooperative = 0

/** Whether a command is listening for SIGINT/SIGTERM itself (then main.ts's handler leaves it alone). */
export function stopsCooperatively(): boolean {
  return cooperative > 0
}

export function onInterrupt(): { requested: () => boolean; dispose: () => void } {
  let requested = false
  cooperative++
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
      cooperative--
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
}
