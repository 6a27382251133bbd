#!/usr/bin/env node
/**
 * The nodal command line: dispatches to one thin file per command.
 * A NodalError becomes its one-line message on stderr and exit code 2; anything else is a bug
 * and exits 1 (set NODAL_DEBUG=1 for the stack).
 */
import { NodalError } from '../errors.js'
import type { Command } from './command.js'

const COMMANDS: Record<string, () => Promise<Command>> = {
  info: async () => (await import('./info.js')).infoCommand,
  convert: async () => (await import('./convert.js')).convertCommand,
  evaluate: async () => (await import('./evaluate.js')).evaluateCommand,
  export: async () => (await import('./export.js')).exportCommand,
  demo: async () => (await import('./demo.js')).demoCommand,
  phantom: async () => (await import('./phantom.js')).phantomCommand,
  bench: async () => (await import('./bench.js')).benchCommand,
}

function mainHelp(summaries: [string, string][]): string {
  const width = Math.max(...summaries.map(([n]) => n.length))
  return [
    'nodal: find and outline lymph nodes in CT, PET/CT and MR scans',
    '',
    'usage: nodal <command> [options]     (nodal <command> --help for its options)',
    '',
    'commands:',
    ...summaries.map(([n, s]) => `  ${n.padEnd(width)}  ${s}`),
  ].join('\n')
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const summaries: [string, string][] = []
    for (const load of Object.values(COMMANDS)) {
      const c = await load()
      summaries.push([c.name, c.summary])
    }
    console.log(mainHelp(summaries))
    return name ? 0 : 1
  }
  if (name === '--version') {
    console.log('nodal 0.1.0')
    return 0
  }
  const load = COMMANDS[name]
  if (!load) throw new NodalError('usage', `unknown command '${name}' (nodal --help lists them)`)
  const command = await load()
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help)
    return 0
  }
  return command.run(rest)
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (e: unknown) => {
    if (e instanceof NodalError) {
      console.error(`nodal: ${e.message}`)
      process.exitCode = 2
    } else {
      const err = e as Error
      console.error(`nodal: internal error: ${err?.message ?? String(e)}`)
      if (process.env.NODAL_DEBUG) console.error(err?.stack)
      process.exitCode = 1
    }
  },
)
