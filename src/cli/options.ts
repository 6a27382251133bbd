/**
 * nodal's declarative command-line layer: each option is declared once, and from that declaration
 * come the node:util parseArgs config, the "options:" section of the help, and typed, validated values.
 *
 * Option keys are camelCase in code (`insertInto`) and kebab-case on the command line (`--insert-into`).
 * Every problem with a command line is a one-line usage error (NodalError 'usage', exit 2) that names
 * the command and points at its help: "phantom: --cases must be an integer from 1 to 10000, got 'x'
 * (see nodal phantom --help)".
 */
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { NodalError } from '../errors.js'
import { Command, summaryOf, usageError } from './command.js'
import { shippedOr } from './shipped.js'

interface Described {
  /** One or more sentences; wrapped to the help's width ("\n" forces a line break). */
  help: string
  /** The value's name in the help and usage, e.g. DIR, N, x,y,z (each type has a default). */
  placeholder?: string
}

export interface BooleanOption extends Described {
  type: 'boolean'
}

export interface StringOption extends Described {
  type: 'string'
  required?: boolean
  default?: string
  /** The only accepted values; the value's type becomes their union. */
  choices?: readonly string[]
  /** May be given several times: the value is a string[] in command-line order (empty when absent). */
  multiple?: boolean
}

/** A file or folder. The value is the path as given (relative paths stay relative). */
export interface PathOption extends Described {
  type: 'path'
  required?: boolean
  default?: string
  /** Refuse a path that does not exist (NodalError 'not-found': "<path>: no such file or folder (--flag)"). */
  mustExist?: boolean
  multiple?: boolean
}

export interface IntegerOption extends Described {
  type: 'integer'
  required?: boolean
  default?: number
  min?: number
  max?: number
  choices?: readonly number[]
}

export interface NumberOption extends Described {
  type: 'number'
  required?: boolean
  default?: number
  min?: number
  max?: number
}

/** Comma-separated values, "1,2,3"; `length` fixes their count (the value is then a tuple). */
export interface ListOption extends Described {
  type: 'list'
  of: 'integer' | 'number' | 'string'
  length?: number
  /** Bounds of each element (integer and number lists). */
  min?: number
  max?: number
  required?: boolean
  default?: readonly (number | string)[]
}

export type OptionSpec = BooleanOption | StringOption | PathOption | IntegerOption | NumberOption | ListOption
export type OptionSpecs = Record<string, OptionSpec>

/** The command's positional arguments, all of one kind; without this declaration a command takes none. */
export interface PositionalSpec {
  /** A noun for messages, e.g. 'file or DICOM folder' ("give exactly one file or DICOM folder"). */
  name: string
  /** Shown under "arguments:" in the help when given. */
  help?: string
  min?: number
  max?: number
}

type Tuple<T, N extends number, A extends T[] = []> = number extends N ? T[] : A['length'] extends N ? A : Tuple<T, N, [...A, T]>
type ElementOf<O> = O extends 'string' ? string : number

/** The value of one occurrence of an option. */
export type ScalarOf<S> =
  S extends { type: 'boolean' } ? boolean :
  S extends { type: 'string'; choices: readonly (infer C)[] } ? C :
  S extends { type: 'string' | 'path' } ? string :
  S extends { type: 'integer'; choices: readonly (infer C)[] } ? C :
  S extends { type: 'integer' | 'number' } ? number :
  S extends { type: 'list'; of: infer O; length: infer N extends number } ? Tuple<ElementOf<O>, N> :
  S extends { type: 'list'; of: infer O } ? ElementOf<O>[] :
  never

/** The value of an option: false/[] when absent for booleans/multiples, undefined when optional without default. */
export type ValueOf<S> =
  S extends { type: 'boolean' } ? boolean :
  S extends { multiple: true } ? ScalarOf<S>[] :
  S extends { required: true } ? ScalarOf<S> :
  S extends { default: unknown } ? ScalarOf<S> :
  ScalarOf<S> | undefined

export type ValuesOf<S extends OptionSpecs> = { -readonly [K in keyof S]: ValueOf<S[K]> }

export interface ParsedArgs<S extends OptionSpecs> {
  values: ValuesOf<S>
  positionals: string[]
  /** The options given on the command line (as opposed to defaulted), for checks like "--x does not apply with --y". */
  given: ReadonlySet<keyof S & string>
}

export interface CommandDefinition<S extends OptionSpecs> {
  /** The command's name; its one-line summary is registered with it in COMMANDS (command.ts). */
  name: string
  /** Usage forms, each written as it follows "usage: " ("nodal info <file> [--json]"); generated when absent. */
  usage?: string | readonly string[]
  /** Paragraphs between the usage and the options, kept as written. */
  description?: string
  examples: readonly string[]
  options: S
  positionals?: PositionalSpec
  run(args: ParsedArgs<S>): Promise<number>
}

