/**
 * Self-test of the DICOM study fixture (dicom-study.ts), checked with readers independent of nodal:
 * pydicom reading the files back, plastimatch rasterising the RTSTRUCTs, dciodvfy validating the IODs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { inflateSync } from 'node:zlib'
import { DEBIAN_PYTHON, hasCommand, tempDir } from '../helpers.js'
import { dicomStudySkip, Grid, makeDicomStudies, StudySpec, StudyTruth, Vec3 } from './dicom-study.js'

const skip = dicomStudySkip()
const noDciodvfy = hasCommand('dciodvfy') ? false : 'dciodvfy (dicom3tools) not installed'

const SPECS: StudySpec[] = [
  {
    patientId: 'NODAL-001', patientName: 'Test^Alpha', studyDescription: 'PET-CT NECK',
    ct: { shape: [48, 40, 16], spacing: [1, 1, 2] },
    structures: [
      { name: 'LN_level2_R', shape: 'sphere', center: [-8, -4, 1], radius: 7, hu: 80, suv: 8, interpretedType: 'ORGAN' },
      { name: 'GTVn', shape: 'box', center: [0, -2, 2], size: [12, 10, 8], label: 2, hu: 120 }, // overlaps the sphere
    ],
    structureSet: 'both', pet: true, emptyRoi: 'LN_missing',
  },
  {
    patientId: 'NODAL-002', patientName: 'Test^Beta',
    ct: { shape: [40, 36, 12], spacing: [0.8, 0.8, 2.5], orientation: 'oblique20', sliceOrder: 'descending' },
    structures: [
      { name: 'LN a', shape: 'sphere', center: [2, -1, 0], radius: 6 },
      { name: 'LN-b', shape: 'sphere', center: [-7, 6, 4], radius: 3 },
      { name: 'LN_outside', shape: 'sphere', center: [0, 0, 200], radius: 3 }, // no voxel on the grid: an ROI without contours
    ],
    structureSet: 'rtstruct', layout: 'shuffled',
  },
  {
    patientId: 'NODAL-003', patientName: 'Test^Gamma',
    ct: { shape: [32, 32, 10], spacing: [1, 1, 3] },
    structures: [{ name: 'LN_1', shape: 'box', center: [1, 1, 0], size: [8, 6, 9] }],
    structureSet: 'seg', layout: 'flat', root: 'flat', dropSeries: true,
  },
  {
    patientId: 'NODAL-001', patientName: 'Test^Alpha', studyDate: '20240901',
    ct: { shape: [32, 28, 8], spacing: [1.5, 1.5, 3], origin: [-20, -10, 100] },
    structures: [{ name: 'LN_1', shape: 'sphere', center: [4, 10, 110], radius: 5 }],
    structureSet: 'rtstruct', zip: true, pet: { spacing: [3, 3, 3], weightKg: 60, seriesTime: '101500' },
  },
]

/** Reads DICOM files (loose or zip members) with pydicom; prints a JSON summary per file. */
const READ_BACK = String.raw`
import io, json, sys, zipfile
import numpy as np
import pydicom
out = []
for item in json.load(sys.stdin):
    if item.get('zip'):
        raw = zipfile.ZipFile(item['zip']).read(item['path'])
        ds = pydicom.dcmread(io.BytesIO(raw))
    else:
        ds = pydicom.dcmread(item['path'])  # not force=True: the Part 10 preamble and meta must be there
    g = lambda k, d='': ds.get(k, d)
    s = {'path': item['path'], 'sopClass': str(ds.SOPClassUID), 'sop': str(ds.SOPInstanceUID), 'metaSop': str(ds.file_meta.MediaStorageSOPInstanceUID),
         'modality': str(ds.Modality), 'patientId': str(ds.PatientID), 'patientName': str(ds.PatientName), 'study': str(ds.StudyInstanceUID),
         'series': str(ds.SeriesInstanceUID), 'frame': str(g('FrameOfReferenceUID')), 'instance': int(g('InstanceNumber', 0) or 0)}
    if ds.Modality in ('CT', 'PT'):
        s['ipp'] = [float(v) for v in ds.ImagePositionPatient]
        s['iop'] = [float(v) for v in ds.ImageOrientationPatient]
        s['pixelSpacing'] = [float(v) for v in ds.PixelSpacing]
        s['size'] = [int(ds.Columns), int(ds.Rows)]
        s['values'] = (ds.pixel_array.astype(float) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)).ravel().tolist()
    if ds.Modality == 'PT':
        rp = ds.RadiopharmaceuticalInformationSequence[0]
        s['pet'] = {'units': str(ds.Units), 'decayCorrection': str(ds.DecayCorrection), 'weight': float(ds.PatientWeight),
                    'seriesTime': str(ds.SeriesTime), 'acquisitionTime': str(ds.AcquisitionTime), 'dose': float(rp.RadionuclideTotalDose),
                    'halfLife': float(rp.RadionuclideHalfLife), 'start': str(rp.RadiopharmaceuticalStartTime)}
    if ds.Modality == 'RTSTRUCT':
        ref = ds.ReferencedFrameOfReferenceSequence[0]
        st = ref.RTReferencedStudySequence[0]
        se = st.RTReferencedSeriesSequence[0]
        types = {int(o.ReferencedROINumber): str(o.get('RTROIInterpretedType', '')) for o in ds.RTROIObservationsSequence}
        contours = {int(c.ReferencedROINumber): c for c in ds.ROIContourSequence}
        s['rt'] = {'frame': str(ref.FrameOfReferenceUID), 'study': str(st.ReferencedSOPInstanceUID), 'series': str(se.SeriesInstanceUID),
                   'images': [str(i.ReferencedSOPInstanceUID) for i in se.ContourImageSequence],
                   'rois': [{'number': int(r.ROINumber), 'name': str(r.ROIName), 'frame': str(r.ReferencedFrameOfReferenceUID),
                             'type': types.get(int(r.ROINumber), ''),
                             'contours': [{'image': str(c.ContourImageSequence[0].ReferencedSOPInstanceUID), 'type': str(c.ContourGeometricType),
                                           'points': [float(v) for v in c.ContourData]}
                                          for c in contours[int(r.ROINumber)].get('ContourSequence', [])]}
                            for r in ds.StructureSetROISequence]}
    if ds.Modality == 'SEG':
        rows, cols, n = int(ds.Rows), int(ds.Columns), int(ds.NumberOfFrames)
        raw = np.frombuffer(ds.PixelData, np.uint8)
        # pixel p is bit (p % 8) of byte p // 8, least significant first (PS3.5 8.1.1), decoded by hand
        bits = ((raw[:, None] >> np.arange(8)[None, :]) & 1).ravel()[:n * rows * cols].reshape(n, rows * cols)
        shared = ds.SharedFunctionalGroupsSequence[0]
        ser = ds.ReferencedSeriesSequence[0]
        s['seg'] = {'type': str(ds.SegmentationType), 'bits': int(ds.BitsAllocated), 'overlap': str(ds.get('SegmentsOverlap', '')),
                    'labels': [str(x.SegmentLabel) for x in ds.SegmentSequence], 'numbers': [int(x.SegmentNumber) for x in ds.SegmentSequence],
                    'iop': [float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient],
                    'pixelSpacing': [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing],
                    'refSeries': str(ser.SeriesInstanceUID), 'refInstances': [str(i.ReferencedSOPInstanceUID) for i in ser.ReferencedInstanceSequence],
                    'frames': [{'segment': int(f.SegmentIdentificationSequence[0].ReferencedSegmentNumber),
                                'ipp': [float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient],
                                'source': str(f.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID),
                                'pixels': np.flatnonzero(bits[i]).tolist()} for i, f in enumerate(ds.PerFrameFunctionalGroupsSequence)]}
    out.append(s)
json.dump(out, sys.stdout)
`

