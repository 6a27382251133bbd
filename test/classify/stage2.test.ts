/**
 * Stage 2 of the multi-stage pipeline: a candidate's measured features against hand-computed values,
 * patches sampled by world coordinates (the same on LPS and RAS grids), the exported classifier (logits and
 * class-activation maps) against libtorch, and end to end at the command line: `nodal train --pipeline
 * multi` on a detector whose answer is known ("node where HU > 100") and a dataset of spheres (benign:
 * low SUV, malignant: high SUV) and vessels (bright tubes, not labelled), then `nodal predict` with PET.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { camOnPatch } from '../../src/classify/cam.js'
import { extractPatch, measureCandidate, type PatchSpec } from '../../src/classify/candidate.js'
import { exportOnnxGraph } from '../../src/export/onnx.js'
import { OnnxModel } from '../../src/infer/onnx-session.js'
import { encodeNifti } from '../../src/io/nifti.js'
import { readVolume } from '../../src/io/index.js'
import { NodeClassifier } from '../../src/models/classifier.js'
import { makeRng } from '../../src/random.js'
import { manualSeed, randn } from '../../src/torch/index.js'
import { type Axes, indexToWorld, type Vec3, Volume } from '../../src/volume/volume.js'
import { runCli, tempDir } from '../helpers.js'
import { makeBundle } from '../infer/threshold-bundle.js'

const tmp = tempDir('nodal-stage2-')
after(() => tmp.cleanup())

// ------------------------------------------------------------------ measured features, hand-computed

/** A 40³ grid at 1 mm with a sphere of radius 6 mm: `centreHu` within 3 mm of its centre, 50 HU elsewhere in it. */
function sphereCase(axes: Axes, centreHu: number) {
  const shape: Vec3 = [40, 40, 40]
  const origin: Vec3 = [0, 1, 2].map((r) => 5 - 19.5 * (axes[0][r]! + axes[1][r]! + axes[2][r]!)) as Vec3 // centre of the grid at (5, 5, 5)
  const grid = (data: Float32Array | Uint16Array) => new Volume(data, [...shape], [1, 1, 1], [...origin], axes)
  const n = 40 ** 3
  const ct = grid(new Float32Array(n).fill(-100)), pet = grid(new Float32Array(n).fill(1)), ids = grid(new Uint16Array(n))
  const foreground = new Float32Array(n)
  let inside = 0, central = 0, peak = -1
  for (let k = 0; k < 40; k++) for (let j = 0; j < 40; j++) for (let i = 0; i < 40; i++) {
    const p = indexToWorld(ct, [i, j, k])
    const d = Math.hypot(p[0] - 5.5, p[1] - 5.5, p[2] - 5.5) // the sphere's centre falls between voxel centres
    if (d > 6) continue
    const v = ct.offset(i, j, k)
    ids.data[v] = 1
    foreground[v] = 0.8
    pet.data[v] = 4
    if (peak < 0) peak = v
    inside++
    if (d <= 3) { ct.data[v] = centreHu; central++ } else ct.data[v] = 50
  }
  pet.data[peak] = 9
  return { scan: { ct, pet, foreground }, region: { instances: ids, id: 1, bbox: bbox(ids) }, inside, central }
}

function bbox(ids: Volume): [Vec3, Vec3] {
  const lo: Vec3 = [Infinity, Infinity, Infinity], hi: Vec3 = [-1, -1, -1]
  for (let k = 0; k < ids.shape[2]; k++) for (let j = 0; j < ids.shape[1]; j++) for (let i = 0; i < ids.shape[0]; i++) {
    if (!ids.at(i, j, k)) continue
    ;[i, j, k].forEach((x, d) => { lo[d] = Math.min(lo[d]!, x); hi[d] = Math.max(hi[d]!, x) })
  }
  return [lo, hi]
}

const LPS: Axes = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
const RAS: Axes = [[-1, 0, 0], [0, -1, 0], [0, 0, 1]]

