/**
 * nodal dataset merge (one dataset pointing at several, patients kept apart by host scan) and
 * nodal plan --plans-from (another dataset's configuration kept so a bundle can be fine-tuned here).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeSplits, mergeDatasets, readDataset } from '../../src/dataset/index.js'
import { planDataset, type Plans } from '../../src/plan/index.js'
import { readCacheHeader } from '../../src/preprocess/cache.js'
import { tempDir } from '../helpers.js'
import { ANISOTROPIC_CASES, ISOTROPIC_CASES, writeBlobDataset } from './blobs.js'

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js')

/** A dataset as nodal phantom --insert-into writes it: every case shares one host scan. */
function markAsInsertion(root: string, host: string): void {
  const path = join(root, 'dataset.json')
  const json = JSON.parse(readFileSync(path, 'utf8'))
  json.nodal = { generator: 'nodal phantom --insert-into', host, site: 'chest', seed: 1, cases: json.numTraining }
  writeFileSync(path, JSON.stringify(json))
}

test('dataset merge: one dataset over the sources\' files; an insertion dataset is one patient; folds keep it whole', async () => {
  const tmp = tempDir()
  try {
    writeBlobDataset(join(tmp.path, 'phantoms'), ISOTROPIC_CASES)
    writeBlobDataset(join(tmp.path, 'inserted'), ANISOTROPIC_CASES)
    markAsInsertion(join(tmp.path, 'inserted'), 'lidc0001.nii.gz')
    const out = join(tmp.path, 'mix')
    const r = mergeDatasets([join(tmp.path, 'phantoms'), join(tmp.path, 'inserted')], out, 'mix')
    assert.equal(r.cases, 6)
    assert.equal(r.patients, 4, 'three phantom cases, one host')
    assert.deepEqual(readdirSync(out), ['dataset.json'], 'nothing copied')
    const ds = readDataset(out)
    assert.deepEqual(ds.cases.map((c) => c.name), ['case_a', 'case_b', 'case_c', 'thick_0', 'thick_1', 'thick_2'])
    assert.equal(ds.cases[3]!.images[0], join(tmp.path, 'inserted', 'imagesTr', 'thick_0_0000.nii.gz'))
    assert.equal(ds.cases[0]!.label, join(tmp.path, 'phantoms', 'labelsTr', 'case_a.nii.gz'))
    assert.deepEqual(ds.cases.slice(3).map((c) => c.patient), Array(3).fill('host:lidc0001.nii.gz'))
    for (const fold of makeSplits(ds.cases.map((c) => ({ name: c.name, patient: c.patient })), 2, 0)) {
      const val = fold.val.filter((n) => n.startsWith('thick')).length
      assert.ok(val === 0 || val === 3, `the host's cases are all on one side of a fold (${fold.val})`)
    }
  } finally {
    tmp.cleanup()
  }
})

test('dataset merge refuses mismatched labels, a repeated case name and a non-empty --out, leaving nothing', () => {
  const tmp = tempDir()
  try {
    writeBlobDataset(join(tmp.path, 'a'), ISOTROPIC_CASES)
    writeBlobDataset(join(tmp.path, 'b'), ANISOTROPIC_CASES, { background: 0, node: 1 })
    writeBlobDataset(join(tmp.path, 'c'), ISOTROPIC_CASES.slice(0, 1))
    const run = (...args: string[]) => {
      try {
        execFileSync('node', [CLI, 'dataset', 'merge', ...args], { stdio: 'pipe' })
        return { code: 0, err: '' }
      } catch (e) {
        const err = e as { status: number; stderr: Buffer }
        return { code: err.status, err: err.stderr.toString() }
      }
    }
    let r = run(join(tmp.path, 'a'), join(tmp.path, 'b'), '--out', join(tmp.path, 'm1'))
    assert.equal(r.code, 2)
    assert.match(r.err, /labels .* differ/)
    r = run(join(tmp.path, 'a'), join(tmp.path, 'c'), '--out', join(tmp.path, 'm2'))
    assert.equal(r.code, 2)
    assert.match(r.err, /case "case_a" is also in an earlier dataset/)
    assert.equal(existsSync(join(tmp.path, 'm1')) || existsSync(join(tmp.path, 'm2')), false)
    r = run(join(tmp.path, 'a'), join(tmp.path, 'c'), '--out', join(tmp.path, 'a'))
    assert.equal(r.code, 2)
    assert.match(r.err, /not empty/)
    assert.equal(r.err.trim().split('\n').length, 1)
  } finally {
    tmp.cleanup()
  }
})

test('plan --plans-from keeps spacing, normalisation, patch and network, fingerprints and preprocesses the new dataset', async () => {
  const tmp = tempDir()
  try {
    const source = join(tmp.path, 'source'), target = join(tmp.path, 'target')
    writeBlobDataset(source, ISOTROPIC_CASES)
    writeBlobDataset(target, ANISOTROPIC_CASES)
    const { path: sourcePlans, plans: a } = await planDataset({ dataset: source, minutes: 1, minIterations: 1, threads: 1, timeStep: async () => 1 })
    let timed = 0
    const { plans: b, path } = await planDataset({ dataset: target, minutes: 1, plansFrom: sourcePlans, timeStep: async () => { timed++; return 1 } })
    assert.equal(timed, 0, 'nothing is timed')
    for (const key of ['target_spacing', 'channels', 'patch_size', 'batch_size', 'network', 'training', 'budget'] as const) assert.deepEqual(b[key], a[key], key)
    assert.equal(b.transferred_from, sourcePlans)
    assert.equal(b.fingerprint.cases, 3)
    assert.deepEqual(b.fingerprint.spacings.map((s) => s[0]), [4, 5, 6], 'the new dataset\'s own fingerprint')
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')) as Plans, b)
    // preprocessed on the source's spacing: 8 slices of 4 mm at 1.5 mm -> about 21
    const header = readCacheHeader(join(target, 'nodal', 'preprocessed'), 'thick_0')
    assert.deepEqual(header.shape, [Math.round(8 * 4 / 1.5), Math.round(48 * 0.8), Math.round(48 * 0.8)], '[z, y, x]')
    // a dataset whose labels make another number of classes cannot take these plans
    const other = join(tmp.path, 'other')
    writeBlobDataset(other, ANISOTROPIC_CASES, { background: 0, benign_node: 1, malignant_node: 2, vessel: 3 })
    await assert.rejects(planDataset({ dataset: other, minutes: 1, plansFrom: sourcePlans }), /network has 3 outputs, but .* labels make 4 classes/)
  } finally {
    tmp.cleanup()
  }
})
