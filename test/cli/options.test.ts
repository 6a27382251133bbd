import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { NodalError } from '../../src/errors.js'
import { COMMANDS } from '../../src/cli/command.js'
import { defineCommand, flagName, formatHelp, parseCommand, wrap, type OptionSpecs } from '../../src/cli/options.js'
import { CLI, REPO, tempDir } from '../helpers.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
/** Compile-time check: fails the build when the two types differ. */
function sameType<A, B>(_proof: Equal<A, B>): void {}

/** A usage error: NodalError 'usage', one line, naming the command and its help, matching `pattern`. */
function usage(pattern: RegExp, command = 'demo') {
  return (e: unknown) => {
    assert.ok(e instanceof NodalError, `not a NodalError: ${e}`)
    assert.equal(e.code, 'usage')
    assert.ok(!e.message.includes('\n'), `more than one line: ${e.message}`)
    assert.ok(e.message.startsWith(`${command}: `), e.message)
    assert.ok(e.message.endsWith(`(see nodal ${command} --help)`), e.message)
    assert.match(e.message, pattern)
    return true
  }
}

const OPTIONS = {
  name: { type: 'string', help: 'a name' },
  out: { type: 'path', placeholder: 'DIR', required: true, help: 'output folder' },
  mode: { type: 'string', choices: ['fast', 'exact'], default: 'fast', help: 'how' },
  tag: { type: 'string', multiple: true, placeholder: 'TAG', help: 'a tag' },
  verbose: { type: 'boolean', help: 'say more' },
  cases: { type: 'integer', min: 1, max: 100, required: true, help: 'number of cases' },
  seed: { type: 'integer', min: 0, default: 0, help: 'seed' },
  patch: { type: 'integer', choices: [96, 64], default: 96, help: 'patch edge' },
  toleranceMm: { type: 'number', min: 0, default: 2, placeholder: 'MM', help: 'tolerance' },
  scale: { type: 'number', help: 'a factor' },
  spacing: { type: 'list', of: 'number', length: 3, min: 0.1, max: 10, placeholder: 'x,y,z', help: 'voxel size' },
  labels: { type: 'list', of: 'integer', min: 1, default: [1, 2], help: 'labels' },
  names: { type: 'list', of: 'string', help: 'names' },
} as const satisfies OptionSpecs

const parse = (argv: string[]) => parseCommand('demo', OPTIONS, argv)
const BASE = ['--out', 'o', '--cases', '3']

test('flags are the kebab-case of camelCase keys', () => {
  assert.equal(flagName('toleranceMm'), 'tolerance-mm')
  assert.equal(flagName('insertInto'), 'insert-into')
  assert.equal(flagName('json'), 'json')
  assert.equal(parse([...BASE, '--tolerance-mm', '0.5']).values.toleranceMm, 0.5)
  assert.throws(() => parse([...BASE, '--toleranceMm', '0.5']), usage(/Unknown option '--toleranceMm'; did you mean --tolerance-mm\?/))
})

test('defaults, and typed values of each kind', () => {
  const { values, positionals, given } = parse(BASE)
  assert.deepEqual(values, {
    name: undefined, out: 'o', mode: 'fast', tag: [], verbose: false, cases: 3, seed: 0, patch: 96,
    toleranceMm: 2, scale: undefined, spacing: undefined, labels: [1, 2], names: undefined,
  })
  assert.deepEqual(positionals, [])
  assert.deepEqual([...given].sort(), ['cases', 'out'])
  const all = parse([
    ...BASE, '--name', 'n', '--mode', 'exact', '--tag', 'a', '--tag', 'b', '--verbose', '--seed', '7', '--patch', '64',
    '--tolerance-mm', '1.5', '--scale', '-2e-1', '--spacing', '0.8, 0.8,2.5', '--labels', '3', '--names', 'x,y',
  ]).values
  // (checked before assert.deepEqual, which narrows `all` to the expected literal)
  // the types follow the declarations: literal unions for choices, tuples for fixed-length lists,
  // `| undefined` only when an option is optional without a default
  sameType<typeof all.name, string | undefined>(true)
  sameType<typeof all.out, string>(true)
  sameType<typeof all.mode, 'fast' | 'exact'>(true)
  sameType<typeof all.tag, string[]>(true)
  sameType<typeof all.verbose, boolean>(true)
  sameType<typeof all.cases, number>(true)
  sameType<typeof all.patch, 96 | 64>(true)
  sameType<typeof all.scale, number | undefined>(true)
  sameType<typeof all.spacing, [number, number, number] | undefined>(true)
  sameType<typeof all.labels, number[]>(true)
  sameType<typeof all.names, string[] | undefined>(true)
  assert.deepEqual(all, {
    name: 'n', out: 'o', mode: 'exact', tag: ['a', 'b'], verbose: true, cases: 3, seed: 7, patch: 64,
    toleranceMm: 1.5, scale: -0.2, spacing: [0.8, 0.8, 2.5], labels: [3], names: ['x', 'y'],
  })
  // the last of a repeated single-valued option wins, as with parseArgs; --x=v works too
  assert.equal(parse([...BASE, '--seed=4', '--seed', '5']).values.seed, 5)
  assert.equal(parse([...BASE, '--scale=-3']).values.scale, -3)
})

