/**
 * nodal dataset import on DICOM study trees made by independent tools (pydicom writes CT, PET and SEG,
 * plastimatch writes the RT Structure Sets; test/dataset/dicom-study.ts): labels equal the source
 * structures (Dice >= 0.95 per structure from RTSTRUCT polygons, exact from SEG), file names and nesting
 * change nothing, and the awkward studies (two studies of one patient, a missing series, a SEG and an
 * RTSTRUCT on one series, an ROI with no contour, overlapping structures) are handled and reported.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { importDicom, IGNORE_VALUE } from '../../src/dataset/import/index.js'
import { readDataset } from '../../src/dataset/index.js'
import { readVolume } from '../../src/io/index.js'
import { runCli, tempDir } from '../helpers.js'
import { dicomStudySkip, makeDicomStudies, type StudySpec, type StudyTruth } from './dicom-study.js'

const skip = dicomStudySkip()
const MAP = 'GTVn*=2; LN*=1'

const SPECS: StudySpec[] = [
  {
    // RTSTRUCT and SEG on the same series; overlapping structures; an ROI without contours
    patientId: 'P1', patientName: 'Test^One', studyDate: '20240101',
    ct: { shape: [40, 36, 14], spacing: [1, 1, 2] },
    structures: [
      { name: 'LN_level2_R', shape: 'sphere', center: [-7, -4, 0], radius: 7, label: 1 },
      { name: 'GTVn', shape: 'box', center: [2, -2, 2], size: [10, 10, 8], label: 2 },
      { name: 'Spinal cord', shape: 'box', center: [0, 12, 0], size: [4, 4, 20], label: 3 },
    ],
    structureSet: 'both', emptyRoi: 'LN_empty',
  },
  {
    // the same patient's second study, on an oblique, descending series; contour UIDs as plastimatch wrote them
    patientId: 'P1', patientName: 'Test^One', studyDate: '20240601',
    ct: { shape: [36, 32, 12], spacing: [0.8, 0.8, 2.5], orientation: 'oblique20', sliceOrder: 'descending' },
    structures: [
      { name: 'ln a', shape: 'sphere', center: [2, -1, 0], radius: 6, label: 1 },
      { name: 'LN-b', shape: 'sphere', center: [-7, 6, 4], radius: 3.5, label: 1 },
    ],
    structureSet: 'rtstruct', rawPlastimatchRefs: true, emptyRoi: 'LN_not_drawn',
  },
  {
    // a structure set whose image series is not in the export
    patientId: 'P2', patientName: 'Test^Two',
    ct: { shape: [24, 24, 8], spacing: [1, 1, 3] },
    structures: [{ name: 'LN_1', shape: 'box', center: [1, 1, 0], size: [8, 6, 9], label: 1 }],
    structureSet: 'seg', dropSeries: true,
  },
  {
    // nothing matches the rules
    patientId: 'P3', patientName: 'Test^Three',
    ct: { shape: [24, 24, 8], spacing: [1, 1, 3] },
    structures: [{ name: 'Parotid_L', shape: 'sphere', center: [0, 0, 0], radius: 5, label: 1 }],
    structureSet: 'rtstruct',
  },
]

function dice(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let both = 0, na = 0, nb = 0
  for (let v = 0; v < a.length; v++) {
    if (a[v]) na++
    if (b[v]) nb++
    if (a[v] && b[v]) both++
  }
  return na + nb === 0 ? 1 : (2 * both) / (na + nb)
}

/** The label map's voxels of one value, and a truth structure's mask minus the voxels of earlier-rule structures. */
function labelMask(data: ArrayLike<number>, value: number): Uint8Array {
  return Uint8Array.from(data as ArrayLike<number>, (x) => (x === value ? 1 : 0))
}

async function labelsOf(out: string, name: string) {
  return readVolume(join(out, 'labelsTr', `${name}.nii.gz`))
}

