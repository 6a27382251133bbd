import { parseArgs, ParseArgsConfig } from 'node:util'
import { NodalError } from '../errors.js'

/** One CLI command: a thin layer that parses options and calls the library. */
export interface Command {
  name: string
  summary: string
  /** Full help text: usage line, every option, an example. */
  help: string
  run(argv: string[]): Promise<number>
}

type Options = NonNullable<ParseArgsConfig['options']>

/** parseArgs with nodal's error style: an unknown option is a one-line usage error. */
export function parseCommandLine<T extends Options>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (e) {
    throw new NodalError('usage', `${command}: ${(e as Error).message.split('\n')[0]} (see nodal ${command} --help)`)
  }
}

export function usageError(command: string, message: string): NodalError {
  return new NodalError('usage', `${command}: ${message} (see nodal ${command} --help)`)
}

/** Parses "x,y,z" into three numbers. */
export function parseTriple(command: string, name: string, text: string): [number, number, number] {
  const parts = text.split(',').map(Number)
  if (parts.length !== 3 || parts.some((v) => !Number.isFinite(v))) throw usageError(command, `--${name} needs three numbers like 1,1,2.5`)
  return parts as [number, number, number]
}
