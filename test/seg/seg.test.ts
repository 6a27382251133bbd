import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readVolume } from '../../src/io/index.js'
import { readSeg, segmentOnGrid } from '../../src/io/seg/read.js'
import { resampleTo } from '../../src/volume/resample.js'
import { Axes, Volume } from '../../src/volume/volume.js'
import { hasCommand, runCli, sharedData, tempDir } from '../helpers.js'
import { makeScene, Scene, sceneAxes } from '../rtstruct/scene.js'

const noDciodvfy = hasCommand('dciodvfy') ? false : 'dciodvfy (dicom3tools) not installed'
const liverSeg = sharedData('seg/liver.dcm')
const overlapSeg = sharedData('seg/partial_overlaps.dcm')
const noSharedSeg = liverSeg && overlapSeg ? false : '../shared/data/seg is missing'

function assertSameVoxels(actual: Volume, expected: Volume, what: string): void {
  const onGrid = resampleTo(expected, actual, { interpolation: 'nearest' })
  let differing = 0
  for (let n = 0; n < actual.data.length; n++) if (actual.data[n] !== onGrid.data[n]) differing++
  assert.equal(differing, 0, `${what}: ${differing} voxels differ`)
}

test('dcmqi SEG with one segment reads back to the voxels of its NRRD twin', { skip: noSharedSeg }, async () => {
  const seg = readSeg(liverSeg!)
  assert.deepEqual(seg.segments.map((s) => s.label), ['Liver'])
  const twin = await readVolume(sharedData('seg/liver_seg.nrrd')!)
  assertSameVoxels(segmentOnGrid(seg, 0, twin), twin, 'liver')
  // and on the CT series it references
  const ct = await readVolume(sharedData('dicom/ct-3slice')!)
  assertSameVoxels(segmentOnGrid(seg, 0, ct), twin, 'liver on the CT grid')
})

test('dcmqi SEG with overlapping segments converts to the same maps as its NRRD twins', { skip: noSharedSeg }, async () => {
  const tmp = tempDir()
  try {
    const out = join(tmp.path, 'segments.nrrd')
    const r = runCli(['convert', overlapSeg!, out, '--reference', sharedData('dicom/ct-3slice')!])
    assert.equal(r.code, 0, r.stderr)
    // dcmqi's twins hold the segments grouped into non-overlapping maps: {1,4,5}, {2}, {3}
    for (const g of [1, 2, 3]) {
      const mine = await readVolume(join(tmp.path, `segments-${g}.nrrd`))
      const twin = await readVolume(sharedData(`seg/partial_overlaps-${g}.nrrd`)!)
      assertSameVoxels(mine, twin, `group ${g}`)
    }
    const names = JSON.parse(readFileSync(join(tmp.path, 'segments.json'), 'utf8'))
    assert.deepEqual(names, { 1: 'GREEN', 2: 'ORANGE', 3: 'PURPLE', 4: 'LIGHT_BLUE', 5: 'DARK_BLUE' })
  } finally {
    tmp.cleanup()
  }
})

async function exportSeg(dir: string, scene: Scene, extra: string[] = []): Promise<string> {
  const out = join(dir, 'seg.dcm')
  const names = join(dir, 'names.json')
  writeFileSync(names, JSON.stringify(Object.fromEntries([...scene.structures].map(([l, [n]]) => [l, n]))))
  const r = runCli(['export', scene.labelsPath, '--reference', scene.ctDir, '--format', 'seg', '--out', out, '--names', names, ...extra])
  assert.equal(r.code, 0, r.stderr)
  return out
}

const cases: Array<[string, Axes]> = [
  ['axial, ascending slices', sceneAxes(0, false)],
  ['oblique (20 degrees), descending slices', sceneAxes(20, true)],
]

for (const [what, axes] of cases) {
  test(`mask -> SEG -> mask is exact and dciodvfy finds no error (${what})`, async () => {
    const tmp = tempDir()
    try {
      const scene = await makeScene(tmp.path, axes)
      const seg = await exportSeg(tmp.path, scene)
      if (!noDciodvfy) {
        const v = spawnSync('dciodvfy', [seg], { encoding: 'utf8' })
        assert.doesNotMatch(v.stdout + v.stderr, /^Error/m, v.stdout + v.stderr)
      }
      const back = join(tmp.path, 'back.nii.gz')
      const r = runCli(['convert', seg, back, '--reference', scene.ctDir])
      assert.equal(r.code, 0, r.stderr)
      assertSameVoxels(await readVolume(back), scene.labels, what)
      // without a reference, on the SEG's own grid: the same voxels in the world
      const own = join(tmp.path, 'own.nii.gz')
      assert.equal(runCli(['convert', seg, own]).code, 0)
      const ownVol = await readVolume(own)
      assertSameVoxels(ownVol, resampleTo(scene.labels, ownVol, { interpolation: 'nearest' }), `${what}, own grid`)
    } finally {
      tmp.cleanup()
    }
  })
}

test('SEG content: coded segments, referenced series, empty frames omitted, per-node segments', async () => {
  const tmp = tempDir()
  try {
    const scene = await makeScene(tmp.path)
    const file = await exportSeg(tmp.path, scene, ['--per-node'])
    const seg = readSeg(file)
    assert.deepEqual(seg.segments.map((s) => s.label),
      ['LN_large_01', 'GTVn_shell_01', 'LN_medium_01', 'LN_small_01', 'GTVn_islands_01', 'GTVn_islands_02'])
    assert.deepEqual(seg.segments.map((s) => s.type), ['Lymph node', 'Neoplasm', 'Lymph node', 'Lymph node', 'Neoplasm', 'Neoplasm'])
    const ct = await readVolume(scene.ctDir)
    const dump = spawnSync('dcmdump', ['+P', 'SeriesInstanceUID', '+P', 'NumberOfFrames', '+P', 'FrameOfReferenceUID', file], { encoding: 'utf8' }).stdout
    assert.ok(dump.includes(ct.meta.seriesInstanceUid as string), 'references the CT series')
    assert.ok(dump.includes(ct.meta.frameOfReferenceUid as string), 'shares the CT frame of reference')
    // one frame per segment and slice that segment touches
    let nonEmpty = 0
    for (let s = 0; s < seg.segments.length; s++) {
      const mask = segmentOnGrid(seg, s, ct).data
      const perSlice = ct.shape[0] * ct.shape[1]
      for (let k = 0; k < ct.shape[2]; k++) if (mask.subarray(k * perSlice, (k + 1) * perSlice).some((v) => v !== 0)) nonEmpty++
    }
    assert.match(dump, new RegExp(`IS \\[${nonEmpty}\\]`))
  } finally {
    tmp.cleanup()
  }
})
