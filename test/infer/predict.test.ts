/**
 * nodal predict end to end with a network whose answer is known: a 1×1×1 convolution exported to ONNX
 * whose foreground-minus-background logit is k·(x − t), i.e. "node where HU > 100". A scan with two bright
 * spheres at known LPS centres must come back as exactly those two nodes, at those centres and sizes,
 * whatever the voxel grid's orientation; then the CLI's files, its refusals and its warnings; then
 * extractNodes on hand-made label maps.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ModelJson } from '../../src/bundle/index.js'
import { encodeNifti } from '../../src/io/nifti.js'
import { readVolume } from '../../src/io/index.js'
import { extractNodes } from '../../src/infer/nodes.js'
import { listInputCases } from '../../src/infer/inputs.js'
import { nodesJson } from '../../src/infer/outputs.js'
import { loadModel } from '../../src/infer/predict.js'
import { NodalError } from '../../src/errors.js'
import { type Axes, indexToWorld, sameGrid, type Vec3, Volume } from '../../src/volume/volume.js'
import { DEBIAN_PYTHON, fixture, hasPythonModules, runCli, tempDir } from '../helpers.js'
import { BENIGN_MALIGNANT_CLASSES, fakeCase, fakeModel, fakeResult } from './fake-prediction.js'
import { HU_BG, HU_BORDER, HU_NODE, makeBundle } from './threshold-bundle.js'

// ------------------------------------------------------------------ scans with spheres at known LPS centres

interface Sphere { centre: Vec3; radius: number }

/** World centre of the field of view; the spheres are placed relative to it. */
const FOV: Vec3 = [10, -20, 30]
const SPHERES: Sphere[] = [
  { centre: [FOV[0] - 12, FOV[1] - 8, FOV[2] - 10], radius: 6 },
  { centre: [FOV[0] + 10, FOV[1] + 8, FOV[2] + 8], radius: 10 },
]

interface GridSpec { name: string; shape: Vec3; spacing: Vec3; axes: Axes }

const GRIDS: GridSpec[] = [
  { name: 'LPS axes, 1×1×1.5 mm', shape: [64, 64, 40], spacing: [1, 1, 1.5], axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] },
  { name: 'RAS-ordered axes (x and y flipped)', shape: [64, 64, 40], spacing: [1, 1, 1.5], axes: [[-1, 0, 0], [0, -1, 0], [0, 0, 1]] },
  // slices along the first voxel axis, rows running posterior-to-anterior: permuted and left-handed
  { name: 'permuted axes (superior first, y flipped)', shape: [40, 64, 64], spacing: [1.5, 1, 1], axes: [[0, 0, 1], [1, 0, 0], [0, -1, 0]] },
]

/**
 * A CT (HU) sampled on a grid centred on `centre`: `bg` (soft tissue) everywhere, `fg` inside the spheres, with
 * partial volume at the edges (4×4×4 supersampling of voxels the surface crosses), and air (−1000 HU) where
 * world x > centre x + 26 mm, as outside a patient (a scan with no air at all draws the "not HU" warning).
 */
function sphereScan(g: GridSpec, o: { spheres?: Sphere[]; bg?: number; fg?: number; air?: boolean; centre?: Vec3; meta?: Record<string, unknown> } = {}): Volume {
  const spheres = o.spheres ?? SPHERES, bg = o.bg ?? HU_BG, fg = o.fg ?? HU_NODE, centre = o.centre ?? FOV, air = o.air ?? true
  const origin = [...centre] as Vec3
  for (let d = 0; d < 3; d++) for (let r = 0; r < 3; r++) origin[r] -= ((g.shape[d] - 1) / 2) * g.spacing[d] * g.axes[d][r]
  const vol = new Volume(new Float32Array(g.shape[0] * g.shape[1] * g.shape[2]), [...g.shape], [...g.spacing], origin, g.axes, { ...o.meta })
  const halfDiagonal = 0.5 * Math.hypot(...g.spacing)
  const S = 4
  for (let k = 0; k < g.shape[2]; k++) for (let j = 0; j < g.shape[1]; j++) for (let i = 0; i < g.shape[0]; i++) {
    const p = indexToWorld(vol, [i, j, k])
    let inside = 0
    for (const s of spheres) {
      const dist = Math.hypot(p[0] - s.centre[0], p[1] - s.centre[1], p[2] - s.centre[2])
      if (dist < s.radius - halfDiagonal) inside = 1
      else if (dist < s.radius + halfDiagonal) {
        let n = 0
        for (let a = 0; a < S; a++) for (let b = 0; b < S; b++) for (let c = 0; c < S; c++) {
          const q = indexToWorld(vol, [i + (a + 0.5) / S - 0.5, j + (b + 0.5) / S - 0.5, k + (c + 0.5) / S - 0.5])
          if (Math.hypot(q[0] - s.centre[0], q[1] - s.centre[1], q[2] - s.centre[2]) < s.radius) n++
        }
        inside = Math.max(inside, n / S ** 3)
      }
    }
    vol.data[vol.offset(i, j, k)] = air && p[0] > centre[0] + 26 ? -1000 : bg + (fg - bg) * inside
  }
  return vol
}

