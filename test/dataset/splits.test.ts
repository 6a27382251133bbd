import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Fold, loadOrCreateSplits, makeSplits } from '../../src/dataset/index.js'
import { NodalError } from '../../src/errors.js'
import { tempDir } from '../helpers.js'

const CASES = Array.from({ length: 23 }, (_, i) => ({ name: `case_${String(i).padStart(3, '0')}` }))

/** 10 cases from 4 patients (sizes 4, 3, 2, 1). */
const PATIENT_CASES = [
  ['p1_0', 'p1'], ['p1_1', 'p1'], ['p1_2', 'p1'], ['p1_3', 'p1'],
  ['p2_0', 'p2'], ['p2_1', 'p2'], ['p2_2', 'p2'],
  ['p3_0', 'p3'], ['p3_1', 'p3'],
  ['p4_0', 'p4'],
].map(([name, patient]) => ({ name, patient }))

function checkPartition(folds: Fold[], names: string[]): void {
  const val = folds.flatMap((f) => f.val)
  assert.deepEqual([...val].sort(), [...names].sort(), 'every case validated exactly once')
  for (const f of folds) {
    assert.deepEqual([...f.train, ...f.val].sort(), [...names].sort())
    assert.equal(new Set([...f.train, ...f.val]).size, names.length)
  }
}

test('splits are deterministic from the seed, balanced, and independent of the case order', () => {
  const a = makeSplits(CASES, 5, 7)
  checkPartition(a, CASES.map((c) => c.name))
  assert.deepEqual(a.map((f) => f.val.length).sort(), [4, 5, 5, 5, 4].sort())
  assert.deepEqual(makeSplits(CASES, 5, 7), a)
  assert.deepEqual(makeSplits([...CASES].reverse(), 5, 7), a)
  assert.notDeepEqual(makeSplits(CASES, 5, 8), a)
  checkPartition(makeSplits(CASES, 3, 1), CASES.map((c) => c.name))
})

test('cases of one patient stay in one fold', () => {
  for (const seed of [0, 1, 2, 3, 42]) {
    for (const k of [2, 3, 4]) {
      const folds = makeSplits(PATIENT_CASES, k, seed)
      checkPartition(folds, PATIENT_CASES.map((c) => c.name))
      for (const p of ['p1', 'p2', 'p3', 'p4']) {
        const holding = folds.filter((f) => f.val.some((n) => n.startsWith(`${p}_`)))
        assert.equal(holding.length, 1, `patient ${p}, ${k} folds, seed ${seed}`)
        assert.ok(holding[0].val.filter((n) => n.startsWith(`${p}_`)).length === PATIENT_CASES.filter((c) => c.patient === p).length)
      }
    }
  }
  assert.throws(() => makeSplits(PATIENT_CASES, 5, 0), /cannot make 5 folds from 4 patients \(10 cases\)/)
})

test('the splits file is written once and reused, even with another seed', () => {
  const tmp = tempDir('nodal-splits-')
  try {
    const dir = join(tmp.path, 'study', 'Dataset001')
    const first = loadOrCreateSplits(dir, CASES, 5, 1)
    const file = join(dir, 'splits_final.json')
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), first)
    assert.deepEqual(readdirSync(dir), ['splits_final.json'], 'no temporary file left')
    assert.deepEqual(loadOrCreateSplits(dir, CASES, 5, 99), first)
    // a hand-made file is taken as it is
    const mine: Fold[] = [
      { train: CASES.slice(10).map((c) => c.name), val: CASES.slice(0, 10).map((c) => c.name) },
      { train: CASES.slice(0, 10).map((c) => c.name), val: CASES.slice(10).map((c) => c.name) },
    ]
    writeFileSync(file, JSON.stringify(mine))
    assert.deepEqual(loadOrCreateSplits(dir, [...CASES].reverse(), 2, 1), mine)
  } finally {
    tmp.cleanup()
  }
})

test('stale splits are refused with one line', () => {
  const tmp = tempDir('nodal-splits-')
  try {
    const stale = (cases: { name: string; patient?: string }[], folds: number, pattern: RegExp) =>
      assert.throws(() => loadOrCreateSplits(tmp.path, cases, folds, 1), (e: unknown) =>
        e instanceof NodalError && e.code === 'stale-splits' && !e.message.includes('\n') && pattern.test(e.message))
    loadOrCreateSplits(tmp.path, CASES, 5, 1)
    stale(CASES.slice(1), 5, /splits_final\.json: names 1 case the dataset does not have \(case_000\); delete it to make new splits$/)
    stale([...CASES, { name: 'new_case' }], 5, /leaves out 1 case of the dataset \(new_case\)/)
    stale(CASES, 3, /holds 5 folds, not 3/)
    const folds = JSON.parse(readFileSync(join(tmp.path, 'splits_final.json'), 'utf8')) as Fold[]
    const [x, y] = [folds[0].val[0], folds[1].val[0]]
    stale(CASES.map((c) => ({ ...c, patient: c.name === x || c.name === y ? 'same' : c.name })), 5, /patient "same" has cases in two folds/)
    writeFileSync(join(tmp.path, 'splits_final.json'), '{"train": []}')
    assert.throws(() => loadOrCreateSplits(tmp.path, CASES, 5, 1), /expected nnU-Net's splits/)
    assert.ok(existsSync(join(tmp.path, 'splits_final.json')), 'a refused file is left for the user')
  } finally {
    tmp.cleanup()
  }
})