test('measured features of a sphere with a necrotic centre match the hand-computed values', () => {
  const c = sphereCase(LPS, 10)
  const m = measureCandidate(c.scan, c.region).values
  // centre voxels at 10 HU, the rest at 50 (counted by the construction above)
  const mean = (10 * c.central + 50 * (c.inside - c.central)) / c.inside
  const sd = Math.sqrt((c.central * (10 - mean) ** 2 + (c.inside - c.central) * (50 - mean) ** 2) / c.inside)
  assert.ok(Math.abs(m.mean_hu - mean) < 1e-6, `mean HU ${m.mean_hu} vs ${mean}`)
  assert.ok(Math.abs(m.sd_hu - sd) < 1e-4, `sd HU ${m.sd_hu} vs ${sd}`)
  assert.ok(Math.abs(m.short_axis_mm - 12) <= 1, `short axis ${m.short_axis_mm}`)
  assert.ok(m.short_long_ratio > 0.9 && m.short_long_ratio <= 1, `ratio ${m.short_long_ratio}`)
  assert.ok(Math.abs(10 ** m.log10_volume_ml * 1000 - c.inside) < 1e-6, 'volume: one voxel is 1 mm³')
  assert.ok(Math.abs(c.inside - (4 / 3) * Math.PI * 216) / c.inside < 0.05, 'the digitised sphere has the volume of a 6 mm sphere')
  // the centre considered reaches a quarter of the short axis from the centroid (just over 3 mm): its voxels within
  // 3 mm are 40 HU darker than the rim, the few beyond are not
  let centre = 0
  for (let k = 0; k < 40; k++) for (let j = 0; j < 40; j++) for (let i = 0; i < 40; i++) {
    const p = indexToWorld(c.scan.ct, [i, j, k])
    if (Math.hypot(p[0] - 5.5, p[1] - 5.5, p[2] - 5.5) <= m.short_axis_mm / 4) centre++
  }
  assert.ok(m.short_axis_mm / 4 >= 3)
  assert.ok(Math.abs(m.low_density_centre_fraction - c.central / centre) < 1e-9, `necrotic centre fraction ${m.low_density_centre_fraction} vs ${c.central}/${centre}`)
  assert.ok(m.low_density_centre_fraction > 0.5)
  assert.equal(m.suv_max, 9)
  assert.ok(Math.abs(m.detector_score - 0.8) < 1e-6)
  const solid = measureCandidate(sphereCase(LPS, 50).scan, c.region).values
  assert.equal(solid.low_density_centre_fraction, 0)
  assert.equal(solid.sd_hu, 0)
})

test('patches are sampled by world coordinates: the same patch from an LPS and a RAS grid', () => {
  const spec: PatchSpec = { channels: ['CT', 'mask', 'PET'], size: 16, spacing_mm: 1.5, ct: { scheme: 'ct', clip: [-200, 300], mean: 0, std: 100 }, pet: { scheme: 'pet', clip: 30, scale: 5 } }
  const centre: Vec3 = [5.5, 5.5, 5.5]
  const a = sphereCase(LPS, 10), b = sphereCase(RAS, 10)
  const pa = extractPatch(a.scan, a.region, centre, spec), pb = extractPatch(b.scan, b.region, centre, spec)
  let diff = 0
  for (let v = 0; v < pa.length; v++) diff = Math.max(diff, Math.abs(pa[v]! - pb[v]!))
  assert.ok(diff < 1e-4, `LPS vs RAS patch differ by ${diff}`)
  const voxels = 16 ** 3
  const at = (c: number, x: number, y: number, z: number) => pa[c * voxels + x + 16 * (y + 16 * z)]!
  // the patch's middle (between voxels 7 and 8) is the sphere's centre: necrotic CT, inside the mask, PET 4
  assert.ok(Math.abs(at(0, 7, 7, 7) - 0.1) < 1e-6, `CT normalised ${at(0, 7, 7, 7)}`)
  assert.equal(at(1, 7, 7, 7), 1)
  assert.equal(at(1, 0, 0, 0), 0)
  assert.ok(Math.abs(at(2, 8, 8, 8) - 0.8) < 1e-6, `PET normalised ${at(2, 8, 8, 8)}`)
  // patient left (+x) is the patch's +x: a point 9 mm to the left of the centre is outside the sphere in both
  assert.ok(Math.abs(at(0, 13, 7, 7) - -1) < 1e-6, 'background at +9 mm x is -100 HU')
})