const distance = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])

interface NodeLike { centre_mm: Vec3; short_axis_mm: number; volume_ml: number; score_max: number; class: string }

/** Each predicted node matched to the nearest true sphere; exactly one node per sphere. */
function checkNodes(nodes: NodeLike[], what: string): void {
  assert.equal(nodes.length, SPHERES.length, `${what}: ${nodes.length} nodes`)
  const matched = new Set<number>()
  for (const n of nodes) {
    const s = SPHERES.reduce((best, s) => (distance(s.centre, n.centre_mm) < distance(best.centre, n.centre_mm) ? s : best))
    matched.add(SPHERES.indexOf(s))
    const r = s.radius, truth = (4 / 3) * Math.PI * r ** 3 / 1000
    const at = `${what}, sphere r=${r} at [${s.centre}]`
    assert.ok(distance(s.centre, n.centre_mm) <= 1, `${at}: centre [${n.centre_mm}] is ${distance(s.centre, n.centre_mm).toFixed(2)} mm off`)
    assert.ok(Math.abs(n.short_axis_mm - 2 * r) <= 1.5, `${at}: short axis ${n.short_axis_mm} mm, diameter ${2 * r}`)
    assert.ok(Math.abs(n.volume_ml - truth) <= 0.1 * truth, `${at}: volume ${n.volume_ml} ml, sphere ${truth.toFixed(4)}`)
    assert.ok(n.score_max > 0.99, `${at}: score_max ${n.score_max}`)
    assert.equal(n.class, 'node')
  }
  assert.equal(matched.size, SPHERES.length, `${what}: two nodes on the same sphere`)
}

// ------------------------------------------------------------------ 1. geometry through NodalModel.predict

test('predict finds both spheres at their LPS centres and sizes, whatever the grid orientation', async () => {
  const tmp = tempDir()
  try {
    const model = await loadModel(makeBundle(join(tmp.path, 'bundle')), { threads: 1 })
    try {
      for (const g of GRIDS) {
        const scan = sphereScan(g)
        const r = await model.predict([scan])
        assert.ok(sameGrid(r.labels, scan) && sameGrid(r.instances, scan), `${g.name}: outputs are not on the input grid`)
        assert.deepEqual(r.warnings, [], `${g.name}: ${r.warnings.join('; ')}`)
        checkNodes(r.nodes, g.name)
        for (const n of r.nodes) assert.ok(Math.abs(n.mean_hu! - HU_NODE) < 60, `${g.name}: mean HU ${n.mean_hu}`)
        // labels and instances agree voxel by voxel
        let disagree = 0
        for (let v = 0; v < r.labels.data.length; v++) if ((r.labels.data[v]! > 0) !== (r.instances.data[v]! > 0)) disagree++
        assert.equal(disagree, 0, `${g.name}: labels and instances differ in ${disagree} voxels`)
      }
      // --min-volume above the small sphere (0.9 ml) removes it from the nodes, the instances and the labels
      const scan = sphereScan(GRIDS[0]!)
      const r = await model.predict([scan], { minVolumeMm3: 2000 })
      assert.equal(r.nodes.length, 1)
      assert.equal(r.nodes[0]!.id, 1)
      assert.ok(distance(r.nodes[0]!.centre_mm, SPHERES[1]!.centre) <= 1)
      const small = scan.worldToIndex(SPHERES[0]!.centre).map(Math.round) as Vec3
      assert.equal(r.labels.at(...small), 0, 'the removed node is still in labels')
      assert.equal(r.instances.at(...small), 0)
      const big = scan.worldToIndex(SPHERES[1]!.centre).map(Math.round) as Vec3
      assert.equal(r.labels.at(...big), 1)
      assert.equal(r.instances.at(...big), 1)
    } finally {
      await model.release()
    }
  } finally {
    tmp.cleanup()
  }
})

