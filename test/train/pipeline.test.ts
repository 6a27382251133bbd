/**
 * nodal plan + nodal train at the command line: a tiny end-to-end run into a model bundle, exact resume
 * after a kill, the ignore label, one-line errors for bad input; and the batch sampler and target lookup.
 * Sized for a 2-core CI machine: one tiny phantom plan shared by the CLI tests, a smaller network
 * (written into a second plans.json) for the resume runs.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { PNG } from 'pngjs'
import { readBundle } from '../../src/bundle/index.js'
import { makePhantomDataset } from '../../src/phantom/index.js'
import { type Plans, unetConfigFor } from '../../src/plan/index.js'
import { type CacheHeader, readCacheHeader } from '../../src/preprocess/cache.js'
import { loadSafetensors, manualSeed, nn, randn, saveModule, tensor, where, type Tensor } from '../../src/torch/index.js'
import { LOSS_NAMES, lossByName } from '../../src/train/loss.js'
import { iterationSeed, sampleBatch, type SamplerSettings, targetLookup } from '../../src/train/sampler.js'
import { CLI, runCli, tempDir } from '../helpers.js'
import { Volume } from '../../src/volume/volume.js'
import { blobVolumes, type BlobCase, ISOTROPIC_CASES, writeBlobDataset, writeFile } from '../plan/blobs.js'

const tmp = tempDir('nodal-pipeline-')
after(() => tmp.cleanup())

// ------------------------------------------------------------------------------------------- shared phantom plan

const PHANTOM = join(tmp.path, 'Dataset900_chest')
let planned: Promise<{ code: number; stderr: string; stdout: string; seconds: number }> | null = null

/** Four 32 x 32 x 16 chest CT phantoms at 3 x 3 x 4 mm, planned once with nodal plan (1 minute, 1 iteration). */
function plannedPhantom() {
  planned ??= (async () => {
    await makePhantomDataset({ site: 'chest', modality: 'ct', size: [32, 32, 16], spacing: [3, 3, 4], cases: 4, seed: 5, out: PHANTOM, preview: false })
    const start = performance.now()
    const r = runCli(['plan', PHANTOM, '--minutes', '1', '--min-iterations', '1'])
    return { ...r, seconds: (performance.now() - start) / 1000 }
  })()
  return planned
}

