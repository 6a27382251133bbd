/**
 * Node insertion into a CT without labels: the host is a chest phantom made by nodal's own
 * generator (its anatomy volume, never shown to the detector, tells where the lungs, fat and
 * bones really are), and the labelled abdominal sample of the repository.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readVolume } from '../../src/io/index.js'
import { generateCase, PhantomCase } from '../../src/phantom/generate.js'
import { analyseHost } from '../../src/phantom/host-anatomy/index.js'
import { insertNodes, TOTALSEGMENTATOR_NAMES } from '../../src/phantom/insert.js'
import { Rng } from '../../src/phantom/random.js'
import { TissueClass } from '../../src/phantom/tissues.js'
import { reorient } from '../../src/volume/orient.js'
import { Vec3, Volume } from '../../src/volume/volume.js'
import { REPO } from '../helpers.js'

const MEDIASTINAL_AND_HILAR = new Set(['2R', '2L', '3a', '4R', '4L', '5', '6', '7', '8', '10R', '10L'])

let cached: { phantom: PhantomCase; host: Volume } | null = null

/**
 * A chest phantom on a 1.5 x 1.5 x 2.5 mm grid cropped to 330 x 270 x 200 mm (lungs, mediastinum
 * and trachea in view, apices and diaphragm not). Its fat is made plain noisy fat (-100 HU, white
 * noise of sd 15 HU), so that a node's surroundings have a known texture.
 */
function chestPhantom(): { phantom: PhantomCase; host: Volume } {
  if (cached) return cached
  const phantom = generateCase({ site: 'chest', modality: 'ct', spacing: [1.5, 1.5, 2.5], size: [220, 180, 80] }, 11, 0)
  const ct = phantom.channels[0]
  const rng = new Rng(42)
  const fat = phantom.anatomy.data
  const host = ct.withData(Int16Array.from(ct.data, (v, n) => (fat[n] === TissueClass.Fat ? Math.round(-100 + 15 * rng.normal()) : v)))
  cached = { phantom, host }
  return cached
}

/** The phantom's tissue class at a world position (its grid has identity axes). */
function classAt(anatomy: Volume, p: Vec3): number {
  const [i, j, k] = anatomy.worldToIndex(p).map(Math.round)
  return anatomy.at(i, j, k)
}

test('an inserted node carries the host noise: inside it, image - host is smooth, not a new texture', () => {
  const { host } = chestPhantom()
  const c = insertNodes(host, [], 1, 0, 'chest')
  const nodes = Object.values(c.nodes)
  assert.ok(nodes.length >= 2, `${nodes.length} nodes`)
  const [nx, ny] = host.shape
  // per node: the spread of (image - host) over voxels deep inside it, and the host's own spread there
  const stats = new Map<number, { n: number; d: number; d2: number; h: number; h2: number }>()
  // voxels at least 2 voxels (3 mm) deep inside a node in-plane and 1 slice across, whose inside is meant to be uniform
  const deep = [1, 2].flatMap((r) => [r, -r, r * nx, -r * nx]).concat([nx * ny, -nx * ny])
  for (let k = 2; k < host.shape[2] - 2; k++) {
    for (let j = 2; j < ny - 2; j++) {
      for (let i = 2; i < nx - 2; i++) {
        const v = i + nx * (j + ny * k)
        const id = c.instances.data[v]
        if (!id || deep.some((d) => c.instances.data[v + d] !== id)) continue
        const rec = c.nodes[String(id)]
        if (rec.necrosis || rec.fatty_hilum || rec.capsule_breach) continue
        const s = stats.get(id) ?? { n: 0, d: 0, d2: 0, h: 0, h2: 0 }
        const diff = c.image.data[v] - host.data[v]
        s.n++; s.d += diff; s.d2 += diff * diff; s.h += host.data[v]; s.h2 += host.data[v] ** 2
        stats.set(id, s)
      }
    }
  }
  const sd = (sum: number, sum2: number, n: number) => Math.sqrt(Math.max(0, sum2 / n - (sum / n) ** 2))
  let checked = 0
  for (const [id, s] of stats) {
    if (s.n < 10) continue
    const added = sd(s.d, s.d2, s.n), hostNoise = sd(s.h, s.h2, s.n)
    assert.ok(hostNoise > 10, `node ${id}: host noise ${hostNoise}`)
    assert.ok(added < hostNoise / 3, `node ${id}: the insertion added its own texture (sd ${added} vs host ${hostNoise})`)
    assert.ok(s.d / s.n > 100, `node ${id} should be ~130-170 HU above fat, got ${s.d / s.n}`)
    checked++
  }
  assert.ok(checked > 0, 'no node large enough to look inside')
})