test('the exported classifier gives libtorch\'s logits and class-activation maps', async () => {
  manualSeed(3)
  const net = new NodeClassifier({ inChannels: 2, numClasses: 3, features: [4, 8], numMeasured: 3 })
  net.eval()
  const x = randn([2, 2, 16, 16, 16]), m = randn([2, 3])
  const logits = Array.from(net.forward(x, m).toArray() as Float32Array)
  const onnx = exportOnnxGraph(net, [{ name: 'patch', dims: ['N', 2, 16, 16, 16] }, { name: 'measured', dims: ['N', 3] }], (g, [p, f]) => net.toOnnxWithCam(g, p!, f!))
  const session = await OnnxModel.load(onnx, { threads: 1 })
  const out = await session.run({ patch: { data: x.toArray() as Float32Array, dims: [2, 2, 16, 16, 16] }, measured: { data: m.toArray() as Float32Array, dims: [2, 3] } })
  logits.forEach((l, i) => assert.ok(Math.abs(l - out.logits!.data[i]!) < 1e-4, `logit ${i}: ${l} vs ${out.logits!.data[i]}`))
  const dims = out.cam!.dims.slice(2) as [number, number, number]
  assert.deepEqual(dims, [8, 8, 8])
  for (const cls of [0, 2]) {
    const expected = net.classActivationMap(x, cls).toArray() as Float32Array
    for (let b = 0; b < 2; b++) {
      const size = 8 ** 3
      const mine = camOnPatch(out.cam!.data.subarray((b * 3 + cls) * size, (b * 3 + cls + 1) * size), dims, 16)
      let diff = 0
      for (let v = 0; v < mine.length; v++) diff = Math.max(diff, Math.abs(mine[v]! - expected[b * 16 ** 3 + v]!))
      assert.ok(diff < 1e-4, `CAM class ${cls} sample ${b}: max difference ${diff}`)
    }
  }
  await session.release()
})

// ------------------------------------------------------------------ end to end: spheres and vessels

interface Blob { centre: Vec3; radius: number; kind: 'benign' | 'malignant' | 'vessel' }

/** 56 x 56 x 32 voxels of 1.5 mm: two benign spheres (SUV 1.5), one malignant (SUV 8), one vessel along z. */
function blobCase(seed: number): { ct: Volume; pet: Volume; labels: Volume; blobs: Blob[] } {
  const rng = makeRng(seed)
  const shape: Vec3 = [56, 56, 32], spacing: Vec3 = [1.5, 1.5, 1.5]
  const jitter = () => (rng() - 0.5) * 6
  const blobs: Blob[] = [
    { centre: [20 + jitter(), 20 + jitter(), 24], radius: 4 + rng(), kind: 'benign' },
    { centre: [62 + jitter(), 24 + jitter(), 22], radius: 4.5 + rng(), kind: 'benign' },
    { centre: [24 + jitter(), 60 + jitter(), 26], radius: 6 + rng() * 2, kind: 'malignant' },
    { centre: [62 + jitter(), 62 + jitter(), 0], radius: 3.5, kind: 'vessel' },
  ]
  const n = shape[0] * shape[1] * shape[2]
  const ct = new Float32Array(n), pet = new Float32Array(n), labels = new Uint8Array(n)
  let v = 0
  for (let k = 0; k < shape[2]; k++) for (let j = 0; j < shape[1]; j++) for (let i = 0; i < shape[0]; i++, v++) {
    const p = [i * 1.5, j * 1.5, k * 1.5]
    ct[v] = -100 + (rng() - 0.5) * 20
    pet[v] = 1
    for (const b of blobs) {
      const d = b.kind === 'vessel' ? Math.hypot(p[0]! - b.centre[0], p[1]! - b.centre[1]) : Math.hypot(p[0]! - b.centre[0], p[1]! - b.centre[1], p[2]! - b.centre[2])
      if (d > b.radius) continue
      ct[v] = 300 + (rng() - 0.5) * 20
      pet[v] = b.kind === 'malignant' ? 8 : b.kind === 'benign' ? 1.5 : 2
      labels[v] = b.kind === 'malignant' ? 2 : b.kind === 'benign' ? 1 : 0
    }
  }
  const vol = (data: Float32Array | Uint8Array, modality: string) => new Volume(data, shape, spacing, [0, 0, 0], LPS, { modality })
  return { ct: vol(ct, 'CT'), pet: vol(pet, 'PT'), labels: vol(labels, 'SEG'), blobs }
}