test('integers and numbers: kind, min and max', () => {
  for (const bad of ['x', '1.5', '', '0', '101', '1e9', '0x10', 'Infinity', '3 apples']) {
    assert.throws(() => parse(['--out', 'o', '--cases', bad]), usage(new RegExp(`^demo: --cases must be an integer from 1 to 100, got '${bad}'`)))
  }
  assert.equal(parse(['--out', 'o', '--cases', '100']).values.cases, 100)
  assert.equal(parse(['--out', 'o', '--cases', '1e1']).values.cases, 10)
  // a negative number after a numeric option is its value, not an option
  assert.throws(() => parse([...BASE, '--seed', '-1']), usage(/--seed must be an integer >= 0, got '-1'/))
  assert.throws(() => parse([...BASE, '--seed=-1']), usage(/--seed must be an integer >= 0, got '-1'/))
  assert.throws(() => parse([...BASE, '--spacing', '-1,2,3']), usage(/--spacing must be 3 comma-separated numbers from 0.1 to 10, got '-1,2,3'/))
  assert.equal(parse([...BASE, '--scale', '-.5']).values.scale, -0.5)
  assert.throws(() => parse([...BASE, '--name', '-x']), usage(/--name needs a value \(for a value that starts with a dash, write --name=-\.\.\.\)/))
  assert.throws(() => parse([...BASE, '--tolerance-mm', 'wide']), usage(/--tolerance-mm must be a number >= 0, got 'wide'/))
  assert.throws(() => parse([...BASE, '--scale', 'NaN']), usage(/--scale must be a number, got 'NaN'/))
  assert.equal(parse([...BASE, '--tolerance-mm', '0']).values.toleranceMm, 0)
})

test('choices of strings and integers', () => {
  assert.throws(() => parse([...BASE, '--mode', 'slow']), usage(/unknown mode 'slow' \(--mode takes fast or exact\)/))
  assert.throws(() => parse([...BASE, '--patch', '80']), usage(/unknown patch '80' \(--patch takes 96 or 64\)/))
  assert.throws(() => parse([...BASE, '--mode', 'FAST']), usage(/unknown mode 'FAST'/))
})

test('required options: all missing ones are named at once', () => {
  assert.throws(() => parse(['--cases', '1']), usage(/^demo: --out is required/))
  assert.throws(() => parse([]), usage(/^demo: --out and --cases are required/))
  const three = { a: { type: 'string', required: true, help: '' }, b: { type: 'path', required: true, help: '' }, c: { type: 'number', required: true, help: '' } } as const
  assert.throws(() => parseCommand('demo', three, []), usage(/--a, --b and --c are required/))
})

test('lists: length, element kind and bounds', () => {
  const spacing = /--spacing must be 3 comma-separated numbers from 0.1 to 10, got '/
  for (const bad of ['1,1', '1,1,1,1', '1,,1', '1,x,1', '0,1,1', '1,1,11', '']) assert.throws(() => parse([...BASE, '--spacing', bad]), usage(spacing))
  assert.throws(() => parse([...BASE, '--labels', '1,0']), usage(/--labels must be a comma-separated list of integers >= 1, got '1,0'/))
  assert.throws(() => parse([...BASE, '--labels', '1,2.5']), usage(/--labels must be a comma-separated list of integers/))
  assert.deepEqual(parse([...BASE, '--labels', '2,1,2']).values.labels, [2, 1, 2])
  assert.throws(() => parse([...BASE, '--names', 'a,,b']), usage(/--names must be a comma-separated list of values, got 'a,,b'/))
})