export interface DefinedCommand<S extends OptionSpecs> extends Command {
  options: S
  /** Parses and validates a command line without running the command. */
  parse(argv: string[]): ParsedArgs<S>
}

/** camelCase key -> kebab-case flag without dashes: insertInto -> insert-into. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

/**
 * Declares a command: its options, positionals, help and what it runs. `run` receives typed values.
 * `nodal <name> --help` (or -h) prints the generated help.
 */
export function defineCommand<const S extends OptionSpecs>(def: CommandDefinition<S>): DefinedCommand<S> {
  checkDefinition(def)
  const help = formatHelp(def)
  const parse = (argv: string[]) => parseCommand(def.name, def.options, argv, def.positionals)
  return {
    name: def.name,
    summary: summaryOf(def.name),
    help,
    options: def.options,
    parse,
    async run(argv: string[]) {
      const end = argv.indexOf('--')
      const flags = end < 0 ? argv : argv.slice(0, end)
      if (flags.includes('--help') || flags.includes('-h')) {
        console.log(help)
        return 0
      }
      return def.run(parse(argv))
    },
  }
}

function checkDefinition<S extends OptionSpecs>(def: CommandDefinition<S>): void {
  for (const [key, spec] of Object.entries(def.options)) {
    const where = `${def.name}: option ${key}`
    if (!/^[a-z][a-zA-Z0-9]*$/.test(key) || key === 'help') throw new Error(`${where}: keys are camelCase and not 'help'`)
    if ('required' in spec && spec.required && 'default' in spec && spec.default !== undefined) throw new Error(`${where}: required with a default`)
    if (spec.type === 'list' && spec.default !== undefined && spec.length !== undefined && spec.default.length !== spec.length) {
      throw new Error(`${where}: default has ${spec.default.length} elements, not ${spec.length}`)
    }
  }
}

/**
 * Parses argv against declared options: unknown options, values of the wrong kind, out-of-range
 * numbers, missing required options and a wrong number of positionals are one-line usage errors.
 */