function oneLineError(r: { code: number; stderr: string }, pattern: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code}: ${r.stderr}`)
  const lines = r.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `${what}: stderr is not one line: ${r.stderr}`)
  assert.match(lines[0]!, /^nodal: /, what)
  assert.match(lines[0]!, pattern, what)
}

function logIterations(csv: string): number[] {
  const [head, ...rows] = csv.trim().split('\n')
  assert.equal(head!.split(',')[0], 'iteration')
  return rows.map((r) => Number(r.split(',')[0]))
}

test('tiny end-to-end: nodal plan then nodal train write a complete bundle whose ONNX runs', async (t) => {
  const plan = await plannedPhantom()
  assert.equal(plan.code, 0, plan.stderr)
  const plans = JSON.parse(readFileSync(join(PHANTOM, 'nodal', 'plans.json'), 'utf8')) as Plans
  assert.deepEqual(plans.target_spacing, [4, 3, 3])
  const start = performance.now()
  const r = runCli(['train', PHANTOM, '--iterations', '4', '--epoch', '2', '--validate-every', '0', '--fold', '0'])
  const trainSeconds = (performance.now() - start) / 1000
  assert.equal(r.code, 0, r.stderr)
  t.diagnostic(`plan ${plan.seconds.toFixed(1)} s, train ${trainSeconds.toFixed(1)} s (patch ${plans.patch_size}, features ${plans.network.config.features})`)
  const bundle = join(PHANTOM, 'nodal', 'models', 'unet_all-nodes')
  assert.match(r.stdout, new RegExp(`model bundle: ${bundle}`))
  for (const f of ['model.json', 'fold_0.onnx', 'fold_0.safetensors', 'card.md', 'fold_0/checkpoint_last.safetensors', 'fold_0/checkpoint_best.safetensors', 'fold_0/training_log.csv', 'fold_0/training_progress.png']) {
    assert.ok(existsSync(join(bundle, f)), `${f} missing from the bundle`)
  }
  const model = readBundle(bundle)
  assert.equal(model.target, 'all-nodes')
  assert.deepEqual(model.classes.map((c) => c.name), ['background', 'node'])
  assert.deepEqual(model.classes[1]!.dataset_labels, [1, 2])
  assert.deepEqual(model.patch_size, plans.patch_size)
  assert.equal(model.synthetic_training_data, true)
  assert.equal(model.folds.length, 1)
  const fold = model.folds[0]!
  assert.equal(fold.fold, 0)
  assert.equal(fold.iterations, 4)
  assert.equal(fold.validation_cases, 1)
  assert.ok(fold.validation, 'fold 0 has validation metrics')
  assert.equal(typeof fold.validation.mean_dice, 'number')
  assert.ok((fold.validation.mean_dice as number) >= 0 && (fold.validation.mean_dice as number) <= 1)
  assert.ok('sensitivity' in fold.validation && 'fp_per_scan' in fold.validation)
  // training time is counted once: not more than the wall time of the whole command
  assert.ok(fold.training_seconds <= trainSeconds + 0.5, `training_seconds ${fold.training_seconds} > wall ${trainSeconds.toFixed(1)} s`)
  assert.ok(readFileSync(join(bundle, 'card.md'), 'utf8').length > 200)
  // the ONNX network: one input [N, 1, ...patch], two output channels at the patch size
  const session = await ort.InferenceSession.create(join(bundle, 'fold_0.onnx'))
  const [pz, py, px] = plans.patch_size
  const input = new ort.Tensor('float32', new Float32Array(pz * py * px).map((_, i) => Math.sin(i)), [1, 1, pz, py, px])
  const output = (await session.run({ [session.inputNames[0]!]: input }))[session.outputNames[0]!]!
  assert.deepEqual(output.dims, [1, 2, pz, py, px])
  assert.ok((output.data as Float32Array).every(Number.isFinite))
  await session.release()
  // the log has a row per epoch (iterations 2 and 4), with validation each time (--validate-every 0)
  const csv = readFileSync(join(bundle, 'fold_0', 'training_log.csv'), 'utf8')
  assert.deepEqual(logIterations(csv), [2, 4])
  for (const row of csv.trim().split('\n').slice(1)) assert.notEqual(row.split(',')[6], '', `no validation Dice in ${row}`)
  const png = PNG.sync.read(readFileSync(join(bundle, 'fold_0', 'training_progress.png')))
  assert.ok(png.width >= 200 && png.height >= 100, `${png.width}x${png.height}`)
  // about 12 s for both on 2 cores shared with another job; a minute is the limit
  assert.ok(plan.seconds + trainSeconds < 60, `plan ${plan.seconds.toFixed(1)} s + train ${trainSeconds.toFixed(1)} s`)
})

// ------------------------------------------------------------------------------------------- resume

/** A second plans.json beside the first (same cache, a smaller network), for quick training runs. */
function smallPlans(): string {
  const dir = join(PHANTOM, 'nodal', 'small')
  const path = join(dir, 'plans.json')
  if (existsSync(path)) return path
  const plans = JSON.parse(readFileSync(join(PHANTOM, 'nodal', 'plans.json'), 'utf8')) as Plans
  const { config, patch } = unetConfigFor([16, 24, 24], plans.target_spacing, 8, 1, 2)
  mkdirSync(dir, { recursive: true })
  writeFileSync(path, JSON.stringify({
    ...plans, patch_size: patch, network: { ...plans.network, config },
    dataset: { ...plans.dataset, root: '../..' }, preprocessed: '../preprocessed',
  }, null, 2))
  return path
}

async function loopState(path: string): Promise<{ iteration: number } | null> {
  try {
    const { tensors, metadata } = await loadSafetensors(path)
    for (const t of tensors.values()) t.dispose()
    return JSON.parse(metadata.nodal_loop_state!) as { iteration: number }
  } catch {
    return null
  }
}

async function weights(path: string): Promise<Map<string, { shape: number[]; data: number[] }>> {
  const { tensors } = await loadSafetensors(path)
  const out = new Map<string, { shape: number[]; data: number[] }>()
  for (const [name, t] of tensors) {
    out.set(name, { shape: t.shape, data: Array.from(t.toArray() as Float32Array) })
    t.dispose()
  }
  return out
}

test('resume after SIGKILL gives bit-identical weights; a checkpoint without --resume is refused', async (t) => {
  const plan = await plannedPhantom()
  assert.equal(plan.code, 0, plan.stderr)
  const plansFile = smallPlans()
  const out = (name: string) => join(tmp.path, 'resume', name)
  const args = (dir: string) => ['train', PHANTOM, '--plans', plansFile, '--iterations', '6', '--epoch', '2', '--threads', '1', '--fold', '0', '--out', dir]
  const a = runCli(args(out('A')))
  assert.equal(a.code, 0, a.stderr)
  // (this also loads libtorch here, which takes longer than a few iterations of B the first time)
  assert.equal((await loopState(join(out('A'), 'fold_0', 'checkpoint_last.safetensors')))?.iteration, 6)
  // B: killed once its last checkpoint is at iteration 2 or later
  const child = spawn(process.execPath, [CLI, ...args(out('B'))], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
  let running = true
  void exited.then(() => { running = false })
  const checkpoint = join(out('B'), 'fold_0', 'checkpoint_last.safetensors')
  let killedAt: number | null = null
  const deadline = Date.now() + 120_000
  while (running && Date.now() < deadline) {
    const state = existsSync(checkpoint) ? await loopState(checkpoint) : null
    if (state && state.iteration >= 2) {
      child.kill('SIGKILL')
      killedAt = state.iteration
      break
    }
    await new Promise((r) => setTimeout(r, 10))
  }
  const signal = await exited
  assert.equal(signal, 'SIGKILL', `run B was not killed (it ended by itself): ${stderr}`)
  assert.ok(killedAt !== null && killedAt < 6, `killed after iteration ${killedAt}`)
  assert.ok(!existsSync(join(out('B'), 'model.json')), 'the killed run wrote no model.json')
  const resumed = runCli([...args(out('B')), '--resume'])
  assert.equal(resumed.code, 0, resumed.stderr)
  assert.match(resumed.stderr, /resuming at iteration (\d+) of 6/)
  const resumedFrom = Number(/resuming at iteration (\d+)/.exec(resumed.stderr)![1])
  assert.ok(resumedFrom >= killedAt! && resumedFrom < 6)
  t.diagnostic(`killed with the checkpoint at iteration ${killedAt}, resumed at ${resumedFrom}`)
  // weights: the same tensors, bit for bit (libtorch on 1 thread is deterministic, batches depend on (seed, iteration) only)
  const [wa, wb] = [await weights(join(out('A'), 'fold_0.safetensors')), await weights(join(out('B'), 'fold_0.safetensors'))]
  assert.deepEqual([...wb.keys()].sort(), [...wa.keys()].sort())
  assert.ok(wa.size > 10)
  for (const [name, ta] of wa) {
    const tb = wb.get(name)!
    assert.deepEqual(tb.shape, ta.shape, name)
    const differ = ta.data.findIndex((v, i) => !Object.is(v, tb.data[i]))
    assert.equal(differ, -1, `${name}[${differ}]: ${ta.data[differ]} uninterrupted vs ${tb.data[differ]} resumed`)
  }
  // the resumed log has each epoch's row once
  assert.deepEqual(logIterations(readFileSync(join(out('B'), 'fold_0', 'training_log.csv'), 'utf8')), [2, 4, 6])
  const bundle = readBundle(out('B'))
  assert.equal(bundle.folds[0]!.iterations, 6)
  // A again, without --resume: refused, nothing overwritten
  const again = runCli(args(out('A')))
  oneLineError(again, /holds a checkpoint already; add --resume/, 'train into a folder with a checkpoint')
})

test('--init-from starts from another bundle\'s weights (fine-tuning); weights of another network are refused in one line', async () => {
  const plan = await plannedPhantom()
  assert.equal(plan.code, 0, plan.stderr)
  const plansFile = smallPlans()
  const out = (name: string) => join(tmp.path, 'finetune', name)
  const args = (dir: string) => ['train', PHANTOM, '--plans', plansFile, '--iterations', '1', '--epoch', '1', '--threads', '1', '--fold', '0', '--validate-every', '1000', '--out', dir]
  const base = runCli([...args(out('base')), '--iterations', '3', '--seed', '1'])
  assert.equal(base.code, 0, base.stderr)
  const from = join(out('base'), 'fold_0.safetensors')
  const tuned = runCli([...args(out('tuned')), '--init-from', from, '--seed', '2'])
  assert.equal(tuned.code, 0, tuned.stderr)
  assert.match(tuned.stderr, /starting from the weights in/)
  const scratch = runCli([...args(out('scratch')), '--seed', '2'])
  assert.equal(scratch.code, 0, scratch.stderr)
  const [w0, wt, ws] = [await weights(from), await weights(join(out('tuned'), 'fold_0.safetensors')), await weights(join(out('scratch'), 'fold_0.safetensors'))]
  const distance = (a: Map<string, { data: number[] }>, b: Map<string, { data: number[] }>) => {
    let sum = 0
    for (const [name, t] of a) t.data.forEach((v, i) => { sum += (v - b.get(name)!.data[i]!) ** 2 })
    return Math.sqrt(sum)
  }
  // one step from the base weights stays near them; a fresh start with the same seed is far away
  assert.ok(distance(wt, w0) * 10 < distance(ws, w0), `fine-tuned ${distance(wt, w0)} vs scratch ${distance(ws, w0)} from the base`)
  const other = join(out('other.safetensors'))
  await saveModule(new nn.Linear(3, 2), other)
  oneLineError(runCli([...args(out('mismatch')), '--init-from', other]), /does not fit this network/, 'weights of another network')
  // more classes (all-nodes, 2 -> classes, 3): the output heads (weight and bias of the small test network's two,
  // with deep supervision) keep the base's rows for background and node, the new class starts fresh
  const classes = runCli([...args(out('classes')), '--target', 'classes', '--init-from', from, '--seed', '2'])
  assert.equal(classes.code, 0, classes.stderr)
  assert.match(classes.stderr, /output heads widened for more classes: 4 tensors keep their classes' rows/)
  const wc = await weights(join(out('classes'), 'fold_0.safetensors'))
  assert.equal(wc.get('head.0.weight')!.shape[0], 3)
  const rows = (w: Map<string, { data: number[] }>, name: string, n: number) => new Map([[name, { data: w.get(name)!.data.slice(0, n) }]])
  const kept = w0.get('head.0.weight')!.data.length
  for (const name of ['head.0.weight']) {
    assert.ok(distance(rows(wc, name, kept), rows(w0, name, kept)) * 10 < distance(rows(ws, name, kept), rows(w0, name, kept)), `${name}: the base's rows`)
  }
  const body = (w: Map<string, { data: number[] }>) => new Map([...w].filter(([name]) => !name.startsWith('head.')))
  assert.ok(distance(body(wc), body(w0)) * 10 < distance(body(ws), body(w0)), `body fine-tuned ${distance(body(wc), body(w0))} vs scratch ${distance(body(ws), body(w0))}`)
})