interface ReadBack {
  path: string; sopClass: string; sop: string; metaSop: string; modality: string; patientId: string; patientName: string
  study: string; series: string; frame: string; instance: number
  ipp?: number[]; iop?: number[]; pixelSpacing?: number[]; size?: number[]; values?: number[]
  pet?: { units: string; decayCorrection: string; weight: number; seriesTime: string; acquisitionTime: string; dose: number; halfLife: number; start: string }
  rt?: { frame: string; study: string; series: string; images: string[]
    rois: Array<{ number: number; name: string; frame: string; type: string; contours: Array<{ image: string; type: string; points: number[] }> }> }
  seg?: { type: string; bits: number; overlap: string; labels: string[]; numbers: number[]; iop: number[]; pixelSpacing: number[]
    refSeries: string; refInstances: string[]; frames: Array<{ segment: number; ipp: number[]; source: string; pixels: number[] }> }
}

function readBack(t: StudyTruth): ReadBack[] {
  const items = t.files.map((path) => ({ path, zip: t.zip }))
  return JSON.parse(execFileSync(DEBIAN_PYTHON, ['-c', READ_BACK], { input: JSON.stringify(items), encoding: 'utf8', maxBuffer: 1 << 28 }))
}

const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
const sub = (a: number[], b: number[]) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
const close = (a: number[], b: number[], tol = 1e-3) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= tol)
/** Slice index of a world point on a grid (its position along the normal, in slices). */
const sliceOf = (g: Grid, p: number[]) => dot(sub(p, g.origin), g.axes[2]) / g.spacing[2]
const worldOf = (g: Grid, i: number, j: number, k: number) =>
  [0, 1, 2].map((d) => g.origin[d] + i * g.spacing[0] * g.axes[0][d] + j * g.spacing[1] * g.axes[1][d] + k * g.spacing[2] * g.axes[2][d])