export function parseCommand<S extends OptionSpecs>(command: string, options: S, argv: string[], positionals?: PositionalSpec): ParsedArgs<S> {
  const config: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {}
  const keyOf = new Map<string, string>()
  for (const [key, spec] of Object.entries(options)) {
    const flag = flagName(key)
    keyOf.set(flag, key)
    config[flag] = { type: spec.type === 'boolean' ? 'boolean' : 'string', ...('multiple' in spec && spec.multiple ? { multiple: true } : {}) }
  }
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] }
  try {
    parsed = parseArgs({ args: joinNegativeNumbers(argv, options), options: config, allowPositionals: true, strict: true })
  } catch (e) {
    throw usageError(command, parseArgsMessage(e as Error & { code?: string }, [...keyOf.keys()]))
  }

  const pos = positionals ?? { name: 'arguments', min: 0, max: 0 }
  checkPositionalCount(command, pos, parsed.positionals)

  const values: Record<string, unknown> = {}
  const given = new Set<string>()
  const missing: string[] = []
  for (const [key, spec] of Object.entries(options)) {
    const flag = flagName(key)
    const raw = parsed.values[flag]
    if (raw !== undefined) given.add(key)
    if (spec.type === 'boolean') {
      values[key] = raw === true
      continue
    }
    if ('multiple' in spec && spec.multiple) {
      values[key] = ((raw ?? []) as string[]).map((text) => convert(command, flag, spec, text))
      if (spec.required && !given.has(key)) missing.push(flag)
      continue
    }
    if (raw !== undefined) values[key] = convert(command, flag, spec, raw as string)
    else if (spec.default !== undefined) values[key] = Array.isArray(spec.default) ? [...spec.default] : spec.default
    else if (spec.required) missing.push(flag)
    else values[key] = undefined
  }
  if (missing.length) {
    const names = missing.map((f) => `--${f}`)
    const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`
    throw usageError(command, `${list} ${names.length === 1 ? 'is' : 'are'} required`)
  }
  // positionals are inputs (or an output that does not exist yet, which shippedOr leaves alone)
  return { values: values as ValuesOf<S>, positionals: parsed.positionals.map(shippedOr), given: given as Set<keyof S & string> }
}

/** `--offset -5` -> `--offset=-5` for numeric options (parseArgs would read -5 as an option). */
function joinNegativeNumbers(argv: string[], options: OptionSpecs): string[] {
  const numeric = new Set(Object.entries(options)
    .filter(([, s]) => s.type === 'integer' || s.type === 'number' || (s.type === 'list' && s.of !== 'string'))
    .map(([key]) => `--${flagName(key)}`))
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') return [...out, ...argv.slice(i)]
    if (numeric.has(argv[i]) && i + 1 < argv.length && /^-\.?\d/.test(argv[i + 1])) out.push(`${argv[i]}=${argv[++i]}`)
    else out.push(argv[i])
  }
  return out
}

function parseArgsMessage(e: Error & { code?: string }, flags: string[]): string {
  const first = e.message.split('\n')[0]
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']*)'/.exec(first)?.[1] ?? ''
    const near = closest(option.replace(/^-+/, '').split('=')[0], flags)
    return `Unknown option '${option}'${near ? `; did you mean --${near}?` : ''}`
  }
  const ambiguous = /^Option '--([^']+)' argument is ambiguous/.exec(first)
  if (ambiguous) return `--${ambiguous[1]} needs a value (for a value that starts with a dash, write --${ambiguous[1]}=-...)`
  const missing = /^Option '--([^' ]+) <value>' argument missing/.exec(first)
  if (missing) return `--${missing[1]} needs a value`
  const noArg = /^Option '--([^']+)' does not take an argument/.exec(first)
  if (noArg) return `--${noArg[1]} is a switch and takes no value`
  return first
}

/** The declared flag nearest to a mistyped one (edit distance <= 2, or one a prefix of the other). */
function closest(typed: string, flags: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const flag of flags) {
    const d = flag.startsWith(typed) && typed.length >= 3 ? 1 : editDistance(typed, flag)
    if (d < bestDistance) [best, bestDistance] = [flag, d]
  }
  return best
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = row
  }
  return prev[b.length]
}

const WORDS = ['no', 'one', 'two', 'three', 'four', 'five']
const count = (n: number) => WORDS[n] ?? String(n)

function checkPositionalCount(command: string, spec: PositionalSpec, given: string[]): void {
  const min = spec.min ?? 0
  const max = spec.max ?? Infinity
  if (given.length >= min && given.length <= max) return
  if (max === 0) throw usageError(command, `unexpected argument '${given[0]}'`)
  if (min === max) throw usageError(command, `give exactly ${count(min)} ${spec.name}, got ${given.length}`)
  if (given.length < min) throw usageError(command, `give at least ${count(min)} ${spec.name}, got ${given.length}`)
  throw usageError(command, `give at most ${count(max)} ${spec.name}, got ${given.length}: unexpected '${given[max]}'`)
}

/** Converts and checks the text of one option occurrence. */
function convert(command: string, flag: string, spec: Exclude<OptionSpec, BooleanOption>, text: string): unknown {
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(text)) throw badChoice(command, flag, text, spec.choices)
      return text
    case 'path':
      if (text === '') throw usageError(command, `--${flag} needs a path, got ''`)
      if (spec.mustExist) text = shippedOr(text)
      if (spec.mustExist && !existsSync(text)) throw new NodalError('not-found', `${text}: no such file or folder (--${flag})`)
      return text
    case 'integer':
    case 'number': {
      const v = toNumber(text)
      if (spec.type === 'integer' && spec.choices) {
        if (v === undefined || !spec.choices.includes(v)) throw badChoice(command, flag, text, spec.choices)
        return v
      }
      if (v === undefined || !inRange(spec.type, v, spec.min, spec.max)) {
        throw usageError(command, `--${flag} must be ${spec.type === 'integer' ? 'an integer' : 'a number'}${rangeText(spec.min, spec.max)}, got '${text}'`)
      }
      return v
    }
    case 'list': {
      const parts = text.split(',').map((s) => s.trim())
      const plural = spec.of === 'integer' ? 'integers' : spec.of === 'number' ? 'numbers' : 'values'
      const what = spec.length !== undefined ? `${spec.length} comma-separated ${plural}` : `a comma-separated list of ${plural}`
      const bad = () => usageError(command, `--${flag} must be ${what}${spec.of === 'string' ? '' : rangeText(spec.min, spec.max)}, got '${text}'`)
      if ((spec.length !== undefined && parts.length !== spec.length) || parts.some((p) => p === '')) throw bad()
      if (spec.of === 'string') return parts
      return parts.map((p) => {
        const v = toNumber(p)
        if (v === undefined || !inRange(spec.of as 'integer' | 'number', v, spec.min, spec.max)) throw bad()
        return v
      })
    }
  }
}

function toNumber(text: string): number | undefined {
  const t = text.trim()
  if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return undefined
  const v = Number(t)
  return Number.isFinite(v) ? v : undefined
}

function inRange(kind: 'integer' | 'number', v: number, min?: number, max?: number): boolean {
  return (kind === 'number' || Number.isInteger(v)) && (min === undefined || v >= min) && (max === undefined || v <= max)
}

function rangeText(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`
  if (min !== undefined) return ` >= ${min}`
  if (max !== undefined) return ` <= ${max}`
  return ''
}