test('inserted nodes sit in fat, never in lung, airway, bone or a vessel', () => {
  const { phantom, host } = chestPhantom()
  const c = insertNodes(host, [], 2, 0, 'chest')
  const anatomy = phantom.anatomy
  const perNode = new Map<number, { voxels: number; fat: number; forbidden: number }>()
  const forbidden = new Set<number>([TissueClass.Lung, TissueClass.Airway, TissueClass.Bone, TissueClass.Air, TissueClass.Vessel])
  for (let v = 0; v < c.instances.data.length; v++) {
    const id = c.instances.data[v]
    if (!id) continue
    const s = perNode.get(id) ?? { voxels: 0, fat: 0, forbidden: 0 }
    const cls = anatomy.data[v]
    s.voxels++
    if (cls === TissueClass.Fat) s.fat++
    if (forbidden.has(cls)) s.forbidden++
    perNode.set(id, s)
  }
  assert.ok(perNode.size >= 2, `${perNode.size} nodes`)
  for (const [id, s] of perNode) {
    const rec = c.nodes[String(id)]
    assert.equal(s.forbidden, 0, `node ${id} (${rec.station}) has ${s.forbidden} voxels on lung, airway, bone, air or a vessel`)
    // a node may touch the wall of the oesophagus or the heart (its edge voxels), never lie on it
    assert.ok(s.fat >= 0.8 * s.voxels, `node ${id} (${rec.station}): only ${s.fat} of ${s.voxels} voxels on fat`)
    assert.equal(classAt(anatomy, rec.centre_mm), TissueClass.Fat, `node ${id} (${rec.station}) is not centred on fat`)
  }
})

test('without labels, chest nodes go to the mediastinum and hila: between the lungs, above the diaphragm, in front of the spine', () => {
  const { phantom, host } = chestPhantom()
  const anatomy = phantom.anatomy
  const dome = liverDomeZ(anatomy)
  let nodes = 0
  for (const seed of [3, 4]) {
    const c = insertNodes(host, [], seed, 0, 'chest')
    for (const [id, rec] of Object.entries(c.nodes)) {
      nodes++
      const where = `seed ${seed} node ${id} (${rec.station}) at ${rec.centre_mm.map((x) => x.toFixed(0)).join(', ')} mm`
      assert.ok(MEDIASTINAL_AND_HILAR.has(rec.station), `${where}: not a mediastinal or hilar station`)
      const [i, j, k] = anatomy.worldToIndex(rec.centre_mm).map(Math.round)
      assert.notEqual(anatomy.at(i, j, k), TissueClass.Lung, `${where}: inside lung`)
      const [right, left] = lungBeside(anatomy, i, j, k)
      assert.ok(right && left, `${where}: not between the lungs (lung to the right ${right}, to the left ${left})`)
      assert.ok(rec.centre_mm[2] > dome, `${where}: below the diaphragm (liver dome at ${dome.toFixed(0)} mm)`)
      assert.ok(j < vertebralFrontJ(anatomy, k), `${where}: behind the front of the spine`)
    }
  }
  assert.ok(nodes >= 6, `only ${nodes} nodes placed`)
})

test('the detector finds two lungs, the trachea and the carina of the phantom, and no regions the scan does not hold', () => {
  const { host } = chestPhantom()
  const a = analyseHost(host)
  assert.ok(a.summary.lungs_ml.right > 500 && a.summary.lungs_ml.left > 500, `lungs ${JSON.stringify(a.summary.lungs_ml)}`)
  assert.ok(a.summary.trachea && a.summary.trachea.length_mm > 50, `trachea ${JSON.stringify(a.summary.trachea)}`)
  assert.ok(Math.abs(a.summary.trachea.top_mm[0]) < 15, `trachea off the midline: ${a.summary.trachea.top_mm}`)
  // the phantom's carina is drawn at z = 25 +- 8 mm
  const carina = a.summary.carina_mm
  assert.ok(carina && carina[2] > 5 && carina[2] < 40 && Math.abs(carina[0]) < 15, `carina ${carina}`)
  assert.ok(a.summary.spine_slices > 0.8 * host.shape[2], `spine seen on ${a.summary.spine_slices} slices`)
  assert.equal(a.summary.contrast.enhanced, true)
  for (const region of ['mediastinum', 'hila'] as const) assert.equal(a.missing[region], undefined, `${region}: ${a.missing[region]}`)
  // the crop holds neither apices nor diaphragm
  assert.match(a.missing['supraclavicular fossae'] ?? '', /ends at the lung apices/)
  assert.match(a.missing.retroperitoneum ?? '', /bottom of the scan/)
})

test('the detector reads directions from the axes: a flipped and permuted copy of the scan gives the same landmarks', () => {
  const { host } = chestPhantom()
  const landmarks = (v: Volume) => {
    const s = analyseHost(v).summary
    return { lungs: s.lungs_ml, carina: s.carina_mm, trachea: s.trachea, stations: s.stations_ml }
  }
  const plain = landmarks(host)
  for (const code of ['RAI', 'PIL']) assert.deepEqual(landmarks(reorient(host, code)), plain, code)
})