test('predict refuses an MR scan for a CT model, and a missing PET channel', async () => {
  const tmp = tempDir()
  try {
    const small: GridSpec = { name: 'small', shape: [24, 24, 16], spacing: [1, 1, 1.5], axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }
    const ct = await loadModel(makeBundle(join(tmp.path, 'ct')), { threads: 1 })
    try {
      const mr = sphereScan(small, { spheres: [], bg: 200, meta: { modality: 'MR' } })
      await assert.rejects(ct.predict([mr]), (e: unknown) => e instanceof NodalError && /channel 0 is MR but the model was trained on CT/.test(e.message))
    } finally {
      await ct.release()
    }
    const petct = await loadModel(makeBundle(join(tmp.path, 'petct'), { pet: true }), { threads: 1 })
    try {
      await assert.rejects(petct.predict([sphereScan(small, { spheres: [] })]), (e: unknown) => e instanceof NodalError && /needs 2 channel\(s\) \(CT, PET\), got 1: give PET too/.test(e.message))
    } finally {
      await petct.release()
    }
  } finally {
    tmp.cleanup()
  }
})

// ------------------------------------------------------------------ 2. the CLI's outputs

function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => f.replace(/\\/g, '/')).sort()
}

test('nodal predict writes labels, instances, nodes.json and nodes.csv on the scan\'s own grid', async () => {
  const tmp = tempDir()
  try {
    const bundle = makeBundle(join(tmp.path, 'bundle'))
    const g = GRIDS[2]! // permuted, left-handed axes: also exercises the NIfTI orientation both ways
    const scanPath = join(tmp.path, 'patient7.nii.gz')
    writeFileSync(scanPath, encodeNifti(sphereScan(g), true))
    const out = join(tmp.path, 'out')
    const r = runCli(['predict', scanPath, '--model', bundle, '--out', out, '--format', 'nifti,json,csv', '--threads', '1'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /patient7: 2 node\(s\)/)
    assert.deepEqual(listTree(out), ['patient7', 'patient7/instances.nii.gz', 'patient7/labels.nii.gz', 'patient7/nodes.csv', 'patient7/nodes.json'])
    const scan = await readVolume(scanPath)
    const labels = await readVolume(join(out, 'patient7', 'labels.nii.gz'))
    const instances = await readVolume(join(out, 'patient7', 'instances.nii.gz'))
    assert.ok(sameGrid(labels, scan, 1e-4) && sameGrid(instances, scan, 1e-4), 'labels/instances are not on the scan grid')
    assert.deepEqual([...new Set(labels.data)].sort(), [0, 1])
    assert.deepEqual([...new Set(instances.data)].sort(), [0, 1, 2])

    const json = JSON.parse(readFileSync(join(out, 'patient7', 'nodes.json'), 'utf8'))
    assert.equal(json.format, 'nodal-nodes')
    assert.equal(json.case, 'patient7')
    assert.deepEqual(json.warnings, [])
    assert.deepEqual(json.classes.map((c: { name: string }) => c.name), ['background', 'node'])
    assert.deepEqual(Object.keys(json.instances).sort(), ['1', '2'])
    for (const [id, n] of Object.entries(json.instances) as [string, Record<string, unknown>][]) {
      assert.equal(n.id, Number(id))
      assert.equal(n.score, n.score_max)
      assert.equal(n.class, 'node')
      for (const key of ['score_mean', 'volume_ml', 'short_axis_mm', 'long_axis_mm', 'centre_mm', 'bbox_voxels', 'bbox_mm', 'mean_hu', 'entropy', 'voxels']) assert.ok(key in n, `node ${id} lacks ${key}`)
      // the instance ids of nodes.json are those of instances.nii.gz
      let voxels = 0
      for (const v of instances.data) if (v === Number(id)) voxels++
      assert.equal(voxels, n.voxels)
    }
    checkNodes(Object.values(json.instances) as NodeLike[], 'CLI')

    const csv = readFileSync(join(out, 'patient7', 'nodes.csv'), 'utf8').trimEnd().split('\n')
    assert.equal(csv.length, 3)
    assert.match(csv[0]!, /^id,class,score_mean,score_max,volume_ml,short_axis_mm,long_axis_mm,centre_lps_mm,/)
    assert.match(csv[1]!, /^1,node,/)
    assert.match(csv[2]!, /^2,node,/)
  } finally {
    tmp.cleanup()
  }
})

test('a border bundle (node, node_border): two spheres joined by a bright slab come out as two nodes; the border is no output class', async () => {
  const tmp = tempDir()
  try {
    const g = GRIDS[0]!
    // two spheres of radius 7 mm, centres 6 mm apart along x: one component with too wide a neck for the distance
    // watershed (separate.ts) to split; the 3 mm slab between them (partial-volume rim too) is "border"
    const a: Sphere = { centre: [FOV[0] - 3, FOV[1], FOV[2]], radius: 7 }, b: Sphere = { centre: [FOV[0] + 3, FOV[1], FOV[2]], radius: 7 }
    const scan = sphereScan(g, { spheres: [a, b] })
    for (let v = 0; v < scan.data.length; v++) {
      const p = indexToWorld(scan, [v % g.shape[0], Math.floor(v / g.shape[0]) % g.shape[1], Math.floor(v / (g.shape[0] * g.shape[1]))])
      if (scan.data[v]! > HU_BG && Math.abs(p[0] - FOV[0]) <= 1.5) scan.data[v] = HU_BORDER
    }
    const scanPath = join(tmp.path, 'pair.nii.gz')
    writeFileSync(scanPath, encodeNifti(scan, true))
    const run = (bundle: string, out: string) => {
      const r = runCli(['predict', scanPath, '--model', bundle, '--out', out, '--format', 'nifti,json', '--threads', '1'])
      assert.equal(r.code, 0, r.stderr)
      return JSON.parse(readFileSync(join(out, 'pair', 'nodes.json'), 'utf8'))
    }
    const plain = run(makeBundle(join(tmp.path, 'plain')), join(tmp.path, 'out-plain'))
    assert.equal(Object.keys(plain.instances).length, 1, 'a two-class detector joins the pair')
    const split = run(makeBundle(join(tmp.path, 'border'), { border: true }), join(tmp.path, 'out-border'))
    assert.deepEqual(split.classes.map((c: { name: string }) => c.name), ['background', 'node'])
    const nodes = Object.values(split.instances) as NodeLike[]
    assert.equal(nodes.length, 2)
    // one node each side of the slab. Resampled to the network's grid and back, the slab's rim passes as node
    // and still bridges the halves: the watershed cuts there, through the border as a crease, and the slab goes
    // to the nearer side, rim included (one side takes the rim), so the halves are not exactly equal
    const sides = nodes.map((n) => Math.sign(n.centre_mm[0] - FOV[0])).sort()
    assert.deepEqual(sides, [-1, 1], `node centres ${nodes.map((n) => n.centre_mm)}`)
    const total = nodes[0]!.volume_ml + nodes[1]!.volume_ml
    assert.ok(nodes.every((n) => n.class === 'node' && n.volume_ml > 0.35 * total), `volumes ${nodes.map((n) => n.volume_ml)}`)
    const labels = await readVolume(join(tmp.path, 'out-border', 'pair', 'labels.nii.gz'))
    assert.deepEqual([...new Set(labels.data)].sort(), [0, 1], 'border voxels are given to their nodes')
    const plainLabels = await readVolume(join(tmp.path, 'out-plain', 'pair', 'labels.nii.gz'))
    assert.deepEqual(Array.from(labels.data), Array.from(plainLabels.data), 'the same voxels are nodes')
  } finally {
    tmp.cleanup()
  }
})

test('a core bundle (node, node_core): one node per core; the watershed still cuts a one-core component at a thin neck', async () => {
  const tmp = tempDir()
  try {
    const g = GRIDS[0]!
    // pair: spheres of radius 7 mm, centres 7 mm apart along x, each with a bright core of radius 2 mm: a neck
    // too wide for the watershed, two cores. single: two spheres of 6 mm joined by a thin neck (the watershed
    // splits them) with one core, in the left one: a core seen in one node only must not keep its neighbour
    const a: Sphere = { centre: [FOV[0] - 3.5, FOV[1], FOV[2]], radius: 7 }, b: Sphere = { centre: [FOV[0] + 3.5, FOV[1], FOV[2]], radius: 7 }
    const c: Sphere = { centre: [FOV[0] - 5.5, FOV[1] + 20, FOV[2]], radius: 6 }, d: Sphere = { centre: [FOV[0] + 5.5, FOV[1] + 20, FOV[2]], radius: 6 }
    const scan = sphereScan(g, { spheres: [a, b, c, d] })
    const cores = [a, b, c]
    for (let v = 0; v < scan.data.length; v++) {
      const p = indexToWorld(scan, [v % g.shape[0], Math.floor(v / g.shape[0]) % g.shape[1], Math.floor(v / (g.shape[0] * g.shape[1]))])
      if (cores.some((s) => Math.hypot(p[0] - s.centre[0], p[1] - s.centre[1], p[2] - s.centre[2]) <= 2)) scan.data[v] = HU_BORDER
    }
    const scanPath = join(tmp.path, 'cores.nii.gz')
    writeFileSync(scanPath, encodeNifti(scan, true))
    const run = (bundle: string, out: string) => {
      const r = runCli(['predict', scanPath, '--model', bundle, '--out', out, '--format', 'nifti,json', '--threads', '1'])
      assert.equal(r.code, 0, r.stderr)
      return Object.values(JSON.parse(readFileSync(join(out, 'cores', 'nodes.json'), 'utf8')).instances) as NodeLike[]
    }
    const side = (n: NodeLike) => `${n.centre_mm[1] > FOV[1] + 10 ? 'single' : 'pair'} ${Math.abs(n.centre_mm[0] - FOV[0]) < 1.5 ? 0 : Math.sign(n.centre_mm[0] - FOV[0])}`
    const plain = run(makeBundle(join(tmp.path, 'plain')), join(tmp.path, 'out-plain'))
    assert.deepEqual(plain.map(side).sort(), ['pair 0', 'single -1', 'single 1'], 'without cores: the pair joined, the single cut in two')
    const cored = run(makeBundle(join(tmp.path, 'core'), { core: true }), join(tmp.path, 'out-core'))
    const sides = cored.map(side).sort()
    assert.deepEqual(sides, ['pair -1', 'pair 1', 'single -1', 'single 1'], `node centres ${cored.map((n) => n.centre_mm)}`)
    // the pair is split halfway between the cores: equal halves
    const pair = cored.filter((n) => side(n).startsWith('pair'))
    assert.ok(Math.abs(pair[0]!.volume_ml - pair[1]!.volume_ml) < 0.15 * pair[0]!.volume_ml, `volumes ${pair.map((n) => n.volume_ml)}`)
    const labels = await readVolume(join(tmp.path, 'out-core', 'cores', 'labels.nii.gz'))
    assert.deepEqual([...new Set(labels.data)].sort(), [0, 1], 'core voxels are given to their nodes')
  } finally {
    tmp.cleanup()
  }
})

test('a folder of cases with one corrupt file: the others are written, the bad one reported, exit 1', () => {
  const tmp = tempDir()
  try {
    const bundle = makeBundle(join(tmp.path, 'bundle'))
    const cases = join(tmp.path, 'cases')
    mkdirSync(cases)
    writeFileSync(join(cases, 'a.nii.gz'), encodeNifti(sphereScan(GRIDS[0]!), true))
    writeFileSync(join(cases, 'b.nii.gz'), Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919 + 13) % 251)))
    writeFileSync(join(cases, 'c.nii.gz'), encodeNifti(sphereScan(GRIDS[1]!), true))
    const out = join(tmp.path, 'out')
    const r = runCli(['predict', cases, '--model', bundle, '--out', out, '--format', 'nifti,json,csv', '--threads', '1'])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /^nodal: b: .*b\.nii\.gz.*\(skipped\)$/m)
    assert.doesNotMatch(r.stderr, /nodal: [ac]:/)
    assert.deepEqual(readdirSync(out).sort(), ['a', 'c'], 'no case folder for b, no temporary folder left')
    for (const name of ['a', 'c']) {
      assert.deepEqual(readdirSync(join(out, name)).sort(), ['instances.nii.gz', 'labels.nii.gz', 'nodes.csv', 'nodes.json'])
      checkNodes(Object.values(JSON.parse(readFileSync(join(out, name, 'nodes.json'), 'utf8')).instances) as NodeLike[], `case ${name}`)
    }
    assert.match(r.stdout, /predicted 2 of 3 cases/)
  } finally {
    tmp.cleanup()
  }
})

