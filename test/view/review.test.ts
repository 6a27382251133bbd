import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeDicomSeries } from '../../src/io/dicom/write-series.js'
import { readVolume } from '../../src/io/index.js'
import { readSeg, segmentOnGrid } from '../../src/io/seg/read.js'
import { rasterizeRoi, readRtstruct } from '../../src/io/rtstruct/read.js'
import { applyReview, writeReview } from '../../src/view/review.js'
import { attachLabels, emptySession, openSession } from '../../src/view/session.js'
import { type Vec3, Volume } from '../../src/volume/volume.js'
import { tempDir } from '../helpers.js'
import { dice } from '../rtstruct/scene.js'

const SHAPE: Vec3 = [40, 36, 12]
/** Flat index of voxel (i, j, k) on SHAPE. */
const at = (i: number, j: number, k: number) => i + SHAPE[0] * (j + SHAPE[1] * k)

/** A CT grid with three nodes: 1 malignant ball, 2 benign ball, 3 benign cube; labels hold classes, instances ids. */
function scene(scan = new Volume(new Int16Array(SHAPE[0] * SHAPE[1] * SHAPE[2]).fill(20), [...SHAPE], [1, 1, 2], [-20, -18, 0], undefined, { modality: 'CT' })) {
  const labels = new Uint8Array(scan.data.length)
  const instances = new Uint16Array(scan.data.length)
  const balls: [Vec3, number, number, number][] = [[[10, 10, 5], 5, 2, 1], [[28, 12, 6], 4, 1, 2]]
  let v = 0
  for (let k = 0; k < SHAPE[2]; k++) for (let j = 0; j < SHAPE[1]; j++) for (let i = 0; i < SHAPE[0]; i++, v++) {
    for (const [c, r, cls, id] of balls) {
      if (Math.hypot(i - c[0], j - c[1], (k - c[2]) * 2) <= r) { labels[v] = cls; instances[v] = id }
    }
    if (i >= 18 && i < 22 && j >= 26 && j < 30 && k >= 4 && k < 6) { labels[v] = 1; instances[v] = 3 }
  }
  return { scan, labels: scan.withData(labels, {}), instances: scan.withData(instances, {}) }
}

function session(out: string) {
  const { scan, labels, instances } = scene()
  const s = emptySession('case', scan, out)
  attachLabels(s, labels, instances, {
    classes: [{ index: 0, name: 'background' }, { index: 1, name: 'benign_node' }, { index: 2, name: 'malignant_node' }],
    instances: {
      1: { id: 1, class: 'malignant', class_name: 'malignant_node', class_index: 2, score_max: 0.9, short_axis_mm: 10 },
      2: { id: 2, class: 'benign', class_name: 'benign_node', class_index: 1, score_max: 0.8 },
      3: { id: 3, class: 'benign', class_name: 'benign_node', class_index: 1, score_max: 0.7 },
    },
  })
  return s
}

test('a review: rejected nodes leave the labels, a class change relabels, painted voxels join their node or make a new one', () => {
  const tmp = tempDir()
  try {
    const s = session(join(tmp.path, 'out'))
    assert.deepEqual(s.nodes.map((n) => [n.id, n.class]), [[1, 'malignant_node'], [2, 'benign_node'], [3, 'benign_node']])
    const final = s.labels.slice()
    // node 2 rejected (the page also clears its voxels), node 3 becomes malignant, node 1 grows by a column
    for (let v = 0; v < final.length; v++) if (s.instances[v] === 2) final[v] = 0
    for (let v = 0; v < final.length; v++) if (s.instances[v] === 3) final[v] = 2
    for (let j = 10; j <= 18; j++) final[at(10, j, 5)] = 2
    // a new blob far from every node
    for (let i = 30; i < 33; i++) for (let j = 28; j < 31; j++) final[at(i, j, 2)] = 1
    const r = applyReview(s, final, { decisions: { 1: { decision: 'accepted' }, 2: { decision: 'rejected' }, 3: { decision: 'accepted', class_index: 2 } } }, 'Dr Test', '2026-01-01T00:00:00.000Z')
    assert.deepEqual(r.nodes.map((n) => [n.id, n.class, n.review!.decision]), [[1, 'malignant_node', 'accepted'], [3, 'malignant_node', 'accepted'], [4, 'benign_node', 'added']])
    assert.deepEqual(r.rejected.map((n) => n.id), [2])
    assert.equal(r.nodes[1]!.review!.class_before, 'benign_node')
    assert.equal(r.nodes[0]!.review!.edited, true, 'node 1 grew: its measurements are recomputed')
    assert.equal(r.nodes[0]!.score_max, 0.9, 'model scores are kept')
    assert.equal(r.nodes[1]!.review!.edited, undefined, 'node 3 kept its voxels')
    for (let v = 0; v < final.length; v++) {
      if (s.instances[v] === 2) assert.equal(r.labels.data[v], 0)
      if (s.instances[v] === 3) assert.equal(r.labels.data[v], 2)
    }
    assert.equal(r.instances.data[at(10, 18, 5)], 1, 'the painted column belongs to node 1')
    assert.equal(r.instances.data[at(31, 29, 2)], 4)
    const grown = r.nodes[0]!
    const before = s.instances.filter((x) => x === 1).length
    assert.equal(grown.voxels, before + 3, `node 1 had ${before} voxels; the column adds 3 outside the ball (j 16..18)`)
    assert.equal(r.nodes[2]!.voxels, 9)
    assert.equal(r.nodes[2]!.mean_hu, 20)
    assert.ok(Math.abs(r.nodes[2]!.volume_ml! - 9 * 2 / 1000) < 1e-9)
    for (const n of r.nodes) assert.deepEqual([n.review!.reviewer, n.review!.time], ['Dr Test', '2026-01-01T00:00:00.000Z'])
  } finally {
    tmp.cleanup()
  }
})

