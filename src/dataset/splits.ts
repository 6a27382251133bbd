/**
 * Cross-validation splits: k folds, deterministic from a seed, with every case of one patient in one
 * fold. Stored as nnU-Net's splits_final.json (an array of {"train": [...], "val": [...]}), written
 * once and reused, so every run of a study trains and validates on the same cases.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { NodalError } from '../errors.js'
import { makeRng } from '../random.js'

export interface Fold {
  train: string[]
  val: string[]
}

export const SPLITS_FILE = 'splits_final.json'

export interface SplitCase {
  name: string
  /** Cases of one patient stay in one fold; without a patient a case is its own patient. */
  patient?: string
}

/**
 * `folds` folds of the cases, each case in exactly one validation set. Patients (groups of cases)
 * are shuffled by a seeded generator, then dealt largest first to the fold with the fewest cases,
 * so fold sizes differ by at most the size of one patient. The result does not depend on the order
 * of `cases`. Names within each fold are sorted.
 */
export function makeSplits(cases: SplitCase[], folds: number, seed: number): Fold[] {
  if (!Number.isInteger(folds) || folds < 2) throw new NodalError('bad-input', `cannot make ${folds} folds: need an integer of at least 2`)
  const names = new Set<string>()
  const groups = new Map<string, string[]>()
  for (const c of cases) {
    if (names.has(c.name)) throw new NodalError('bad-input', `case "${c.name}" is listed twice`)
    names.add(c.name)
    const patient = c.patient ?? c.name
    if (!groups.has(patient)) groups.set(patient, [])
    groups.get(patient)!.push(c.name)
  }
  if (groups.size < folds) {
    throw new NodalError('bad-input', `cannot make ${folds} folds from ${groups.size} patient${groups.size === 1 ? '' : 's'} (${cases.length} cases)`)
  }
  const patients = [...groups.keys()].sort(compare)
  const random = makeRng((Math.trunc(seed) ^ 0x9e3779b9) >>> 0)
  for (let i = patients.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[patients[i], patients[j]] = [patients[j], patients[i]]
  }
  // Stable sort: patients of equal size keep their shuffled order.
  patients.sort((a, b) => groups.get(b)!.length - groups.get(a)!.length)
  const val: string[][] = Array.from({ length: folds }, () => [])
  for (const p of patients) {
    let f = 0
    for (let g = 1; g < folds; g++) if (val[g].length < val[f].length) f = g
    val[f].push(...groups.get(p)!)
  }
  const all = [...names].sort(compare)
  return val.map((v) => {
    const inVal = new Set(v)
    return { train: all.filter((n) => !inVal.has(n)), val: [...v].sort(compare) }
  })
}

/**
 * The splits in `<dir>/splits_final.json` when it exists, else new ones (makeSplits) written there
 * atomically (a temporary file renamed into place). A file that no longer fits the cases (it names
 * a case the dataset lacks, leaves a case out, puts one patient in two validation folds, or holds
 * another number of folds) is refused with a NodalError('stale-splits'); delete it to make new ones.
 */
export function loadOrCreateSplits(dir: string, cases: SplitCase[], folds: number, seed: number): Fold[] {
  const file = join(dir, SPLITS_FILE)
  if (existsSync(file)) {
    const splits = readSplits(file)
    checkSplits(file, splits, cases, folds)
    return splits
  }
  const splits = makeSplits(cases, folds, seed)
  mkdirSync(dir, { recursive: true })
  const tmp = join(dir, `.${SPLITS_FILE}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`)
  try {
    writeFileSync(tmp, JSON.stringify(splits, null, 2) + '\n')
    renameSync(tmp, file)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
  return splits
}

/** Reads a splits_final.json, checking only its shape. */
export function readSplits(file: string): Fold[] {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw new NodalError('bad-splits', `${file}: is not readable JSON (${(e as Error).message.split('\n')[0]})`)
  }
  const isNames = (x: unknown): x is string[] => Array.isArray(x) && x.every((n) => typeof n === 'string')
  if (!Array.isArray(json) || json.length === 0 || !json.every((f) => f && typeof f === 'object' && isNames(f.train) && isNames(f.val))) {
    throw new NodalError('bad-splits', `${file}: expected nnU-Net's splits, an array of {"train": [names], "val": [names]}`)
  }
  return json.map((f) => ({ train: f.train, val: f.val }))
}

function checkSplits(file: string, splits: Fold[], cases: SplitCase[], folds: number): void {
  const stale = (problem: string) => new NodalError('stale-splits', `${file}: ${problem}; delete it to make new splits`)
  if (splits.length !== folds) throw stale(`holds ${splits.length} folds, not ${folds}`)
  const names = new Set(cases.map((c) => c.name))
  const named = new Set(splits.flatMap((f) => [...f.train, ...f.val]))
  const unknown = [...named].filter((n) => !names.has(n)).sort(compare)
  if (unknown.length > 0) throw stale(`names ${count(unknown.length, 'case')} the dataset does not have (${list(unknown)})`)
  const foldOf = new Map<string, number>()
  splits.forEach((f, i) => {
    for (const n of f.val) {
      if (foldOf.has(n)) throw stale(foldOf.get(n) === i ? `fold ${i} validates on "${n}" twice` : `case "${n}" is in the validation sets of folds ${foldOf.get(n)} and ${i}`)
      foldOf.set(n, i)
    }
  })
  const missing = [...names].filter((n) => !foldOf.has(n)).sort(compare)
  if (missing.length > 0) throw stale(`leaves out ${count(missing.length, 'case')} of the dataset (${list(missing)})`)
  splits.forEach((f, i) => {
    const val = new Set(f.val), train = new Set(f.train)
    const overlap = f.train.filter((n) => val.has(n))
    if (overlap.length > 0) throw stale(`fold ${i} trains and validates on ${list(overlap)}`)
    if (train.size !== f.train.length || train.size + val.size !== names.size) {
      throw stale(`fold ${i} does not use every case exactly once (${train.size} distinct train + ${val.size} val of ${names.size} cases)`)
    }
  })
  const foldOfPatient = new Map<string, { fold: number; name: string }>()
  for (const c of cases) {
    if (c.patient === undefined) continue
    const fold = foldOf.get(c.name)!
    const seen = foldOfPatient.get(c.patient)
    if (seen && seen.fold !== fold) throw stale(`patient "${c.patient}" has cases in two folds ("${seen.name}" in ${seen.fold}, "${c.name}" in ${fold})`)
    foldOfPatient.set(c.patient, { fold, name: c.name })
  }
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`
}

function list(names: string[], max = 5): string {
  return names.slice(0, max).join(', ') + (names.length > max ? `, ... ${names.length - max} more` : '')
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