// ------------------------------------------------------------------ 3. refusals: one line, exit 2, nothing written

test('bad input or a bad bundle: one "nodal: " line, exit 2, no case folder', () => {
  const tmp = tempDir()
  try {
    const small: GridSpec = { name: 'small', shape: [24, 24, 16], spacing: [1, 1, 1.5], axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }
    const scan = join(tmp.path, 'scan.nii.gz')
    writeFileSync(scan, encodeNifti(sphereScan(small, { spheres: [{ centre: FOV, radius: 5 }] }), true))
    const bogus = join(tmp.path, 'bogus.nii.gz')
    writeFileSync(bogus, Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31 + 7) % 256)))
    const good = makeBundle(join(tmp.path, 'good'))
    const cases: [string, string[], RegExp][] = [
      ['PET/CT model without --pet', [scan, '--model', makeBundle(join(tmp.path, 'petct'), { pet: true })], /needs 2 channel\(s\) \(CT, PET\), got 1: give PET too \(e\.g\. --pet\)/],
      ['unreadable scan', [bogus, '--model', good], /bogus\.nii\.gz/],
      ['no model.json', [scan, '--model', makeBundle(join(tmp.path, 'nojson'), { withoutModelJson: true })], /not a model bundle \(no model\.json\)/],
      ['model.json version 99', [scan, '--model', makeBundle(join(tmp.path, 'v99'), { version: 99 })], /model format version 99; this nodal reads version 1/],
      ['fold_0.onnx missing', [scan, '--model', makeBundle(join(tmp.path, 'noonnx'), { withoutOnnx: true })], /fold_0\.onnx is missing/],
    ]
    if (hasPythonModules('pydicom', 'numpy')) {
      const mr = join(tmp.path, 'mr_series')
      execFileSync(DEBIAN_PYTHON, [fixture('make_dicom_series.py'), JSON.stringify({ out: mr, modality: 'MR', rows: 16, cols: 16, pixel_spacing: [1, 1], positions: [0, 1, 2, 3, 4, 5, 6, 7].map((k) => [0, 0, k * 1.5]) })])
      cases.push(['MR DICOM series into a CT model', [mr, '--model', good], /channel 0 is MR but the model was trained on CT/])
    }
    for (const [what, args, message] of cases) {
      const out = join(tmp.path, 'out')
      const r = runCli(['predict', ...args, '--out', out, '--format', 'nifti,json,csv', '--threads', '1'])
      assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`)
      const lines = r.stderr.trim().split('\n')
      assert.equal(lines.length, 1, `${what}: ${r.stderr}`)
      assert.match(lines[0]!, /^nodal: /, what)
      assert.match(lines[0]!, message, what)
      assert.ok(!existsSync(out) || readdirSync(out).length === 0, `${what}: wrote ${existsSync(out) ? readdirSync(out).join(', ') : ''}`)
      rmSync(out, { recursive: true, force: true })
    }
  } finally {
    tmp.cleanup()
  }
})

// ------------------------------------------------------------------ 4. warnings far from the training data

test('thick slices and 0..1 intensities run, with warnings in nodes.json and on stderr', () => {
  const tmp = tempDir()
  try {
    const bundle = makeBundle(join(tmp.path, 'bundle'))
    const cases = join(tmp.path, 'cases')
    mkdirSync(cases)
    const thick: GridSpec = { name: 'thick', shape: [64, 64, 8], spacing: [1, 1, 8], axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }
    writeFileSync(join(cases, 'thick.nii.gz'), encodeNifti(sphereScan(thick, { spheres: [{ centre: FOV, radius: 12 }] }), true))
    const unit: GridSpec = { name: 'unit', shape: [32, 32, 20], spacing: [1, 1, 1.5], axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }
    writeFileSync(join(cases, 'unit.nii.gz'), encodeNifti(sphereScan(unit, { spheres: [{ centre: FOV, radius: 6 }], bg: 0.1, fg: 0.9, air: false }), true))
    const out = join(tmp.path, 'out')
    const r = runCli(['predict', cases, '--model', bundle, '--out', out, '--format', 'json', '--threads', '1'])
    assert.equal(r.code, 0, r.stderr)
    const thickJson = JSON.parse(readFileSync(join(out, 'thick', 'nodes.json'), 'utf8'))
    assert.equal(thickJson.warnings.length, 1, thickJson.warnings.join('; '))
    assert.match(thickJson.warnings[0], /voxel spacing 8\.00 mm on axis z is far outside the training data's 1\.25-2\.00 mm/)
    assert.equal(Object.keys(thickJson.instances).length, 1, 'the sphere is still found in thick slices')
    const unitJson = JSON.parse(readFileSync(join(out, 'unit', 'nodes.json'), 'utf8'))
    assert.equal(unitJson.warnings.length, 1, unitJson.warnings.join('; '))
    assert.match(unitJson.warnings[0], /intensities 0\.\.1 do not look like a CT in Hounsfield units/)
    assert.match(r.stderr, /nodal: warning: thick: voxel spacing 8\.00 mm/)
    assert.match(r.stderr, /nodal: warning: unit: intensities/)
  } finally {
    tmp.cleanup()
  }
})

// ------------------------------------------------------------------ 5. extractNodes on hand-made label maps

test('extractNodes: 26-connectivity, small components dropped, class by majority, mean HU and SUVmax', () => {
  const shape: Vec3 = [12, 10, 8]
  const grid = new Volume(new Uint8Array(12 * 10 * 8), shape, [1, 1, 2])
  const labels = grid.withData(new Uint8Array(grid.voxelCount), {})
  const ct = grid.withData(new Float32Array(grid.voxelCount).fill(-50), {})
  const pet = grid.withData(new Float32Array(grid.voxelCount).fill(1), {})
  const foreground = new Float32Array(grid.voxelCount)
  const set = (i: number, j: number, k: number, label: number, hu: number, suv: number, p: number) => {
    const v = grid.offset(i, j, k)
    labels.data[v] = label
    ct.data[v] = hu
    pet.data[v] = suv
    foreground[v] = p
  }
  // node A: a 2×2×2 cube of class 1 (3 voxels) and class 2 (5 voxels) ...
  let n = 0
  for (let k = 1; k <= 2; k++) for (let j = 1; j <= 2; j++) for (let i = 1; i <= 2; i++) set(i, j, k, n++ < 3 ? 1 : 2, 40, 2 + n, 0.9)
  // ... and a second cube touching it only at a corner (3,3,3)-(2,2,2): the same node under 26-connectivity
  for (let k = 3; k <= 4; k++) for (let j = 3; j <= 4; j++) for (let i = 3; i <= 4; i++) set(i, j, k, 2, 60, 4, 0.7)
  // node B: 3×3×2 voxels of class 1, far away (36 mm³)
  for (let k = 5; k <= 6; k++) for (let j = 6; j <= 8; j++) for (let i = 8; i <= 10; i++) set(i, j, k, 1, 100, 12.5, 0.6)
  // a single voxel (2 mm³): below the 20 mm³ default
  set(10, 1, 1, 2, 500, 50, 0.99)
  const classes = [
    { index: 0, name: 'background', dataset_labels: [0] },
    { index: 1, name: 'benign_node', dataset_labels: [1] },
    { index: 2, name: 'malignant_node', dataset_labels: [2] },
  ]
  const { instances, nodes, removedSmall } = extractNodes(labels, foreground, { classes, ct, pet })
  assert.equal(removedSmall, 1)
  assert.equal(nodes.length, 2)
  assert.equal(instances.at(10, 1, 1), 0, 'the small component stays in instances')
  const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]]
  assert.equal(a.id, 1)
  assert.equal(a.voxels, 16)
  assert.equal(instances.at(1, 1, 1), 1)
  assert.equal(instances.at(4, 4, 4), 1, 'corner-touching voxels are one node')
  assert.equal(a.class, 'malignant_node', '13 of 16 voxels are class 2')
  assert.equal(a.class_index, 2)
  assert.equal(a.mean_hu, 50)
  assert.equal(a.suv_max, 10)
  assert.equal(a.score_max, 0.9)
  assert.equal(a.score_mean, 0.8)
  assert.equal(a.volume_ml, 0.032)
  assert.deepEqual(a.bbox_voxels, [[1, 1, 1], [4, 4, 4]])
  assert.equal(b.id, 2)
  assert.equal(b.class, 'benign_node')
  assert.equal(b.voxels, 18)
  assert.equal(b.mean_hu, 100)
  assert.equal(b.suv_max, 12.5)
  assert.deepEqual(b.centre_mm, [9, 7, 11])
  assert.equal(instances.at(9, 7, 5), 2)
  // the threshold is in mm³, not voxels (2 mm³ each): at 30 mm³ both stay; at 34 node A (32 mm³) goes, B (36) stays
  assert.equal(extractNodes(labels, foreground, { classes, minVolumeMm3: 30 }).nodes.length, 2)
  const dropped = extractNodes(labels, foreground, { classes, minVolumeMm3: 34 })
  assert.equal(dropped.nodes.length, 1)
  assert.equal(dropped.removedSmall, 2)
  assert.equal(dropped.instances.at(1, 1, 1), 0)
  assert.equal(dropped.instances.at(4, 4, 4), 0)
  assert.equal(dropped.nodes[0]!.id, 1, 'ids are renumbered after removal')
  assert.equal(dropped.nodes[0]!.voxels, 18)
  assert.equal(dropped.instances.at(9, 7, 5), 1)
  assert.equal(dropped.nodes[0]!.mean_hu, null, 'no CT given: no mean HU')
  assert.equal(dropped.nodes[0]!.suv_max, null)
})

test('nodes.json gives each node the class nodal evaluate reads (malignant/benign) and its network class index', () => {
  const labels = new Volume(new Uint8Array(20 * 10 * 4), [20, 10, 4], [1, 1, 2])
  for (let k = 1; k <= 2; k++) for (let j = 2; j <= 5; j++) for (let i = 2; i <= 5; i++) labels.data[labels.offset(i, j, k)] = 1
  for (let k = 1; k <= 2; k++) for (let j = 2; j <= 5; j++) for (let i = 12; i <= 15; i++) labels.data[labels.offset(i, j, k)] = 2
  const model = fakeModel(BENIGN_MALIGNANT_CLASSES)
  const json = nodesJson(fakeCase('c', model, fakeResult(labels, BENIGN_MALIGNANT_CLASSES))) as { instances: Record<string, Record<string, unknown>> }
  assert.deepEqual(Object.values(json.instances).map((n) => [n.class, n.class_index, n.score]), [['benign', 1, 0.9], ['malignant', 2, 0.9]])
})

test('inputs: a folder of scans with a README beside them is a folder of cases, a folder of slices a DICOM series', () => {
  const tmp = tempDir()
  try {
    const cases = join(tmp.path, 'imagesTs')
    mkdirSync(join(cases, 'patient3'), { recursive: true })
    for (const f of ['a_0000.nii.gz', 'a_0001.nii.gz', 'b.nrrd', 'README.md', 'dataset.json', '.DS_Store']) writeFileSync(join(cases, f), '')
    for (const f of ['IM0001', 'IM0002.dcm']) writeFileSync(join(cases, 'patient3', f), '')
    assert.deepEqual(listInputCases(cases), [
      { name: 'a', channels: [join(cases, 'a_0000.nii.gz'), join(cases, 'a_0001.nii.gz')], dicomDir: null },
      { name: 'b', channels: [join(cases, 'b.nrrd')], dicomDir: null },
      { name: 'patient3', channels: [join(cases, 'patient3')], dicomDir: join(cases, 'patient3') },
    ])
    assert.deepEqual(listInputCases(join(cases, 'patient3')), [{ name: 'patient3', channels: [join(cases, 'patient3')], dicomDir: join(cases, 'patient3') }])
  } finally {
    tmp.cleanup()
  }
})
