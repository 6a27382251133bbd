import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { dicomOutputWriter, RTSTRUCT_DCM, SEG_DCM } from '../../src/infer/dicom-outputs.js'
import type { PredictionResult } from '../../src/infer/predict.js'
import { writeCaseOutputs } from '../../src/infer/outputs.js'
import { writeDicomSeries } from '../../src/io/dicom/write-series.js'
import { readVolume } from '../../src/io/index.js'
import { rasterizeRoi, readRtstruct } from '../../src/io/rtstruct/read.js'
import { readSeg, segmentOnGrid } from '../../src/io/seg/read.js'
import { Vec3, Volume } from '../../src/volume/volume.js'
import { tempDir } from '../helpers.js'
import { dice } from '../rtstruct/scene.js'
import { BENIGN_MALIGNANT_CLASSES, fakeCase, fakeModel, fakeResult } from './fake-prediction.js'

const SHAPE: Vec3 = [48, 40, 16]
const SPACING: Vec3 = [1, 1, 2]

/** A CT series (descending slices, as many scanners write) with a benign and a malignant node, and its prediction. */
async function scene(dir: string): Promise<{ ctDir: string; ct: Volume; result: PredictionResult }> {
  const n = SHAPE[0] * SHAPE[1] * SHAPE[2]
  const source = new Volume(new Int16Array(n).fill(-100), [...SHAPE], [...SPACING], [-20, -10, 60], [[1, 0, 0], [0, 1, 0], [0, 0, -1]], { modality: 'CT' })
  const ctDir = join(dir, 'ct')
  await writeDicomSeries(source, ctDir)
  const ct = await readVolume(ctDir) // the scan as nodal predict reads it: labels live on this grid
  const labels = ct.withData(new Uint8Array(ct.data.length), {})
  // centre (voxel index of ct), radius mm, class: a 14 mm malignant node and a 9 mm benign one
  const balls: Array<[Vec3, number, number]> = [[[14, 14, 8], 7, 2], [[34, 26, 6], 4.5, 1]]
  let v = 0
  for (let k = 0; k < ct.shape[2]; k++) for (let j = 0; j < ct.shape[1]; j++) for (let i = 0; i < ct.shape[0]; i++, v++) {
    for (const [c, r, cls] of balls) {
      if (Math.hypot((i - c[0]) * ct.spacing[0], (j - c[1]) * ct.spacing[1], (k - c[2]) * ct.spacing[2]) <= r) labels.data[v] = cls
    }
  }
  return { ctDir, ct, result: fakeResult(labels, BENIGN_MALIGNANT_CLASSES, { image: ct }) }
}

const mask = (v: Volume, keep: (x: number) => boolean) => Uint8Array.from(v.data, (x) => (keep(x) ? 1 : 0))

/** The expected structures: name -> mask on the CT grid. */
function expected(result: PredictionResult, perNode: boolean): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>()
  if (!perNode) {
    out.set('LN', mask(result.labels, (x) => x === 1))
    out.set('GTVn', mask(result.labels, (x) => x === 2))
    return out
  }
  const counters = new Map<string, number>()
  for (const node of [...result.nodes].sort((a, b) => a.id - b.id)) {
    const name = node.class === 'malignant_node' ? 'GTVn' : 'LN'
    const count = (counters.get(name) ?? 0) + 1
    counters.set(name, count)
    out.set(`${name}_${String(count).padStart(2, '0')}`, mask(result.instances, (x) => x === node.id))
  }
  return out
}

for (const perNode of [false, true]) {
  test(`predict's DICOM outputs: RTSTRUCT and SEG structures equal the predicted ${perNode ? 'nodes' : 'classes'}`, async () => {
    const tmp = tempDir()
    try {
      const { ctDir, ct, result } = await scene(tmp.path)
      assert.deepEqual(result.nodes.map((n) => n.class).sort(), ['benign_node', 'malignant_node'])
      const c = fakeCase('patient01', fakeModel(BENIGN_MALIGNANT_CLASSES), result, { dicomDir: ctDir, formats: ['json', 'rtstruct', 'seg'] })
      const dir = await writeCaseOutputs(join(tmp.path, 'out'), c, [dicomOutputWriter(perNode)])
      assert.ok(existsSync(join(dir, RTSTRUCT_DCM)) && existsSync(join(dir, SEG_DCM)))
      const want = expected(result, perNode)
      for (const [name, m] of want) assert.ok(m.some((x) => x === 1), `${name} is not empty`)

      const rt = readRtstruct(join(dir, RTSTRUCT_DCM))
      assert.deepEqual(rt.rois.map((r) => r.name).sort(), [...want.keys()].sort())
      assert.equal(rt.frameOfReferenceUid, ct.meta.frameOfReferenceUid)
      for (const roi of rt.rois) {
        const d = dice(rasterizeRoi(roi, ct, RTSTRUCT_DCM).mask, want.get(roi.name)!)
        assert.ok(d >= 0.99, `RTSTRUCT ${roi.name}: Dice ${d.toFixed(4)}`)
      }
      assert.deepEqual(rt.rois.map((r) => r.interpretedType).sort(), rt.rois.map((r) => (r.name.startsWith('GTV') ? 'GTV' : 'ORGAN')).sort())

      const seg = readSeg(join(dir, SEG_DCM))
      assert.deepEqual(seg.segments.map((s) => s.label).sort(), [...want.keys()].sort())
      seg.segments.forEach((s, index) => {
        const d = dice(segmentOnGrid(seg, index, ct).data, want.get(s.label)!)
        assert.ok(d >= 0.99, `SEG ${s.label}: Dice ${d.toFixed(4)}`)
      })
    } finally {
      tmp.cleanup()
    }
  })
}

test('no DICOM outputs for file input, without nodes, or when not asked for', async () => {
  const tmp = tempDir()
  try {
    const { ctDir, result } = await scene(tmp.path)
    const model = fakeModel(BENIGN_MALIGNANT_CLASSES)
    const empty: PredictionResult = { ...result, nodes: [], labels: result.labels.withData(new Uint8Array(result.labels.data.length)), instances: result.instances.withData(new Uint16Array(result.instances.data.length)) }
    const runs: Array<[string, ReturnType<typeof fakeCase>]> = [
      ['file input', fakeCase('file', model, result, { dicomDir: null, formats: ['json', 'rtstruct', 'seg'] })],
      ['no nodes', fakeCase('empty', model, empty, { dicomDir: ctDir, formats: ['json', 'rtstruct', 'seg'] })],
      ['not asked', fakeCase('plain', model, result, { dicomDir: ctDir, formats: ['json'] })],
    ]
    for (const [what, c] of runs) {
      const dir = await writeCaseOutputs(join(tmp.path, 'out'), c, [dicomOutputWriter(false)])
      assert.deepEqual(readdirSync(dir), ['nodes.json'], what)
    }
  } finally {
    tmp.cleanup()
  }
})