test('voxels painted onto a node that the reader then rejects go with it; paint elsewhere still makes a new node', () => {
  const s = session('/tmp/unused')
  const final = s.labels.slice()
  // node 2 (ball at 28,12,6 r 4) grows by a column reaching out of it, then is rejected: the page clears its own voxels only
  for (let i = 28; i <= 34; i++) final[at(i, 12, 6)] = 1
  for (let v = 0; v < final.length; v++) if (s.instances[v] === 2) final[v] = 0
  // and a separate blob far from every node
  for (let i = 30; i < 33; i++) for (let j = 28; j < 31; j++) final[at(i, j, 2)] = 1
  const r = applyReview(s, final, { decisions: { 2: { decision: 'rejected' } } }, 'tester', '2026-01-01T00:00:00.000Z')
  assert.deepEqual(r.nodes.map((n) => [n.id, n.review!.decision]), [[1, 'unreviewed'], [3, 'unreviewed'], [4, 'added']])
  for (let i = 28; i <= 34; i++) assert.equal(r.labels.data[at(i, 12, 6)], 0, `painted voxel ${i},12,6 left with node 2`)
  assert.equal(r.instances.data[at(31, 29, 2)], 4)
  assert.deepEqual(r.rejected.map((n) => n.id), [2])
})

test('a painted stroke that bridges two nodes is shared between them by distance, not given whole to the bigger one', () => {
  const s = session('/tmp/unused')
  const final = s.labels.slice()
  // node 1: ball r 5 at (10,10,5); node 2: ball r 4 at (28,12,6) (z spacing 2 mm). A line at j 11, k 5 from i 14 to 25
  for (let i = 14; i <= 25; i++) final[at(i, 11, 5)] = 1
  const r = applyReview(s, final, { decisions: {} }, 'tester', '2026-01-01T00:00:00.000Z')
  assert.deepEqual(r.nodes.map((n) => n.id), [1, 2, 3], 'no new node')
  assert.equal(r.instances.data[at(16, 11, 5)], 1)
  assert.equal(r.instances.data[at(23, 11, 5)], 2, 'the end near node 2 joins node 2 although node 1 is bigger')
  assert.equal(r.nodes[1]!.review!.edited, true)
  assert.equal(r.nodes[0]!.review!.edited, true)
})

test('without nodes.json, each connected component of the labels is a measured node', () => {
  const { scan, labels } = scene()
  const s = emptySession('case', scan, '/tmp/unused')
  attachLabels(s, labels, null, null)
  assert.equal(s.nodes.length, 3)
  const byClass = s.nodes.map((n) => n.class).sort()
  assert.deepEqual(byClass, ['benign_node', 'benign_node', 'malignant_node'])
  for (const n of s.nodes) assert.ok(n.voxels! > 0 && Array.isArray(n.centre_mm) && n.short_axis_mm! > 0)
  const cube = s.nodes.find((n) => n.voxels === 32)!
  assert.deepEqual(cube.centre_mm, scan.indexToWorld(19.5, 27.5, 4.5))
})

test('nodes.json records are matched to label components by centre when no instance map is given', () => {
  const { scan, labels } = scene()
  const s = emptySession('case', scan, '/tmp/unused')
  const centre = scan.indexToWorld(28, 12, 6)
  attachLabels(s, labels, null, { instances: { 7: { class_name: 'benign_node', class_index: 1, centre_mm: centre, score_max: 0.5 } } })
  const seven = s.nodes.find((n) => n.id === 7)!
  assert.equal(seven.score_max, 0.5)
  for (let v = 0; v < s.instances.length; v++) if (s.instances[v] === 7) assert.equal(s.labels[v], 1)
  assert.equal(s.nodes.length, 3)
})