function blobDataset(root: string, cases: number, seed: number): void {
  for (const d of ['imagesTr', 'labelsTr']) mkdirSync(join(root, d), { recursive: true })
  for (let c = 0; c < cases; c++) {
    const b = blobCase(seed + c)
    const name = `blob_${String(c).padStart(3, '0')}`
    writeFileSync(join(root, 'imagesTr', `${name}_0000.nii.gz`), encodeNifti(b.ct, true))
    writeFileSync(join(root, 'imagesTr', `${name}_0001.nii.gz`), encodeNifti(b.pet, true))
    writeFileSync(join(root, 'labelsTr', `${name}.nii.gz`), encodeNifti(b.labels, true))
  }
  writeFileSync(join(root, 'dataset.json'), JSON.stringify({
    name: 'Dataset901_blobs', channel_names: { 0: 'CT', 1: 'PET' }, labels: { background: 0, benign_node: 1, malignant_node: 2 }, numTraining: cases, file_ending: '.nii.gz',
  }))
}

test('nodal train --pipeline multi then nodal predict: stage 2 rejects vessels and tells malignant from benign with PET', async () => {
  const detector = makeBundle(join(tmp.path, 'detector'))
  const data = join(tmp.path, 'Dataset901_blobs')
  blobDataset(data, 10, 100)
  const multi = join(tmp.path, 'multi')
  const trained = runCli(['train', data, '--pipeline', 'multi', '--detector', detector, '--out', multi, '--stage2-epochs', '25', '--stage2-features', '4,8,16', '--seed', '2'])
  assert.equal(trained.code, 0, trained.stderr)
  assert.match(trained.stdout, /classifier ct: validation/)
  assert.match(trained.stdout, /classifier petct: validation/)
  const json = JSON.parse(readFileSync(join(multi, 'model.json'), 'utf8'))
  assert.equal(json.pipeline, 'multi')
  assert.deepEqual(json.classifiers.map((c: { name: string }) => c.name), ['ct', 'petct'])
  const petct = json.classifiers[1]
  assert.deepEqual(petct.patch.channels, ['CT', 'mask', 'PET'])
  assert.ok(petct.training.by_label.every((n: number) => n > 0), `samples of every class: ${petct.training.by_label}`)
  assert.ok(petct.validation.auc_malignant >= 0.9, `PET/CT validation AUC malignant ${petct.validation.auc_malignant}`)
  assert.ok(existsSync(join(multi, 'classifier_petct.onnx')) && existsSync(join(multi, 'fold_0.onnx')) && existsSync(join(multi, 'card.md')))

  // a case neither stage saw
  const test = blobCase(999)
  const input = join(tmp.path, 'input')
  mkdirSync(input)
  writeFileSync(join(input, 'ct.nii.gz'), encodeNifti(test.ct, true))
  writeFileSync(join(input, 'pet.nii.gz'), encodeNifti(test.pet, true))
  const out = join(tmp.path, 'pred')
  const predicted = runCli(['predict', join(input, 'ct.nii.gz'), '--pet', join(input, 'pet.nii.gz'), '--model', multi, '--out', out])
  assert.equal(predicted.code, 0, predicted.stderr)
  const caseDir = join(out, 'ct')
  const nodes = JSON.parse(readFileSync(join(caseDir, 'nodes.json'), 'utf8'))
  assert.deepEqual(nodes.classes.map((c: { name: string }) => c.name), ['background', 'benign_node', 'malignant_node'])
  assert.equal(nodes.stage2.classifier, 'petct')
  const found = Object.values(nodes.instances) as { class: string; centre_mm: Vec3; probability_malignant: number; stage2: unknown; suv_max: number | null }[]
  assert.ok(found.every((n) => typeof n.suv_max === 'number'), 'with PET every node has its SUVmax')
  for (const blob of test.blobs.filter((b) => b.kind !== 'vessel')) {
    const node = found.find((f) => Math.hypot(f.centre_mm[0] - blob.centre[0], f.centre_mm[1] - blob.centre[1], f.centre_mm[2] - blob.centre[2]) < 3)
    assert.ok(node, `the ${blob.kind} sphere at ${blob.centre.map((x) => x.toFixed(0))} was kept`)
    assert.equal(node!.class, blob.kind, `sphere at ${blob.centre.map((x) => x.toFixed(0))}: P(malignant | node) ${node!.probability_malignant}`)
    assert.ok(node!.stage2)
  }
  const labels = await readVolume(join(caseDir, 'labels.nii.gz'))
  const values = new Set(labels.data)
  assert.ok(values.has(1) && values.has(2), `labels hold benign (1) and malignant (2): ${[...values]}`)
  const cam = await readVolume(join(caseDir, 'cam.nii.gz'))
  let camMax = 0
  for (const c of cam.data) camMax = Math.max(camMax, c)
  // each node's map peaks at 1 on its patch grid; laid onto the scan's grid (linear), the peak is near 1
  assert.ok(camMax > 0.8 && camMax <= 1 + 1e-6, `CAM overlay max ${camMax}`)
  const report = readFileSync(join(caseDir, 'report.html'), 'utf8')
  assert.match(report, /data-view="axial-cam"/)
  assert.match(report, /P\(malignant \| node\)/)

  // the same bundle on CT alone uses the CT classifier
  const ctOnly = runCli(['predict', join(input, 'ct.nii.gz'), '--model', multi, '--out', join(tmp.path, 'pred-ct')])
  assert.equal(ctOnly.code, 0, ctOnly.stderr)
  assert.equal(JSON.parse(readFileSync(join(tmp.path, 'pred-ct', 'ct', 'nodes.json'), 'utf8')).stage2.classifier, 'ct')

  // --classifiers-from: a detector joined with these classifiers as they are, no stage-2 training; here the same
  // detector, so predict gives the very same nodes
  const reused = join(tmp.path, 'reused')
  const made = runCli(['train', data, '--pipeline', 'multi', '--detector', detector, '--classifiers-from', multi, '--out', reused])
  assert.equal(made.code, 0, made.stderr)
  const reusedJson = JSON.parse(readFileSync(join(reused, 'model.json'), 'utf8'))
  assert.deepEqual(reusedJson.classifiers, json.classifiers)
  assert.equal(reusedJson.classifiers_from, json.name)
  assert.match(readFileSync(join(reused, 'card.md'), 'utf8'), /Taken as they were from/)
  const again = runCli(['predict', join(input, 'ct.nii.gz'), '--pet', join(input, 'pet.nii.gz'), '--model', reused, '--out', join(tmp.path, 'pred-reused')])
  assert.equal(again.code, 0, again.stderr)
  const strip = (n: { instances: unknown }) => JSON.stringify(n.instances)
  assert.equal(strip(JSON.parse(readFileSync(join(tmp.path, 'pred-reused', 'ct', 'nodes.json'), 'utf8'))), strip(nodes))
  const alone = runCli(['train', data, '--pipeline', 'multi', '--classifiers-from', multi, '--out', join(tmp.path, 'alone')])
  assert.notEqual(alone.code, 0)
  assert.match(alone.stderr, /--classifiers-from goes with --detector/)
})