// ------------------------------------------------------------------------------------------- ignore label

test('ignore label: a dataset with "ignore": 255 voxels plans and trains; the cache keeps 255 out of the foreground', async () => {
  const root = join(tmp.path, 'Dataset003_ignore')
  const cases: BlobCase[] = ISOTROPIC_CASES.map((c) => ({ ...c, boxes: [...c.boxes, { at: [18, 2, 6], size: [5, 5, 5], label: 255 }] }))
  const labels = { background: 0, benign_node: 1, malignant_node: 2, ignore: 255 }
  const n = writeBlobDataset(root, cases, labels)
  // a large --min-iterations: nothing fits, so the cheapest network is taken (quick to time and train)
  const plan = runCli(['plan', root, '--minutes', '1', '--min-iterations', '10000000'])
  assert.equal(plan.code, 0, plan.stderr)
  const plans = JSON.parse(readFileSync(join(root, 'nodal', 'plans.json'), 'utf8')) as Plans
  assert.equal(plans.dataset.ignore_label, 255)
  assert.deepEqual(plans.network.config.numClasses, 3)
  // the ignored voxels (CT -1000) are not foreground: the clip is that of 0..n-1
  const norm = plans.channels[0]!.normalization
  assert.ok(norm.scheme === 'ct' && Math.abs(norm.clip[0] - 0.005 * (n - 1)) < 1e-9, JSON.stringify(norm))
  for (const c of cases) {
    const header = readCacheHeader(join(root, 'nodal', 'preprocessed'), c.name)
    assert.deepEqual(header.labels, [0, 1, 2, 255])
    assert.ok(header.components.every((k) => k.label !== 255))
    assert.equal(header.components.length, c.boxes.length - 1)
  }
  const train = runCli(['train', root, '--iterations', '2', '--epoch', '2', '--fold', '0', '--target', 'classes'])
  assert.equal(train.code, 0, train.stderr)
  const model = readBundle(join(root, 'nodal', 'models', 'unet_classes'))
  assert.deepEqual(model.classes.map((c) => c.dataset_labels), [[0], [1], [2]])
  assert.equal(model.folds[0]!.iterations, 2)
})