let made: { dir: string; truth: StudyTruth[]; files: Map<number, ReadBack[]> } | null = null
async function fixture() {
  if (!made) {
    const dir = tempDir('nodal-dicom-study-').path
    const truth = await makeDicomStudies(dir, SPECS)
    made = { dir, truth, files: new Map(truth.map((t) => [t.index, readBack(t)])) }
  }
  return made
}

test.after(() => {
  if (made) spawnSync('rm', ['-rf', made.dir])
})

test('every file is Part 10 DICOM of the right patient, study and frame of reference', { skip }, async () => {
  const { truth, files } = await fixture()
  for (const t of truth) {
    const back = files.get(t.index)!
    const spec = SPECS[t.index]
    const expected = (t.ctWritten ? t.ct.files.length : 0) + (t.pet?.files.length ?? 0) + (t.rtstruct ? 1 : 0) + (t.seg ? 1 : 0)
    assert.equal(back.length, expected)
    for (const f of back) {
      assert.equal(f.patientId, spec.patientId)
      assert.equal(f.patientName, spec.patientName)
      assert.equal(f.study, t.studyUid)
      assert.equal(f.sop, f.metaSop)
      if (f.modality !== 'RTSTRUCT') assert.equal(f.frame, t.frameOfReferenceUid, `${f.modality} frame of reference`)
    }
    assert.equal(new Set(back.map((f) => f.sop)).size, back.length, 'SOP Instance UIDs are unique')
  }
  // both studies of patient NODAL-001 are distinct studies
  assert.notEqual(truth[0].studyUid, truth[3].studyUid)
})

