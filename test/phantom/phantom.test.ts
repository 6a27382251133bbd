import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateCase, SITES, PhantomCase } from '../../src/phantom/index.js'
import { TissueClass } from '../../src/phantom/tissues.js'
import { Rng } from '../../src/phantom/random.js'
import { measureAllNodes } from '../../src/volume/measure.js'
import { Vec3 } from '../../src/volume/volume.js'
import { axialSection, ellipsoidVolumeMl } from './analytic.js'

const SMALL = { spacing: [1.5, 1.5, 2] as Vec3, size: [200, 170, 70] as Vec3 }
const cases = new Map<string, PhantomCase>()
function caseOf(site: (typeof SITES)[number]): PhantomCase {
  if (!cases.has(site)) cases.set(site, generateCase({ site, modality: 'ct', ...SMALL }, 5, 0))
  return cases.get(site)!
}

test('the PRNG repeats for a seed and differs between seeds and cases', () => {
  const a = Rng.forCase(1, 0), b = Rng.forCase(1, 0), c = Rng.forCase(1, 1), d = Rng.forCase(2, 0)
  const draw = (r: Rng) => Array.from({ length: 5 }, () => r.next())
  const first = draw(a)
  assert.deepEqual(first, draw(b))
  assert.notDeepEqual(first, draw(c))
  assert.notDeepEqual(first, draw(d))
  assert.ok(first.every((x) => x >= 0 && x < 1))
})

for (const site of SITES) {
  test(`${site}: every site places nodes; the JSON sizes are the instance map's measurements`, () => {
    const c = caseOf(site)
    const ids = Object.keys(c.nodes)
    assert.ok(ids.length >= 2, `${site}: only ${ids.length} nodes placed`)
    const measured = measureAllNodes(c.instances)
    assert.equal(measured.size, ids.length)
    for (const [id, rec] of Object.entries(c.nodes)) {
      const m = measured.get(Number(id))!
      assert.equal(rec.short_axis_mm, m.short_axis_mm)
      assert.equal(rec.long_axis_mm, m.long_axis_mm)
      assert.equal(rec.volume_ml, m.volume_ml)
      assert.deepEqual(rec.centre_mm, m.centre_mm)
      assert.equal(rec.site, site)
      assert.ok(rec.station.length > 0)
    }
  })

  test(`${site}: smooth nodes measure as their analytic ellipsoid within one voxel`, () => {
    const c = caseOf(site)
    const [hx, hy, hz] = c.instances.spacing
    const voxel = Math.hypot(hx, hy)
    let checked = 0
    for (const rec of Object.values(c.nodes)) {
      if (rec.margin !== 'smooth' || rec.cluster !== null) continue
      const z = c.instances.indexToWorld(0, 0, rec.axial_slice)[2]
      const a = axialSection(rec.design, z)
      assert.ok(Math.abs(rec.long_axis_mm - a.long) <= voxel, `long ${rec.long_axis_mm} vs ${a.long}`)
      assert.ok(Math.abs(rec.short_axis_mm - a.short) <= voxel, `short ${rec.short_axis_mm} vs ${a.short}`)
      const r = rec.design.semi_axes_mm
      const half = Math.max(hx, hy, hz) / 2
      const lo = ellipsoidVolumeMl(r.map((x) => Math.max(0, x - half)) as Vec3), hi = ellipsoidVolumeMl(r.map((x) => x + half) as Vec3)
      assert.ok(rec.volume_ml >= lo && rec.volume_ml <= hi, `volume ${rec.volume_ml} outside [${lo}, ${hi}]`)
      assert.ok(Math.hypot(...rec.centre_mm.map((v, d) => v - rec.design.centre_mm[d])) <= Math.hypot(hx, hy, hz) / 2)
      checked++
    }
    assert.ok(checked > 0, 'no smooth node to check')
  })

  test(`${site}: labels agree with classes, and no node lies on a vessel, bone, organ, lung or muscle`, () => {
    const c = caseOf(site)
    const inst = c.instances.data, lab = c.labels.data, anatomy = c.anatomy.data
    for (let v = 0; v < inst.length; v++) {
      const id = inst[v]
      if (id === 0) { assert.equal(lab[v], 0); continue }
      const want = c.nodes[String(id)].class === 'benign' ? 1 : 2
      if (lab[v] !== want) assert.fail(`voxel ${v}: label ${lab[v]} but node ${id} is ${c.nodes[String(id)].class}`)
      if (anatomy[v] !== TissueClass.Fat) assert.fail(`node ${id} overlaps tissue class ${TissueClass[anatomy[v]]} at voxel ${v}`)
    }
  })
}