test('DICOM tree: cases by UIDs, labels equal the structures, awkward studies reported, patients kept', { skip }, async () => {
  const tmp = tempDir()
  try {
    const truth = await makeDicomStudies(join(tmp.path, 'export'), SPECS)
    const out = join(tmp.path, 'ds')
    const r = await importDicom({ input: join(tmp.path, 'export'), out, map: MAP })
    // P1's two studies are the only importable ones, in patient/date order
    assert.deepEqual(r.cases.map((c) => [c.case, c.patient_id, c.image_series]), [['case_000', 'P1', truth[0]!.ct.seriesUid], ['case_001', 'P1', truth[1]!.ct.seriesUid]])
    assert.equal(r.cases[0]!.structure_set.kind, 'SEG', 'SEG preferred over the RTSTRUCT on the same series')
    const ds = readDataset(out)
    assert.deepEqual(ds.cases.map((c) => c.patient), ['P1', 'P1'], 'both studies of one patient: one fold')
    assert.deepEqual(ds.json.labels, { background: 0, GTVn: 2, LN: 1 })
    // SEG: exact; GTVn (earlier rule) wins the overlap
    const l0 = await labelsOf(out, 'case_000')
    const [ln, gtv] = [truth[0]!.structures[0]!.mask, truth[0]!.structures[1]!.mask]
    assert.deepEqual(Array.from(labelMask(l0.data, 2)), Array.from(gtv))
    assert.deepEqual(Array.from(labelMask(l0.data, 1)), Array.from(ln, (x, v) => (x && !gtv[v] ? 1 : 0)))
    const lnRoi = r.cases[0]!.rois.find((x) => x.name === 'LN_level2_R')!
    assert.ok(lnRoi.voxels_lost_to_overlap > 0, 'overlap reported')
    assert.equal(r.cases[0]!.rois.find((x) => x.name === 'Spinal cord')!.status, 'unmatched')
    assert.equal(r.cases[1]!.rois.find((x) => x.name === 'LN_not_drawn')!.status, 'no contours')
    // RTSTRUCT on the oblique, descending series with plastimatch's own contour UIDs: placed by coordinates
    const l1 = await labelsOf(out, 'case_001')
    const union = Uint8Array.from(truth[1]!.structures[0]!.mask, (x, v) => (x || truth[1]!.structures[1]!.mask[v] ? 1 : 0))
    assert.ok(dice(labelMask(l1.data, 1), union) >= 0.95, `Dice ${dice(labelMask(l1.data, 1), union)}`)
    assert.deepEqual([...l1.shape], truth[1]!.ct.grid.shape)
    // what was skipped, and why
    const why = (file: string | undefined) => r.skipped.find((s) => s.file === file)?.reason ?? ''
    assert.match(why(truth[0]!.rtstruct!.file), /another structure set on the same series was used \(SEG/)
    assert.match(why(truth[2]!.seg!.file), /image series it refers to is not in the folder/)
    assert.match(why(truth[3]!.rtstruct!.file), /no structure matched the --map rules \(structures: Parotid_L\)/)
    // every structure name seen, matched or not; the unused RTSTRUCT's empty ROI is listed too
    const names = Object.fromEntries(r.roi_names.map((n) => [n.name, n.label]))
    for (const [name, label] of [['LN_not_drawn', 1], ['LN_level2_R', 1], ['GTVn', 2], ['Spinal cord', null], ['ln a', 1], ['LN-b', 1], ['Parotid_L', null], ['LN_1', 1], ['LN_empty', 1]] as const) {
      assert.equal(names[name], label, name)
    }
    const csv = readFileSync(join(out, 'import_report.csv'), 'utf8').trim().split('\n')
    assert.equal(csv.length, 1 + 2 + r.skipped.length)
    assert.match(csv[0]!, /^case,status,patient_id,study_uid,image_series/)
  } finally {
    tmp.cleanup()
  }
})

test('shuffled file names, nesting and zip files change nothing', { skip }, async () => {
  const tmp = tempDir()
  try {
    const base = SPECS.slice(0, 2)
    const layouts: Partial<StudySpec>[] = [{ layout: 'nested' }, { layout: 'shuffled' }, { layout: 'flat', zip: true }]
    const results = []
    for (const [i, extra] of layouts.entries()) {
      const dir = join(tmp.path, `export${i}`)
      await makeDicomStudies(dir, base.map((s) => ({ ...s, ...extra })))
      const out = join(tmp.path, `ds${i}`)
      const r = await importDicom({ input: dir, out, map: MAP })
      results.push({ cases: r.cases.map((c) => [c.case, c.image_series, c.structure_set.kind]), labels: await Promise.all(r.cases.map(async (c) => Array.from((await labelsOf(out, c.case)).data))) })
      if (extra.zip) assert.equal(r.files.zips, 2)
    }
    assert.deepEqual(results[1], results[0])
    assert.deepEqual(results[2], results[0])
  } finally {
    tmp.cleanup()
  }
})

test('PET of the same study becomes channel 1 on the CT grid, in SUV; --partial marks far voxels ignore', { skip }, async () => {
  const tmp = tempDir()
  try {
    const spec: StudySpec = {
      patientId: 'P9', patientName: 'Test^Pet', ct: { shape: [40, 40, 12], spacing: [1, 1, 2] },
      structures: [{ name: 'LN_1', shape: 'sphere', center: [0, 0, 0], radius: 6, label: 1, suv: 8 }],
      structureSet: 'rtstruct', pet: { spacing: [2, 2, 2], backgroundSuv: 1 },
    }
    const truth: StudyTruth[] = await makeDicomStudies(join(tmp.path, 'export'), [spec, { ...spec, patientId: 'P10', structureSet: 'seg' }])
    const out = join(tmp.path, 'ds')
    const r = await importDicom({ input: join(tmp.path, 'export'), out, map: 'LN*=1', partial: { marginMm: 8 } })
    assert.deepEqual(r.channels, ['CT', 'PET'])
    assert.deepEqual(r.cases.map((c) => c.patient_id), ['P10', 'P9'], 'ordered by patient ID')
    assert.equal(r.cases[1]!.pet_series, truth[0]!.pet!.seriesUid)
    const ds = readDataset(out)
    ds.cases.reverse()
    assert.equal(ds.labels.ignore, IGNORE_VALUE)
    const [ct, pet, label] = [await readVolume(ds.cases[0]!.images[0]!), await readVolume(ds.cases[0]!.images[1]!), await readVolume(ds.cases[0]!.label!)]
    assert.deepEqual(pet.grid.shape, ct.grid.shape)
    assert.deepEqual(pet.grid.origin, ct.grid.origin)
    // SUV near the node's centre and in the background, as the fixture's tags give them (within one PET voxel of blur)
    const centre = ct.worldToIndex([0, 0, 0]).map(Math.round) as [number, number, number]
    assert.ok(Math.abs(pet.at(...centre) - 8) < 0.5, `SUV at the node ${pet.at(...centre)}`)
    assert.ok(Math.abs(pet.at(2, 2, 2) - 1) < 0.2, `background SUV ${pet.at(2, 2, 2)}`)
    const fromRtstruct = dice(labelMask(label.data, 1), truth[0]!.structures[0]!.mask)
    assert.ok(fromRtstruct >= 0.95, `RTSTRUCT structure Dice ${fromRtstruct}`)
    // partial: node 1, background within 8 mm of it, ignore beyond
    for (let v = 0; v < label.data.length; v++) {
      const [i, j, k] = [v % 40, Math.floor(v / 40) % 40, Math.floor(v / 1600)]
      const d = Math.hypot(...ct.indexToWorld(i, j, k)) - 6
      if (label.data[v] === IGNORE_VALUE) assert.ok(d > 8 - 1.5, `ignore at ${d.toFixed(1)} mm from the node`)
      if (d > 8 + 1.5) assert.equal(label.data[v], IGNORE_VALUE, `voxel ${d.toFixed(1)} mm away`)
    }
  } finally {
    tmp.cleanup()
  }
})

test('nodal dataset import CLI: a one-line error for bad rules, no structure set, and a non-empty --out; nothing left behind', { skip }, async () => {
  const tmp = tempDir()
  try {
    await makeDicomStudies(join(tmp.path, 'export'), [SPECS[3]!])
    const out = join(tmp.path, 'ds')
    for (const [args, message] of [
      [['--map', 'LN*'], /--map rule 'LN\*': expected/],
      [['--map', 'LN*=1'], /no study could be imported \(no structure matched/],
    ] as const) {
      const r = runCli(['dataset', 'import', join(tmp.path, 'export'), '--out', out, ...args])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, message)
      assert.equal(r.stderr.split('\n').filter((line) => line.startsWith('nodal:')).length, 1)
      assert.equal(existsSync(out), false)
    }
    const ok = runCli(['dataset', 'import', join(tmp.path, 'export'), '--out', out, '--map', 'Parotid*=1:parotid'])
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /Parotid_L\s+-> 1/)
    const again = runCli(['dataset', 'import', join(tmp.path, 'export'), '--out', out, '--map', 'Parotid*=1'])
    assert.equal(again.code, 2)
    assert.match(again.stderr, /exists and is not empty/)
    const check = runCli(['dataset', 'check', out])
    assert.equal(check.code, 0, check.stdout + check.stderr)
    assert.match(check.stdout, /no problems found/)
  } finally {
    tmp.cleanup()
  }
})