test('CT slices: positions, orientation, instance numbers and HU match the truth grid', { skip }, async () => {
  const { truth, files } = await fixture()
  for (const t of truth.filter((x) => x.ctWritten)) {
    const g = t.ct.grid
    const spec = SPECS[t.index]
    const cts = files.get(t.index)!.filter((f) => f.modality === 'CT')
    assert.equal(cts.length, g.shape[2])
    for (const f of cts) {
      const k = t.ct.sopInstanceUids.indexOf(f.sop)
      assert.ok(k >= 0)
      assert.equal(f.series, t.ct.seriesUid)
      assert.equal(f.sopClass, '1.2.840.10008.5.1.4.1.1.2')
      assert.ok(close(f.ipp!, worldOf(g, 0, 0, k)), `slice ${k} position ${f.ipp} vs ${worldOf(g, 0, 0, k)}`)
      assert.ok(close(f.iop!, [...g.axes[0], ...g.axes[1]], 1e-6))
      assert.deepEqual(f.pixelSpacing, [g.spacing[1], g.spacing[0]])
      assert.deepEqual(f.size, [g.shape[0], g.shape[1]])
      assert.equal(f.instance, spec.ct.sliceOrder === 'descending' ? g.shape[2] - k : k + 1)
      const plane = g.shape[0] * g.shape[1]
      for (let p = 0; p < plane; p++) {
        let hu = spec.ct.background ?? -100
        t.structures.forEach((s, n) => { if (s.mask[k * plane + p]) hu = spec.structures![n].hu ?? 60 })
        if (f.values![p] !== hu) assert.fail(`study ${t.index} slice ${k} pixel ${p}: HU ${f.values![p]}, expected ${hu}`)
      }
    }
    // the truth index convention: k ascends along the normal
    const normals = t.ct.sopInstanceUids.map((u) => dot(cts.find((f) => f.sop === u)!.ipp!, g.axes[2]))
    assert.ok(normals.every((d, k) => k === 0 || d > normals[k - 1]))
  }
  const oblique = truth[1].ct.grid.axes
  assert.ok(Math.abs(Math.acos(oblique[0][0]) * 180 / Math.PI - 20) < 1e-3, 'oblique by 20 degrees')
})

test('RTSTRUCT references the CT by frame of reference, study, series and per-slice SOP Instance UIDs', { skip }, async () => {
  const { truth, files } = await fixture()
  const withRt = truth.filter((t) => t.rtstruct)
  assert.equal(withRt.length, 3)
  for (const t of withRt) {
    const rt = files.get(t.index)!.find((f) => f.modality === 'RTSTRUCT')!
    assert.equal(rt.sopClass, '1.2.840.10008.5.1.4.1.1.481.3')
    assert.equal(rt.sop, t.rtstruct!.sopInstanceUid)
    assert.equal(rt.series, t.rtstruct!.seriesUid)
    assert.equal(rt.rt!.frame, t.frameOfReferenceUid)
    assert.equal(rt.rt!.study, t.studyUid)
    assert.equal(rt.rt!.series, t.ct.seriesUid)
    assert.deepEqual([...rt.rt!.images].sort(), [...t.ct.sopInstanceUids].sort())
    const spec = SPECS[t.index]
    assert.deepEqual(rt.rt!.rois.map((r) => r.name), [...spec.structures!.map((s) => s.name), ...(spec.emptyRoi ? [spec.emptyRoi] : [])])
    assert.deepEqual(rt.rt!.rois.map((r) => r.number), rt.rt!.rois.map((_, n) => n + 1))
    assert.deepEqual(t.rtstruct!.roiNames, rt.rt!.rois.map((r) => r.name))
    if (SPECS[t.index].ct.orientation === undefined) assert.equal(t.rtstruct!.misreferencedContours, 0, 'plastimatch references axial slices right')
    const g = t.ct.grid
    for (const roi of rt.rt!.rois) {
      assert.equal(roi.frame, t.frameOfReferenceUid)
      if (roi.name === spec.emptyRoi) {
        assert.equal(roi.contours.length, 0, 'the empty ROI has no contours')
        continue
      }
      const s = spec.structures!.find((x) => x.name === roi.name)!
      assert.equal(roi.type, s.interpretedType ?? '')
      const voxels = t.structures.find((x) => x.name === roi.name)!.voxels
      assert.equal(roi.contours.length > 0, voxels > 0, `${roi.name}: contours when (and only when) the mask has voxels`)
      for (const c of roi.contours) {
        assert.equal(c.type, 'CLOSED_PLANAR')
        const ks = []
        for (let p = 0; p < c.points.length; p += 3) ks.push(sliceOf(g, c.points.slice(p, p + 3)))
        const k = Math.round(ks[0])
        assert.ok(ks.every((v) => Math.abs(v - k) < 1e-3), `${roi.name}: contour lies on slice ${k}`)
        assert.equal(c.image, t.ct.sopInstanceUids[k], `${roi.name}: contour on slice ${k} references that slice`)
      }
    }
  }
})