test('every loss ignores voxels labelled 255: logits there change nothing, and removing them changes nothing', () => {
  manualSeed(3)
  const classes = 3
  // [N, Z, Y, X] labels with the last two z slices ignored; and a copy with a few more scattered ignored voxels
  const shape = [2, 6, 5, 4]
  const [N, Z, Y, X] = shape as [number, number, number, number]
  const ignoredSlab = 2
  let seed = 11
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
  const slabLabels = Array.from({ length: N * Z * Y * X }, (_, i) => (Math.floor(i / (Y * X)) % Z >= Z - ignoredSlab ? 255 : Math.floor(next() * classes)))
  const scatteredLabels = slabLabels.map((v) => (next() < 0.1 ? 255 : v))
  const target = tensor(slabLabels, shape, { dtype: 'int64' })
  const scattered = tensor(scatteredLabels, shape, { dtype: 'int64' })
  const logits = randn([N, classes, Z, Y, X], { dtype: 'float64' })
  const noise = randn(logits.shape, { dtype: 'float64' }).mul(5)
  const spacing = [4, 3, 3]
  const value = (v: Tensor) => { const n = v.item(); v.dispose(); return n }
  try {
    for (const name of LOSS_NAMES) {
      const loss = lossByName(name, classes, spacing)
      for (const [what, t] of [['slab', target], ['scattered', scattered]] as [string, Tensor][]) {
        const ignored = t.eq(255).unsqueeze(1)
        const changed = where(ignored, logits.add(noise), logits)
        const labelled = where(ignored, logits, logits.add(noise))
        for (const progress of [0.1, 0.9]) {
          const a = value(loss(logits, t, progress)), b = value(loss(changed, t, progress))
          assert.ok(Number.isFinite(a) && Math.abs(a - b) < 1e-9, `${name} (${what}, progress ${progress}): ${a} vs ${b} after changing logits at ignored voxels`)
          // not trivially constant: changing the labelled voxels' logits does change it
          const c = value(loss(labelled, t, progress))
          assert.ok(Math.abs(a - c) > 1e-6, `${name} (${what}): insensitive to labelled logits`)
        }
        for (const x of [ignored, changed, labelled]) x.dispose()
      }
      // cropping the ignored slab away gives the same loss, except for the boundary loss, whose distance maps
      // are computed over the whole patch (ignored voxels count as background for the distances)
      if (name === 'boundary') continue
      const keep = Z - ignoredSlab
      const [zl, zt] = [logits.slice(2, 0, keep), target.slice(1, 0, keep)]
      const cropped = value(loss(zl, zt, 0.5))
      const whole = value(loss(logits, target, 0.5))
      zl.dispose(); zt.dispose()
      assert.ok(Math.abs(cropped - whole) < 1e-9, `${name}: ${whole} with the ignored slab vs ${cropped} without it`)
    }
  } finally {
    for (const x of [target, scattered, logits, noise]) x.dispose()
  }
})