test('node classes look like radiology: benign small and ovoid, malignant mostly enlarged and round', () => {
  const benign: number[][] = [], malignant: number[][] = []
  for (const site of ['chest', 'pelvis'] as const) {
    for (let i = 0; i < 5; i++) {
      const c = generateCase({ site, modality: 'ct', spacing: [1.6, 1.6, 2.5] }, 99, i)
      for (const n of Object.values(c.nodes)) (n.class === 'benign' ? benign : malignant).push([n.short_axis_mm, n.short_axis_mm / n.long_axis_mm])
    }
  }
  const share = (xs: number[][], f: (x: number[]) => boolean) => xs.filter(f).length / xs.length
  assert.ok(benign.length >= 10 && malignant.length >= 5, `${benign.length} benign, ${malignant.length} malignant`)
  assert.ok(share(benign, ([s]) => s < 10) >= 0.8, 'benign short axes mostly under 10 mm')
  assert.ok(share(malignant, ([s]) => s >= 10) >= 0.5, 'malignant nodes mostly enlarged')
  const meanRatio = (xs: number[][]) => xs.reduce((s, x) => s + x[1], 0) / xs.length
  assert.ok(meanRatio(malignant) > meanRatio(benign) + 0.1, 'malignant nodes rounder than benign')
})

test('CT intensities: fat, muscle, lung and contrast vessels in their HU ranges with noise', () => {
  const c = caseOf('chest')
  const mean = new Map<number, number[]>()
  const ct = c.channels[0].data, anatomy = c.anatomy.data
  for (let v = 0; v < ct.length; v += 7) {
    if (!mean.has(anatomy[v])) mean.set(anatomy[v], [])
    mean.get(anatomy[v])!.push(ct[v])
  }
  const avg = (t: TissueClass) => { const xs = mean.get(t)!; return xs.reduce((s, x) => s + x, 0) / xs.length }
  assert.ok(avg(TissueClass.Fat) > -130 && avg(TissueClass.Fat) < -60, `fat ${avg(TissueClass.Fat)}`)
  assert.ok(avg(TissueClass.Muscle) > 30 && avg(TissueClass.Muscle) < 75, `muscle ${avg(TissueClass.Muscle)}`)
  assert.ok(avg(TissueClass.Lung) < -750, `lung ${avg(TissueClass.Lung)}`)
  assert.ok(avg(TissueClass.Vessel) > 100, `vessels ${avg(TissueClass.Vessel)}`)
  assert.equal(c.channels[0].dtype, 'int16')
})

test('PET/CT: PET on its own ~4 mm grid, malignant nodes take up more than benign, heart and bladder light up', () => {
  const c = generateCase({ site: 'pelvis', modality: 'petct', spacing: [1.5, 1.5, 2], size: [260, 200, 90] }, 8, 0)
  assert.equal(c.channels.length, 2)
  const pet = c.petNative!
  assert.ok(pet.spacing.every((s) => s >= 3.5 && s <= 4.3))
  assert.notDeepEqual(pet.shape, c.channels[0].shape)
  assert.deepEqual(c.channels[1].shape, c.channels[0].shape)
  const nodes = Object.values(c.nodes)
  assert.ok(nodes.every((n) => typeof n.suv_max === 'number'))
  let bladder = 0
  for (let v = 0; v < pet.data.length; v++) bladder = Math.max(bladder, pet.data[v])
  assert.ok(bladder > 5, `hottest PET voxel ${bladder}`)
  const big = nodes.filter((n) => n.class === 'malignant' && n.short_axis_mm >= 12)
  const benign = nodes.filter((n) => n.class === 'benign')
  for (const m of big) for (const b of benign) assert.ok(m.suv_max! > b.suv_max!, `malignant ${m.suv_max} <= benign ${b.suv_max}`)
})

test('MR: T2-like contrast (fat and fluid bright, muscle dark, vessels flow voids)', () => {
  const c = generateCase({ site: 'pelvis', modality: 'mr', spacing: [1.5, 1.5, 4], size: [260, 200, 40] }, 3, 0)
  const mr = c.channels[0].data, anatomy = c.anatomy.data
  const sums = new Map<number, [number, number]>()
  for (let v = 0; v < mr.length; v += 5) {
    const s = sums.get(anatomy[v]) ?? [0, 0]
    sums.set(anatomy[v], [s[0] + mr[v], s[1] + 1])
  }
  const avg = (t: TissueClass) => sums.get(t)![0] / sums.get(t)![1]
  assert.ok(avg(TissueClass.Fat) > 2 * avg(TissueClass.Muscle))
  assert.ok(avg(TissueClass.Vessel) < avg(TissueClass.Muscle))
  assert.equal(c.channels[0].meta.sequence, 'T2')
})