/** A MetaImage as plastimatch writes it: grid and uint8 voxels. */
function readMha(path: string): { grid: Grid; data: Uint8Array } {
  const buf = readFileSync(path)
  const end = buf.indexOf('ElementDataFile = LOCAL\n') + 'ElementDataFile = LOCAL\n'.length
  const h = Object.fromEntries(buf.subarray(0, end).toString('latin1').trim().split('\n').map((l) => l.split(' = ') as [string, string]))
  const nums = (k: string) => h[k].trim().split(/\s+/).map(Number)
  assert.equal(h.ElementType, 'MET_UCHAR')
  const m = nums('TransformMatrix')
  const raw = buf.subarray(end)
  const data = new Uint8Array(h.CompressedData === 'True' ? inflateSync(raw) : raw)
  return {
    grid: { shape: nums('DimSize') as Vec3, spacing: nums('ElementSpacing') as Vec3, origin: nums('Offset') as Vec3, axes: [m.slice(0, 3), m.slice(3, 6), m.slice(6, 9)] as Grid['axes'] },
    data,
  }
}

test('plastimatch rasterises each RTSTRUCT back onto the CT exactly as the truth masks', { skip }, async () => {
  const { truth } = await fixture()
  const tmp = tempDir('nodal-dicom-study-pm-')
  try {
    for (const t of truth.filter((x) => x.rtstruct && x.ctWritten)) {
      const ctDir = join(tmp.path, `ct${t.index}`), prefix = join(tmp.path, `pm${t.index}`)
      let rt = t.rtstruct!.file
      if (t.zip) {
        execFileSync('unzip', ['-q', t.zip, '-d', ctDir])
        rt = join(ctDir, rt)
      } else {
        // plastimatch wants a folder holding the CT only
        execFileSync('mkdir', ['-p', ctDir])
        t.ct.files.forEach((f, k) => execFileSync('cp', [f, join(ctDir, `ct${k}.dcm`)]))
      }
      const ctArg = t.zip ? dirname(join(ctDir, t.ct.files[0])) : ctDir
      execFileSync('plastimatch', ['convert', '--input', rt, '--referenced-ct', ctArg, '--output-prefix', prefix, '--prefix-format', 'mha'], { stdio: 'pipe' })
      for (const s of t.structures.filter((x) => x.voxels > 0)) {
        const { grid, data } = readMha(join(prefix, `${s.name}.mha`))
        const g = t.ct.grid
        assert.deepEqual(grid.shape, g.shape)
        assert.ok(close(grid.origin, g.origin) && close(grid.spacing, g.spacing) && close(grid.axes.flat(), g.axes.flat(), 1e-5), `study ${t.index} ${s.name}: plastimatch's grid is the truth grid`)
        let diff = 0, count = 0
        for (let n = 0; n < data.length; n++) {
          if (data[n]) count++
          if ((data[n] !== 0) !== (s.mask[n] === 1)) diff++
        }
        assert.equal(count, s.voxels)
        assert.equal(diff, 0, `study ${t.index} ${s.name}: ${diff} voxels differ`)
      }
    }
  } finally {
    tmp.cleanup()
  }
})

test('SEG: binary frames decode to the truth masks and reference the CT series and slices', { skip }, async () => {
  const { truth, files } = await fixture()
  const withSeg = truth.filter((t) => t.seg)
  assert.equal(withSeg.length, 2)
  for (const t of withSeg) {
    const f = files.get(t.index)!.find((x) => x.modality === 'SEG')!
    const seg = f.seg!
    const g = t.ct.grid
    assert.equal(f.sopClass, '1.2.840.10008.5.1.4.1.1.66.4')
    assert.equal(f.series, t.seg!.seriesUid)
    assert.equal(seg.type, 'BINARY')
    assert.equal(seg.bits, 1)
    assert.equal(seg.refSeries, t.ct.seriesUid)
    assert.deepEqual(seg.refInstances, t.ct.sopInstanceUids)
    assert.deepEqual(seg.labels, SPECS[t.index].structures!.map((s) => s.name))
    assert.deepEqual(seg.numbers, seg.labels.map((_, n) => n + 1))
    assert.ok(close(seg.iop, [...g.axes[0], ...g.axes[1]], 1e-6))
    assert.deepEqual(seg.pixelSpacing, [g.spacing[1], g.spacing[0]])
    assert.equal(seg.frames.length, t.seg!.frames)
    const plane = g.shape[0] * g.shape[1]
    const masks = t.structures.map(() => new Uint8Array(plane * g.shape[2]))
    for (const fr of seg.frames) {
      const k = Math.round(sliceOf(g, fr.ipp))
      assert.ok(close(fr.ipp, worldOf(g, 0, 0, k)), 'frame at a CT slice position')
      assert.equal(fr.source, t.ct.sopInstanceUids[k], 'frame derived from the CT slice at its position')
      assert.ok(fr.pixels.length > 0, 'only frames with foreground')
      for (const p of fr.pixels) masks[fr.segment - 1][k * plane + p] = 1
    }
    t.structures.forEach((s, n) => assert.deepEqual(masks[n], s.mask, `segment ${s.name}`))
    let overlap = false
    for (let v = 0; v < plane * g.shape[2]; v++) if (t.structures.filter((s) => s.mask[v]).length > 1) overlap = true
    assert.equal(seg.overlap, overlap ? 'YES' : 'NO')
  }
  assert.equal(withSeg[0].seg!.file.endsWith('102_SEG/IMG0001.dcm'), true)
})