test('paths: mustExist refuses a missing file with a not-found error naming it', () => {
  const tmp = tempDir()
  try {
    const options = { model: { type: 'path', mustExist: true, help: 'a model' } } as const
    assert.equal(parseCommand('demo', options, ['--model', tmp.path]).values.model, tmp.path)
    const missing = join(tmp.path, 'missing.onnx')
    assert.throws(() => parseCommand('demo', options, ['--model', missing]), (e: unknown) =>
      e instanceof NodalError && e.code === 'not-found' && e.message === `${missing}: no such file or folder (--model)`)
    assert.throws(() => parseCommand('demo', options, ['--model', '']), usage(/--model needs a path/))
  } finally {
    tmp.cleanup()
  }
})

test('command-line syntax errors are one-line usage errors naming the command', () => {
  assert.throws(() => parse([...BASE, '--bogus']), usage(/^demo: Unknown option '--bogus' \(see/))
  assert.throws(() => parse([...BASE, '--verbos']), usage(/Unknown option '--verbos'; did you mean --verbose\?/))
  assert.throws(() => parse([...BASE, '-x']), usage(/Unknown option '-x'/))
  assert.throws(() => parse([...BASE, '--name']), usage(/--name needs a value/))
  assert.throws(() => parse([...BASE, '--verbose=yes']), usage(/--verbose is a switch and takes no value/))
})

test('positionals: none by default, or a declared count', () => {
  assert.throws(() => parse([...BASE, 'stray']), usage(/unexpected argument 'stray'/))
  const one = { name: 'file or DICOM folder', min: 1, max: 1 }
  assert.deepEqual(parseCommand('demo', {}, ['a'], one).positionals, ['a'])
  assert.throws(() => parseCommand('demo', {}, [], one), usage(/give exactly one file or DICOM folder, got 0/))
  assert.throws(() => parseCommand('demo', {}, ['a', 'b'], one), usage(/give exactly one file or DICOM folder, got 2/))
  const some = { name: 'scans', min: 2, max: 3 }
  assert.throws(() => parseCommand('demo', {}, ['a'], some), usage(/give at least two scans, got 1/))
  assert.throws(() => parseCommand('demo', {}, ['a', 'b', 'c', 'd'], some), usage(/give at most three scans, got 4: unexpected 'd'/))
  assert.deepEqual(parseCommand('demo', { v: { type: 'boolean', help: '' } }, ['a', '--', '--v'], { name: 'args' }).positionals, ['a', '--v'])
})

// a registered name (the summary comes from COMMANDS); never run here
const example = defineCommand({
  name: 'demo',
  usage: ['nodal demo --out DIR --cases N [options]', 'nodal demo --other-form\n           continued'],
  description: 'First paragraph.\n\n  an indented table line',
  positionals: { name: 'scan', help: 'the scans to read', max: 2 },
  options: OPTIONS,
  examples: ['nodal demo --out o --cases 3', 'nodal demo --out o \\\n    --cases 4'],
  async run() {
    return 0
  },
})

test('help: usage, description, every option with its placeholder, default, choices and bounds, examples', () => {
  const help = example.help
  const lines = help.split('\n')
  assert.equal(lines[0], 'usage: nodal demo --out DIR --cases N [options]')
  assert.equal(lines[1], '       nodal demo --other-form')
  assert.equal(lines[2], '                  continued')
  assert.ok(help.includes('\n\nFirst paragraph.\n\n  an indented table line\n'))
  assert.match(help, /\narguments:\n {2}the scans to read\n/)
  const option = (flag: string) => lines.find((l) => l.startsWith(`  ${flag} `) || l === `  ${flag}`)!
  const expected: [string, RegExp][] = [
    ['--name TEXT', /a name$/],
    ['--out DIR', /output folder \(required\)$/],
    ['--mode fast|exact', /how \(default fast\)$/],
    ['--tag TAG', /a tag \(may be repeated\)$/],
    ['--verbose', /say more$/],
    ['--cases N', /number of cases \(from 1 to 100; required\)$/],
    ['--seed N', /seed \(>= 0; default 0\)$/],
    ['--patch 96|64', /patch edge \(default 96\)$/],
    ['--tolerance-mm MM', /tolerance \(>= 0; default 2\)$/],
    ['--scale X', /a factor$/],
    ['--spacing x,y,z', /voxel size \(each from 0.1 to 10\)$/],
    ['--labels N,N,...', /labels \(each >= 1; default 1,2\)$/],
    ['--names S,S,...', /names$/],
    ['-h, --help', /show this help$/],
  ]
  const column = option('--name TEXT').indexOf('a name')
  for (const [left, right] of expected) {
    const line = option(left)
    assert.ok(line, `no line for ${left}:\n${help}`)
    assert.match(line, right)
    if (left === '--verbose' || left.length < column - 3) {
      assert.equal(line.slice(0, column).trim(), left, `${left} aligned`)
      assert.notEqual(line[column], ' ', `${left} aligned`)
    }
  }
  assert.ok(help.endsWith('examples:\n  nodal demo --out o --cases 3\n  nodal demo --out o \\\n      --cases 4'))
  assert.equal(help.indexOf('options:') < help.indexOf('examples:'), true)
})

test('help: long option text wraps under its column; a long flag gets its own line', () => {
  const help = formatHelp({
    name: 'demo',
    examples: [],
    options: {
      short: { type: 'boolean', help: 'word '.repeat(60).trim() },
      aVeryLongOptionNameIndeed: { type: 'string', placeholder: 'SOMETHING', help: 'goes below' },
    },
    async run() {
      return 0
    },
  })
  const lines = help.split('\n')
  assert.equal(lines[0], 'usage: nodal demo [options]', 'generated usage')
  for (const l of lines) assert.ok(l.length <= 100, `longer than 100: ${l}`)
  const first = lines.findIndex((l) => l.startsWith('  --short'))
  const column = lines[first].indexOf('word')
  assert.ok(lines[first + 1].startsWith(' '.repeat(column) + 'word'))
  const long = lines.indexOf('  --a-very-long-option-name-indeed SOMETHING')
  assert.ok(long > 0, help)
  assert.equal(lines[long + 1].trim(), 'goes below')
  assert.equal(lines[long + 1].indexOf('goes'), column)
  assert.deepEqual(wrap('  aa bb cc\ndd', 8), ['  aa bb', '  cc', 'dd'])
})

test('run: --help or -h prints the help instead of running; after -- it is a positional', async () => {
  let ran = 0
  const command = defineCommand({
    name: 'demo', examples: [], positionals: { name: 'args' }, options: { out: { type: 'path', required: true, help: 'x' } },
    async run({ positionals }) {
      ran = positionals.length
      return 5
    },
  })
  const log = console.log
  const printed: string[] = []
  console.log = (s: string) => printed.push(s)
  try {
    assert.equal(await command.run(['--help']), 0)
    assert.equal(await command.run(['stray', '-h']), 0)
  } finally {
    console.log = log
  }
  assert.deepEqual(printed, [command.help, command.help])
  assert.equal(ran, 0)
  assert.equal(await command.run(['--out', 'o', '--', '--help']), 5)
  assert.equal(ran, 1)
  await assert.rejects(command.run([]), usage(/--out is required/))
})

test('a definition with an unregistered name, a reserved key or a required default is refused', () => {
  const base = { examples: [], async run() { return 0 } }
  assert.throws(() => defineCommand({ ...base, name: 'nonesuch', options: {} }), /not registered in COMMANDS/)
  assert.throws(() => defineCommand({ ...base, name: 'demo', options: { help: { type: 'boolean', help: '' } } }), /camelCase and not 'help'/)
  assert.throws(() => defineCommand({ ...base, name: 'demo', options: { 'out-dir': { type: 'path', help: '' } } }), /camelCase/)
  assert.throws(() => defineCommand({ ...base, name: 'demo', options: { n: { type: 'integer', required: true, default: 1, help: '' } } }), /required with a default/)
  assert.throws(() => defineCommand({ ...base, name: 'demo', options: { s: { type: 'list', of: 'number', length: 3, default: [1, 2], help: '' } } }), /2 elements, not 3/)
})

test('every registered command loads, has its registered name and summary, and documents each option', async () => {
  for (const entry of COMMANDS) {
    const command = await entry.load()
    assert.equal(command.name, entry.name)
    assert.equal(command.summary, entry.summary)
    assert.match(command.help, new RegExp(`^usage: nodal ${entry.name}`))
    assert.match(command.help, /\noptions:\n/)
    assert.match(command.help, /\nexamples:\n {2}nodal /)
    const options = (command as { options?: OptionSpecs }).options
    assert.ok(options, `${entry.name} is not declared with defineCommand`)
    for (const key of Object.keys(options)) assert.match(command.help, new RegExp(`\n  --${flagName(key)}\\b`), `${entry.name} --${flagName(key)}`)
    const section = command.help.slice(command.help.indexOf('\noptions:\n'), command.help.indexOf('\nexamples:'))
    for (const line of section.split('\n')) assert.ok(line.length <= 100, `${entry.name}: ${line}`)
  }
})

test('the migrated commands keep their options and descriptions', async () => {
  const help = async (name: string) => (await COMMANDS.find((c) => c.name === name)!.load()).help
  const expect: Record<string, string[]> = {
    info: ['--json', '--series UID', 'Prints shape, spacing (mm)'],
    convert: ['--series UID', '--to dicom', '--like DIR', '--reference DIR', '--roi NAME', '--instances FILE', 'rasterised onto the reference series'],
    evaluate: ['--pred PATH', '--gt PATH', '--out DIR', '--labels 1,2', '--tolerance-mm MM', '--match RULE', '--pred-instances DIR', '--gt-instances DIR',
      '--pred-scores DIR', '--second-reader DIR', '--images DIR', 'Definitions and empty-mask conventions'],
    export: ['--reference DIR', '--format rtstruct|seg', '--out FILE', '--names FILE', '--per-node', '--instances FILE', 'even-odd'],
    phantom: ['--site NAME', '--cases N', '--seed S', '--out DIR', '--modality ct|petct|mr', '--spacing x,y,z', '--size x,y,z', '--preview',
      '--insert-into FILE', '--organs FILE', '--organ-names N', 'The same seed gives the same bytes.'],
    demo: ['--out DIR', 'the shipped multi-stage model'],
    bench: ['--json', '--patch 96|64', '--threads N', '--steps N', '--warmup N', 'ONNX Runtime vs libtorch'],
  }
  for (const [name, parts] of Object.entries(expect)) {
    const text = await help(name)
    for (const part of parts) assert.ok(text.includes(part), `${name} help lacks '${part}'`)
  }
})

test('nodal --help lists every command without importing any command module or dependency (no onnxruntime)', () => {
  const tmp = tempDir()
  try {
    // a module resolve hook that records every URL the process imports
    const trace = join(tmp.path, 'trace.txt')
    writeFileSync(join(tmp.path, 'hooks.mjs'), `import { appendFileSync } from 'node:fs'
let file
export function initialize(data) { file = data.file }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  appendFileSync(file, result.url + '\\n')
  return result
}
`)
    writeFileSync(join(tmp.path, 'register.mjs'), `import { register } from 'node:module'
register(${JSON.stringify(pathToFileURL(join(tmp.path, 'hooks.mjs')).href)}, { data: { file: process.env.NODAL_TRACE_FILE } })
`)
    const run = (args: string[]) => {
      writeFileSync(trace, '')
      const env: NodeJS.ProcessEnv = { ...process.env, NODAL_TRACE_FILE: trace }
      delete env.NODE_OPTIONS
      const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(tmp.path, 'register.mjs')).href, CLI, ...args], { encoding: 'utf8', cwd: REPO, env })
      assert.equal(r.status, 0, r.stderr)
      return { stdout: r.stdout, loaded: readFileSync(trace, 'utf8').trim().split('\n') }
    }
    const main = run(['--help'])
    for (const entry of COMMANDS) assert.match(main.stdout, new RegExp(`\n  ${entry.name} +${entry.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
    assert.ok(main.loaded.some((u) => u.endsWith('/src/cli/command.js')), `the trace works: ${main.loaded.join(' ')}`)
    assert.deepEqual(main.loaded.filter((u) => /onnxruntime|node_modules/.test(u)), [], 'no dependency loaded')
    for (const entry of COMMANDS) assert.ok(!main.loaded.some((u) => u.endsWith(`/src/cli/${entry.name}.js`)), `${entry.name}.js loaded`)
    // the control: a command's help loads that command (and bench's help still not onnxruntime)
    const bench = run(['bench', '--help'])
    assert.match(bench.stdout, /--patch 96\|64/)
    assert.ok(bench.loaded.some((u) => u.endsWith('/src/cli/bench.js')))
    assert.ok(!bench.loaded.some((u) => u.includes('onnxruntime')), 'bench --help loads no onnxruntime')
    const info = run(['help', 'info'])
    assert.match(info.stdout, /^usage: nodal info/)
    assert.ok(info.loaded.some((u) => u.includes('/node_modules/')), 'info loads its dependencies: the trace sees them')
  } finally {
    tmp.cleanup()
  }
})

test('an output place the system refuses (here /sys, not writable) is one line and exit 2, not an internal error', () => {
  for (const args of [['phantom', '--site', 'chest', '--cases', '1', '--seed', '1', '--size', '32,32,16', '--out', '/sys/nodal-test'], ['convert', join(REPO, 'samples', 'ct', 'chest_ct_lidc0314_1p8mm.nii.gz'), '/sys/nodal-test.nii.gz']]) {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' })
    assert.equal(r.status, 2, r.stderr)
    assert.match(r.stderr, /^nodal: \/sys: cannot write here, (operation not permitted|is on a read-only file system|permission denied)/m)
    assert.doesNotMatch(r.stderr, /internal error/)
    assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('nodal:')).length, 1)
  }
})

test('SIGINT or SIGTERM during phantom: exit 130/143, one line saying so, no temporary folder or partial dataset left', async () => {
  const { spawn } = await import('node:child_process')
  const { existsSync, readdirSync } = await import('node:fs')
  const tmp = tempDir()
  try {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const out = join(tmp.path, `ds_${signal}`)
      const child = spawn(process.execPath, [CLI, 'phantom', '--site', 'chest', '--cases', '40', '--seed', '1', '--size', '96,96,48', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (d) => { stderr += d })
      // wait until the temporary dataset holds a case, then interrupt
      const started = Date.now()
      const hasCase = () => readdirSync(tmp.path).some((f) => f.startsWith(`.ds_${signal}.tmp-`) && existsSync(join(tmp.path, f, 'imagesTr')) && readdirSync(join(tmp.path, f, 'imagesTr')).length > 0)
      while (!hasCase() && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 100))
      assert.ok(hasCase(), 'the phantom started writing')
      child.kill(signal)
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)))
      assert.equal(code, signal === 'SIGINT' ? 130 : 143)
      assert.match(stderr, new RegExp(`nodal: ${signal} received: phantom stopped before it finished; nothing partial was left \\(1 temporary output removed\\)`))
      assert.deepEqual(readdirSync(tmp.path).filter((f) => f.includes(signal)), [], 'nothing left')
    }
  } finally {
    tmp.cleanup()
  }
})

test('nodal --version reads package.json (the npm package is nodal-lymph, the command nodal)', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'))
  assert.equal(pkg.name, 'nodal-lymph')
  assert.equal(pkg.bin.nodal, 'dist/src/cli/main.js')
  const r = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8', cwd: '/' })
  assert.equal(r.status, 0)
  assert.equal(r.stdout.trim(), `nodal ${pkg.version} (npm package nodal-lymph)`)
})

test('a dataset folder nodal makes gets the permissions of any new folder (the umask), not mkdtemp\'s private 0700', async () => {
  const { statSync } = await import('node:fs')
  const tmp = tempDir()
  try {
    const out = join(tmp.path, 'ds')
    const r = spawnSync(process.execPath, [CLI, 'phantom', '--site', 'chest', '--cases', '1', '--seed', '1', '--size', '32,32,16', '--out', out], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    const umask = process.umask()
    assert.equal(statSync(out).mode & 0o777, 0o777 & ~umask)
  } finally {
    tmp.cleanup()
  }
})