test('a site whose regions are not in the scan fails with one line naming them', () => {
  const { host } = chestPhantom()
  assert.throws(() => insertNodes(host, [], 1, 0, 'neck', 'phantom.nii.gz'), (e: Error) => {
    assert.match(e.message, /^phantom\.nii\.gz: has no fat next to vessels at the neck node stations: not found: supraclavicular fossae \(the scan ends at the lung apices\)$/)
    assert.equal(e.message.split('\n').length, 1)
    return true
  })
})

test('abdomen with organ labels: nodes retroperitoneal, beside the aorta and cava, never on a labelled organ', async () => {
  const host = await readVolume(join(REPO, 'samples', 'ct', 'abdomen_ct_3mm_sm.nii.gz'))
  const organs = await readVolume(join(REPO, 'samples', 'ct', 'abdomen_ct_3mm_sm_organs.nii.gz'))
  const c = insertNodes(host, [{ volume: organs, names: TOTALSEGMENTATOR_NAMES }], 5, 0, 'abdomen')
  assert.equal(c.placement.vessel_source, 'labels')
  const nodes = Object.entries(c.nodes)
  assert.ok(nodes.length >= 2, `${nodes.length} nodes`)
  for (let v = 0; v < c.instances.data.length; v++) {
    if (c.instances.data[v]) assert.equal(organs.data[v], 0, `node ${c.instances.data[v]} on organ label ${organs.data[v]}`)
  }
  const vertebrae = new Set([30, 31, 32, 33])
  for (const [id, rec] of nodes) {
    assert.ok(['para-aortic', 'aortocaval', 'paracaval'].includes(rec.station), `node ${id}: station ${rec.station}`)
    const [, , k] = organs.worldToIndex(rec.centre_mm).map(Math.round)
    const aorta = labelCentre(organs, [52], k), cava = labelCentre(organs, [63], k), spine = labelCentre(organs, [...vertebrae], k)
    const near = Math.min(...[aorta, cava].filter((p): p is Vec3 => p !== null).map((p) => Math.hypot(p[0] - rec.centre_mm[0], p[1] - rec.centre_mm[1])))
    assert.ok(near < 45, `node ${id} (${rec.station}) is ${near.toFixed(0)} mm from the aorta and cava`)
    // anterior (smaller y in LPS) to the vertebral body's centre, and within 50 mm of the midline
    assert.ok(spine && rec.centre_mm[1] < spine[1] && Math.abs(rec.centre_mm[0] - spine[0]) < 50, `node ${id} (${rec.station}) is not in front of the spine`)
  }
})

/** Whether lung lies to the patient's right and left of (i, j, k) along its row. */
function lungBeside(anatomy: Volume, i: number, j: number, k: number): [boolean, boolean] {
  let right = false, left = false
  for (let x = 0; x < anatomy.shape[0]; x++) {
    if (anatomy.at(x, j, k) !== TissueClass.Lung) continue
    if (x < i) right = true
    if (x > i) left = true
  }
  return [right, left]
}

/** Top of the liver (z, mm): the highest organ voxel well to the right of the heart (x < -80 mm). */
function liverDomeZ(anatomy: Volume): number {
  let top = -Infinity
  const [nx, ny, nz] = anatomy.shape
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        if (anatomy.at(i, j, k) !== TissueClass.Organ) continue
        const p = anatomy.indexToWorld(i, j, k)
        if (p[0] < -80) top = Math.max(top, p[2])
      }
    }
  }
  return top
}

/** Front of the vertebral body in the midline: the first bone going back from 60 mm in front of the centre (behind the sternum). */
function vertebralFrontJ(anatomy: Volume, k: number): number {
  const [i, j0] = anatomy.worldToIndex([0, -60, 0]).map(Math.round)
  for (let j = j0; j < anatomy.shape[1]; j++) {
    if (anatomy.at(i, j, k) === TissueClass.Bone) return j
  }
  return anatomy.shape[1]
}

/** Centroid (world mm) of the voxels of the given labels in slice k, or null. */
function labelCentre(labels: Volume, ids: number[], k: number): Vec3 | null {
  const want = new Set(ids)
  const sum = [0, 0, 0]
  let n = 0
  for (let j = 0; j < labels.shape[1]; j++) {
    for (let i = 0; i < labels.shape[0]; i++) {
      if (!want.has(labels.at(i, j, k))) continue
      const p = labels.indexToWorld(i, j, k)
      sum[0] += p[0]; sum[1] += p[1]; sum[2] += p[2]; n++
    }
  }
  return n > 0 ? (sum.map((s) => s / n) as Vec3) : null
}