test('PET: same frame of reference, coarser grid, tags that give the spec SUVs', { skip }, async () => {
  const { truth, files } = await fixture()
  const withPet = truth.filter((t) => t.pet)
  assert.equal(withPet.length, 2)
  for (const t of withPet) {
    const pet = t.pet!
    const pts = files.get(t.index)!.filter((f) => f.modality === 'PT')
    const spec = SPECS[t.index]
    const petSpec = typeof spec.pet === 'object' ? spec.pet : {}
    assert.equal(pts.length, pet.grid.shape[2])
    assert.ok(pet.grid.spacing.every((s, d) => s >= t.ct.grid.spacing[d]) && pet.grid.spacing[0] > t.ct.grid.spacing[0], 'coarser than the CT')
    assert.deepEqual(pet.grid.axes, t.ct.grid.axes)
    for (const f of pts) {
      assert.equal(f.sopClass, '1.2.840.10008.5.1.4.1.1.128')
      assert.equal(f.series, pet.seriesUid)
      assert.equal(f.pet!.units, 'BQML')
      assert.equal(f.pet!.decayCorrection, 'START')
      assert.equal(f.pet!.weight, petSpec.weightKg ?? 75)
      assert.equal(f.pet!.seriesTime, petSpec.seriesTime ?? '103000')
      assert.equal(f.pet!.acquisitionTime, f.pet!.seriesTime)
      // SUVbw computed here from the tags, independently of the fixture's own factor
      const sec = (tm: string) => Number(tm.slice(0, 2)) * 3600 + Number(tm.slice(2, 4)) * 60 + Number(tm.slice(4))
      const factor = (f.pet!.weight * 1000) / (f.pet!.dose * Math.pow(2, -(sec(f.pet!.seriesTime) - sec(f.pet!.start)) / f.pet!.halfLife))
      assert.ok(Math.abs(factor / pet.suvFactor - 1) < 1e-6)
      const k = pet.sopInstanceUids.indexOf(f.sop)
      assert.ok(close(f.ipp!, worldOf(pet.grid, 0, 0, k)))
      const [nx, ny] = pet.grid.shape
      const tol = (factor * pet.rescaleSlope) / 2 + 1e-9
      for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
        const p = worldOf(pet.grid, i, j, k)
        let suv = petSpec.backgroundSuv ?? 1
        for (const s of spec.structures!) {
          const c = s.center, d = sub(p, c)
          const inside = s.shape === 'sphere' ? Math.hypot(d[0], d[1], d[2]) <= s.radius! : d.every((v, a) => Math.abs(v) <= s.size![a] / 2)
          if (inside) suv = s.suv ?? 6
        }
        const got = f.values![i + nx * j] * factor
        if (Math.abs(got - suv) > tol) assert.fail(`study ${t.index} PET voxel ${i},${j},${k}: SUV ${got}, expected ${suv}`)
      }
    }
  }
})

