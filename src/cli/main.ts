#!/usr/bin/env node
/**
 * The nodal command line: dispatches to one thin file per command.
 * A NodalError becomes its one-line message on stderr and exit code 2; anything else is a bug
 * and exits 1 (set NODAL_DEBUG=1 for the stack).
 */
import { readFileSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import { NodalError } from '../errors.js'
import { removeTrackedTemps } from '../io/temp.js'
import { COMMANDS } from './command.js'
import { stopsCooperatively } from './interrupt.js'

/** Lists the commands from their registered summaries, importing none of them (some load onnxruntime). */
function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return [
    'nodal: find and outline lymph nodes in CT, PET/CT and MR scans',
    '',
    'usage: nodal <command> [options]     (nodal <command> --help, or nodal help <command>, for its options)',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n')
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === 'help' && rest.length) return main([rest[0], '--help'])
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp())
    return name ? 0 : 1
  }
  if (name === '--version' || name === '-v') {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name: string; version: string }
    console.log(`nodal ${pkg.version} (npm package ${pkg.name})`)
    return 0
  }
  const entry = COMMANDS.find((c) => c.name === name)
  if (!entry) throw new NodalError('usage', `unknown command '${name}' (nodal --help lists them)`)
  // each command prints its own help for --help or -h
  return (await entry.load()).run(rest)
}

/** What the user can fix in their file system (read-only, missing, no permission, full disk) is not a bug: one line, exit 2. */
const FILE_SYSTEM_ERRORS: Record<string, string> = {
  EROFS: 'is on a read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder, not a file',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
}

function fileSystemError(e: unknown): string | null {
  const err = e as { code?: unknown; path?: unknown; dest?: unknown; syscall?: unknown }
  if (!err || typeof err.code !== 'string' || !(err.code in FILE_SYSTEM_ERRORS) || typeof err.syscall !== 'string') return null
  let path = typeof err.dest === 'string' ? err.dest : typeof err.path === 'string' ? err.path : ''
  // a temporary name of ours means nothing to the user; its folder is where writing failed
  if (/^\.nodal-tmp-|\.tmp-/.test(basename(path))) path = `${dirname(path)}: cannot write here,`
  else if (path) path += ':'
  return `${path ? `${path} ` : ''}${FILE_SYSTEM_ERRORS[err.code]} (${err.syscall})`
}

/**
 * SIGINT/SIGTERM during a command that does not stop cooperatively (phantom, convert, export, evaluate,
 * ...): its temporary outputs are removed and it exits 130, saying so. Commands that stop at a safe
 * point themselves (plan, train, predict, dataset import) install their own handler (interrupt.ts).
 */
function stopOnSignal(signal: NodeJS.Signals, command: string | undefined): void {
  if (stopsCooperatively()) return
  const removed = removeTrackedTemps()
  console.error(`\nnodal: ${signal} received: ${command ?? 'nodal'} stopped before it finished; nothing partial was left${removed ? ` (${removed} temporary output${removed === 1 ? '' : 's'} removed)` : ''}`)
  process.exit(signal === 'SIGTERM' ? 143 : 130)
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stopOnSignal(signal, process.argv[2]))

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (e: unknown) => {
    const system = fileSystemError(e)
    if (e instanceof NodalError) {
      console.error(`nodal: ${e.message}`)
      process.exitCode = 2
    } else if (system) {
      console.error(`nodal: ${system}`)
      process.exitCode = 2
    } else {
      const err = e as Error
      console.error(`nodal: internal error: ${err?.message ?? String(e)}`)
      if (process.env.NODAL_DEBUG) console.error(err?.stack)
      process.exitCode = 1
    }
  },
)