test('a reviewed DICOM case is saved as labels, nodes.json, RTSTRUCT and DICOM-SEG that read back to the reviewed nodes', async () => {
  const tmp = tempDir()
  try {
    const { scan, labels } = scene()
    const ctDir = join(tmp.path, 'ct')
    await writeDicomSeries(scan, ctDir)
    const labelsFile = join(tmp.path, 'labels.nii.gz')
    const { writeVolume } = await import('../../src/io/index.js')
    const ct = await readVolume(ctDir)
    await writeVolume(ct.withData(labels.data, {}), labelsFile)
    const out = join(tmp.path, 'reviewed')
    const s = await openSession({ scan: ctDir, labels: labelsFile, out })
    assert.equal(s.dicomDir, ctDir)
    const final = s.labels.slice()
    const rejectedId = s.nodes.find((n) => n.class === 'benign_node' && n.voxels !== 32)!.id
    for (let v = 0; v < final.length; v++) if (s.instances[v] === rejectedId) final[v] = 0
    const r = applyReview(s, final, { decisions: { [rejectedId]: { decision: 'rejected' } } }, 'tester', new Date().toISOString())
    const files = await writeReview(s, r, 'tester', new Date().toISOString())
    assert.deepEqual(files.map((f) => f.slice(out.length + 1)).sort(), ['instances.nii.gz', 'labels.nii.gz', 'nodes.json', 'rtstruct.dcm', 'seg.dcm'])
    const saved = await readVolume(join(out, 'labels.nii.gz'))
    assert.deepEqual(Array.from(saved.data), Array.from(r.labels.data))
    const json = JSON.parse(readFileSync(join(out, 'nodes.json'), 'utf8'))
    assert.equal(Object.keys(json.instances).length, 2)
    assert.equal(json.review.reviewer, 'tester')
    assert.deepEqual(json.review.rejected.map((n: { id: number }) => n.id), [rejectedId])
    const rt = readRtstruct(join(out, 'rtstruct.dcm'))
    assert.equal(rt.rois.length, 2)
    const seg = readSeg(join(out, 'seg.dcm'))
    for (const roi of rt.rois) {
      const segIndex = seg.segments.findIndex((x) => x.label === roi.name)
      const fromSeg = segmentOnGrid(seg, segIndex, ct).data
      const d = dice(rasterizeRoi(roi, ct, 'rtstruct.dcm').mask, Uint8Array.from(fromSeg, (x) => (x ? 1 : 0)))
      assert.ok(d >= 0.99, `${roi.name}: RTSTRUCT vs SEG Dice ${d}`)
    }
    const all = new Uint8Array(ct.data.length)
    for (let i = 0; i < seg.segments.length; i++) segmentOnGrid(seg, i, ct).data.forEach((x, v) => { if (x) all[v] = 1 })
    assert.ok(dice(all, Uint8Array.from(r.labels.data, (x) => (x ? 1 : 0))) >= 0.999)
    assert.ok(!existsSync(`${out}.tmp-${process.pid}`))
  } finally {
    tmp.cleanup()
  }
})

test('an edited node gets its SUVmax from PET on its own grid, read on the scan grid by world coordinates', () => {
  const s = session('/tmp/unused')
  // PET on a coarser grid over the same field of view: SUV 3 everywhere but 7 near node 3 (the cube)
  const pet = new Volume(new Float32Array(20 * 18 * 6).fill(3), [20, 18, 6], [2, 2, 4], [-19.5, -17.5, 1], undefined, { modality: 'PT' })
  const cubeCentre = s.scan.indexToWorld(19.5, 27.5, 4.5)
  const pc = pet.worldToIndex(cubeCentre).map(Math.round)
  pet.data[pet.offset(pc[0]!, pc[1]!, pc[2]!)] = 7
  s.pet = pet
  const final = s.labels.slice()
  const [nx, ny] = SHAPE
  final[22 + nx * (28 + ny * 4)] = 1 // one voxel added to the cube: it is re-measured
  const r = applyReview(s, final, { decisions: {} }, 'tester')
  const cube = r.nodes.find((n) => n.id === 3)!
  assert.equal(cube.review!.edited, true)
  assert.ok(cube.suv_max! > 3 && cube.suv_max! <= 7, `SUVmax ${cube.suv_max}`)
  assert.equal(r.nodes.find((n) => n.id === 1)!.suv_max, undefined, 'unedited nodes keep their record as it was')
})