/** All files under `dir`, relative, sorted. */
function walk(dir: string): string[] {
  const out: string[] = []
  const go = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n)
      if (statSync(p).isDirectory()) go(p)
      else out.push(relative(dir, p))
    }
  }
  go(dir)
  return out.sort()
}

test('layouts: nested, shuffled, flat with a dropped series, zip; deterministic to the byte', { skip }, async () => {
  const { dir, truth, files } = await fixture()
  const [nested, shuffled, flat, zipped] = truth
  for (const f of nested.files) assert.match(relative(dir, f), /^NODAL-001\/STUDY001\/(002_CT|003_PT|101_RTSTRUCT|102_SEG)\/IMG\d{4}\.dcm$/)
  assert.deepEqual(nested.ct.files.map((f) => basename(f)), nested.ct.files.map((_, k) => `IMG${String(k + 1).padStart(4, '0')}.dcm`))
  // descending slice order: IMG0001 is the top slice
  assert.ok(shuffled.ct.instanceNumbers[0] === shuffled.ct.grid.shape[2])
  const shuffledRel = shuffled.files.map((f) => relative(dir, f))
  assert.ok(new Set(shuffledRel.map((f) => f.split('/').length)).size > 1, 'random depths')
  assert.ok(shuffledRel.some((f) => f.endsWith('.dcm')) && shuffledRel.some((f) => !f.endsWith('.dcm')))
  // flat + dropSeries: only the SEG, in flat/, named without extension; no CT anywhere in that study
  assert.equal(flat.ctWritten, false)
  assert.deepEqual(flat.ct.files, [])
  assert.equal(flat.ct.sopInstanceUids.length, 10)
  assert.deepEqual(flat.files, [flat.seg!.file])
  assert.match(relative(dir, flat.seg!.file), /^flat\/[0-9A-F]{12}$/)
  assert.ok(!files.get(flat.index)!.some((f) => f.modality === 'CT'))
  // zipped: members in the nested layout, nothing loose
  assert.equal(zipped.zip, join(dir, 'NODAL-001_004.zip'))
  const members = execFileSync('unzip', ['-Z1', zipped.zip!], { encoding: 'utf8' }).trim().split('\n').sort()
  assert.deepEqual(members, [...zipped.files].sort())
  assert.ok(members.every((m) => m.startsWith('NODAL-001/STUDY004/')))
  const loose = walk(dir)
  assert.deepEqual(loose, [...nested.files, ...shuffled.files, ...flat.files].map((f) => relative(dir, f)).concat(['NODAL-001_004.zip']).sort())
  // the same spec again gives the same bytes
  const again = tempDir('nodal-dicom-study-again-')
  try {
    const truth2 = await makeDicomStudies(again.path, SPECS)
    assert.deepEqual(walk(again.path), loose)
    for (const rel of loose) assert.ok(readFileSync(join(dir, rel)).equals(readFileSync(join(again.path, rel))), `${rel} is identical`)
    assert.deepEqual(truth2.map((t) => [t.studyUid, t.ct.seriesUid, t.frameOfReferenceUid]), truth.map((t) => [t.studyUid, t.ct.seriesUid, t.frameOfReferenceUid]))
  } finally {
    again.cleanup()
  }
})

test('dciodvfy finds no errors in the CT, PET and SEG', { skip: skip || noDciodvfy }, async () => {
  const { truth } = await fixture()
  const t = truth[0]
  for (const f of [t.ct.files[0], t.pet!.files[0], t.seg!.file]) {
    const r = spawnSync('dciodvfy', [f], { encoding: 'utf8' })
    const report = r.stdout + r.stderr
    assert.doesNotMatch(report, /^Error/m, `${f}:\n${report}`)
  }
  // plastimatch's RTSTRUCT: only the Frame of Reference module at the top level is missing (as in
  // many clinical files; the frame is in ReferencedFrameOfReferenceSequence)
  const r = spawnSync('dciodvfy', [t.rtstruct!.file], { encoding: 'utf8' })
  const errors = (r.stdout + r.stderr).split('\n').filter((l) => l.startsWith('Error'))
  assert.ok(errors.every((l) => /Module=<FrameOfReference>/.test(l)), errors.join('\n'))
})