// ------------------------------------------------------------------------------------------- bad input


function assertNothingWritten(root: string): void {
  assert.ok(!existsSync(join(root, 'nodal', 'plans.json')), 'plans.json written')
  assert.ok(!existsSync(join(root, 'nodal', 'preprocessed')), 'preprocessed/ written')
  const leftovers = existsSync(join(root, 'nodal')) ? readdirSync(join(root, 'nodal')) : []
  assert.deepEqual(leftovers, [], `left in nodal/: ${leftovers}`)
}

test('bad input: one line on stderr starting with "nodal: ", exit 2, nothing left behind', async () => {
  // labels on another grid (origin shifted 1 mm)
  const shifted = join(tmp.path, 'bad_grid')
  writeBlobDataset(shifted, ISOTROPIC_CASES)
  const a = blobVolumes(ISOTROPIC_CASES[0]!)
  writeFile(shifted, 'labelsTr/case_a.nii.gz', new Volume(a.label.data, a.label.shape, a.label.spacing, [1, 0, 0]))
  let r = runCli(['plan', shifted, '--minutes', '1'])
  oneLineError(r, /case_a.*not on the grid.*origin 1,0,0 vs 0,0,0/, 'label on another grid')
  assertNothingWritten(shifted)

  // dataset.json declares two channels; one case lacks channel 1
  const missing = join(tmp.path, 'bad_channel')
  writeBlobDataset(missing, ISOTROPIC_CASES)
  const json = JSON.parse(readFileSync(join(missing, 'dataset.json'), 'utf8'))
  writeFile(missing, 'dataset.json', JSON.stringify({ ...json, channel_names: { 0: 'CT', 1: 'PET' } }))
  for (const c of ['case_a', 'case_c']) copyFileSync(join(missing, 'imagesTr', `${c}_0000.nii.gz`), join(missing, 'imagesTr', `${c}_0001.nii.gz`))
  r = runCli(['plan', missing, '--minutes', '1'])
  oneLineError(r, /case_b_0001\.nii\.gz: missing/, 'missing channel file')
  assertNothingWritten(missing)

  // a label value dataset.json does not declare
  const undeclared = join(tmp.path, 'bad_label')
  writeBlobDataset(undeclared, [{ ...ISOTROPIC_CASES[0]!, boxes: [...ISOTROPIC_CASES[0]!.boxes, { at: [20, 20, 1], size: [2, 2, 2], label: 3 }] }, ...ISOTROPIC_CASES.slice(1)])
  r = runCli(['plan', undeclared, '--minutes', '1'])
  oneLineError(r, /case_a.*undeclared label value 3/, 'undeclared label')
  assertNothingWritten(undeclared)

  // train without a plan
  r = runCli(['train', undeclared])
  oneLineError(r, /no plans\.json.*run nodal plan/, 'train without a plan')
  assertNothingWritten(undeclared)

  // --minutes and --iterations together
  r = runCli(['train', undeclared, '--minutes', '1', '--iterations', '3'])
  oneLineError(r, /--minutes or --iterations, not both/, '--minutes with --iterations')

  // a fold the dataset does not have (4 cases: folds 0-3)
  const plan = await plannedPhantom()
  assert.equal(plan.code, 0, plan.stderr)
  r = runCli(['train', PHANTOM, '--fold', '7', '--iterations', '1'])
  oneLineError(r, /--fold 7: this dataset has 4 folds \(0-3\)/, '--fold 7')
  assert.ok(!existsSync(join(PHANTOM, 'nodal', 'models', 'unet_all-nodes', 'fold_7')))
})