function orList(items: readonly (string | number)[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`
}

function badChoice(command: string, flag: string, text: string, choices: readonly (string | number)[]): NodalError {
  return usageError(command, `unknown ${flag.replace(/-/g, ' ')} '${text}' (--${flag} takes ${orList(choices)})`)
}

// ---------------------------------------------------------------- help

const WIDTH = 100
const MAX_COLUMN = 26

function placeholderOf(spec: OptionSpec): string {
  if (spec.type === 'boolean') return ''
  if (spec.placeholder) return spec.placeholder
  if ((spec.type === 'string' || spec.type === 'integer') && spec.choices) return spec.choices.join('|')
  switch (spec.type) {
    case 'string': return 'TEXT'
    case 'path': return 'PATH'
    case 'integer': return 'N'
    case 'number': return 'X'
    case 'list': {
      const one = spec.of === 'integer' ? 'N' : spec.of === 'number' ? 'X' : 'S'
      return spec.length !== undefined ? Array(spec.length).fill(one).join(',') : `${one},${one},...`
    }
  }
}

/** The generated notes after an option's help: allowed values, default, repeatability. */
function notesOf(spec: OptionSpec): string[] {
  if (spec.type === 'boolean') return []
  const notes: string[] = []
  if ((spec.type === 'string' || spec.type === 'integer') && spec.choices && spec.placeholder) notes.push(`one of ${orList(spec.choices)}`)
  if ((spec.type === 'integer' || spec.type === 'number' || spec.type === 'list') && (spec.min !== undefined || spec.max !== undefined)) {
    notes.push(`${spec.type === 'list' ? 'each ' : ''}${rangeText(spec.min, spec.max).trim()}`)
  }
  if (spec.default !== undefined) notes.push(`default ${Array.isArray(spec.default) ? spec.default.join(',') : spec.default}`)
  if ('required' in spec && spec.required) notes.push('required')
  if ('multiple' in spec && spec.multiple) notes.push('may be repeated')
  return notes
}

/** Wraps text to `width` columns; "\n" starts a new line, whose leading spaces are kept. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = []
  for (const paragraph of text.split('\n')) {
    const indent = /^ */.exec(paragraph)![0]
    let line = indent
    for (const word of paragraph.trim().split(/\s+/).filter(Boolean)) {
      if (line.trim() !== '' && line.length + 1 + word.length > width) {
        out.push(line)
        line = indent
      }
      line += line.trim() === '' ? word : ` ${word}`
    }
    out.push(line)
  }
  return out
}

function usageLines<S extends OptionSpecs>(def: CommandDefinition<S>): string[] {
  let forms: readonly string[]
  if (def.usage === undefined) {
    const required = Object.entries(def.options)
      .filter(([, s]) => 'required' in s && s.required)
      .map(([k, s]) => `--${flagName(k)} ${placeholderOf(s)}`)
    const pos = def.positionals
    const args = pos && (pos.max ?? Infinity) > 0 ? [`<${pos.name}>${(pos.max ?? Infinity) > 1 ? '...' : ''}`] : []
    forms = [[`nodal ${def.name}`, ...args, ...required, '[options]'].join(' ')]
  } else {
    forms = typeof def.usage === 'string' ? [def.usage] : def.usage
  }
  return forms.flatMap((form) => form.split('\n')).map((line, i) => (i === 0 ? 'usage: ' : '       ') + line)
}

/** The command's full help: usage, description, arguments, options (generated), examples. */
export function formatHelp<S extends OptionSpecs>(def: CommandDefinition<S>): string {
  const rows: [string, string][] = Object.entries(def.options).map(([key, spec]) => {
    const placeholder = placeholderOf(spec)
    const notes = notesOf(spec)
    return [`--${flagName(key)}${placeholder ? ` ${placeholder}` : ''}`, notes.length ? `${spec.help} (${notes.join('; ')})` : spec.help]
  })
  rows.push(['-h, --help', 'show this help'])
  const column = Math.min(MAX_COLUMN, Math.max(...rows.map(([left]) => left.length))) + 2
  const lines = [...usageLines(def)]
  if (def.description) lines.push('', ...def.description.split('\n'))
  if (def.positionals?.help) {
    lines.push('', 'arguments:')
    lines.push(...wrap(def.positionals.help, WIDTH - 2).map((l) => `  ${l}`))
  }
  lines.push('', 'options:')
  for (const [left, text] of rows) {
    const body = wrap(text, WIDTH - 2 - column)
    if (left.length > column - 2) lines.push(`  ${left}`)
    else lines.push(`  ${left.padEnd(column)}${body.shift() ?? ''}`)
    lines.push(...body.map((l) => `  ${' '.repeat(column)}${l}`))
  }
  if (def.examples.length) {
    lines.push('', 'examples:')
    lines.push(...def.examples.flatMap((e) => e.split('\n')).map((l) => `  ${l}`))
  }
  return lines.map((l) => l.trimEnd()).join('\n')
}