// ------------------------------------------------------------------------------------------- sampler

function header(name: string, shape: [number, number, number], components: CacheHeader['components']): CacheHeader {
  return {
    name, channels: 1, shape, spacing: [1, 1, 1], components, labels: [0, ...new Set(components.map((c) => c.label))],
    record: { sourceGrid: { shape: [1, 1, 1], spacing: [1, 1, 1], origin: [0, 0, 0], axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }, targetGrid: { shape: [1, 1, 1], spacing: [1, 1, 1], origin: [0, 0, 0], axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] } },
  }
}

/** A box component's voxels as flat indices z·Y·X + y·X + x. */
function boxSamples(shape: [number, number, number], at: [number, number, number], size: [number, number, number]): number[] {
  const out: number[] = []
  for (let z = at[0]; z < at[0] + size[0]; z++) for (let y = at[1]; y < at[1] + size[1]; y++) for (let x = at[2]; x < at[2] + size[2]; x++) out.push((z * shape[1] + y) * shape[2] + x)
  return out
}

test('sampler: batches depend only on (seed, iteration); the oversampled item is centred near a labelled component', () => {
  const shapeA: [number, number, number] = [40, 80, 80]
  const shapeB: [number, number, number] = [30, 60, 70]
  const boxA = { at: [5, 60, 10] as [number, number, number], size: [3, 4, 4] as [number, number, number] }
  const boxB = { at: [20, 5, 50] as [number, number, number], size: [2, 2, 2] as [number, number, number] }
  const cases = [
    header('a', shapeA, [{ label: 1, voxels: 48, samples: boxSamples(shapeA, boxA.at, boxA.size) }]),
    header('b', shapeB, [{ label: 2, voxels: 8, samples: boxSamples(shapeB, boxB.at, boxB.size) }]),
    header('empty', [20, 20, 20], []),
  ]
  const s: SamplerSettings = { patch: [16, 32, 32], batch: 3, oversampling: 0.33, region: [22, 44, 44], favoured: [2], target: 'all-nodes' }
  assert.deepEqual(sampleBatch(cases, 17, 5, s), sampleBatch(cases, 17, 5, s))
  assert.notDeepEqual(sampleBatch(cases, 17, 5, s), sampleBatch(cases, 18, 5, s))
  assert.notDeepEqual(sampleBatch(cases, 17, 5, s), sampleBatch(cases, 17, 6, s))
  assert.notEqual(iterationSeed(5, 17), iterationSeed(6, 17))
  let nearNode = 0
  for (let iteration = 0; iteration < 300; iteration++) {
    const batch = sampleBatch(cases, iteration, 5, s)
    assert.equal(batch.length, 3)
    for (const item of batch) {
      assert.deepEqual(item.region.size, s.region)
      assert.ok(Number.isInteger(item.seed) && item.seed >= 0 && item.seed < 2 ** 32)
    }
    // ceil(3 x 0.33) = 1: the last item is centred within a quarter patch of a node voxel (when its case has one)
    const last = batch[2]!
    const c = cases[last.caseIndex]!
    const centre = last.region.start.map((v, a) => v + Math.floor(s.region[a]! / 2))
    if (c.components.length === 0) {
      centre.forEach((v, a) => assert.ok(v >= 0 && v < c.shape[a]!, 'a case without nodes: anywhere inside'))
      continue
    }
    const box = c.name === 'a' ? boxA : boxB
    centre.forEach((v, a) => {
      const lo = box.at[a]! - Math.round(s.patch[a]! / 4), hi = box.at[a]! + box.size[a]! - 1 + Math.round(s.patch[a]! / 4)
      assert.ok(v >= lo && v <= hi, `iteration ${iteration}: centre ${centre} of case ${c.name}, axis ${a} outside [${lo}, ${hi}]`)
    })
    nearNode++
  }
  assert.ok(nearNode > 150, `${nearNode} of 300 oversampled items on a node case`)
  // the other items land anywhere: over 300 batches some are far from both nodes
  const far = Array.from({ length: 300 }, (_, i) => sampleBatch(cases, i, 5, s)[0]!).filter((item) => {
    const c = cases[item.caseIndex]!
    if (c.name !== 'a') return false
    const centre = item.region.start.map((v, a) => v + Math.floor(s.region[a]! / 2))
    return Math.abs(centre[1]! - 61) > 30
  })
  assert.ok(far.length > 10, `${far.length} random items far from the node`)
})

test('targetLookup: dataset labels -> network classes per target, ignore -> 255', () => {
  const foreground = [1, 2, 4], malignant = [2]
  const all = targetLookup('all-nodes', foreground, malignant, 7)
  const mal = targetLookup('malignant', foreground, malignant, 7)
  const cls = targetLookup('classes', foreground, malignant, 7)
  const at = (lut: Uint8Array) => [0, 1, 2, 3, 4, 7, 255].map((v) => lut[v])
  //                      0  1  2  3  4  7(ignore) 255
  assert.deepEqual(at(all), [0, 1, 1, 0, 1, 255, 255])
  assert.deepEqual(at(mal), [0, 0, 1, 0, 0, 255, 255])
  assert.deepEqual(at(cls), [0, 1, 2, 0, 3, 255, 255])
  // without a dataset ignore label, 255 still stays ignore
  assert.equal(targetLookup('classes', [1, 2], [2], null)[255], 255)
  assert.equal(targetLookup('all-nodes', [1, 2], [2], null)[7], 0)
})
