import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { caseName, datasetJson, readDataset, VOLUME_EXTENSIONS, writeDatasetJson } from '../../src/dataset/index.js'
import { caseName as evalCaseName, VOLUME_FILE_EXTENSIONS } from '../../src/eval/cases.js'
import { NodalError } from '../../src/errors.js'
import { tempDir } from '../helpers.js'
import { DATASET_JSON, makeDataset, put, volume } from './make.js'

function withTemp<T>(body: (dir: string) => T): T {
  const tmp = tempDir('nodal-dataset-')
  try {
    return body(tmp.path)
  } finally {
    tmp.cleanup()
  }
}

/** The NodalError readDataset throws: its code and message must be one line naming a path. */
function refusal(body: () => unknown, pattern: RegExp): void {
  assert.throws(body, (e: unknown) => {
    assert.ok(e instanceof NodalError, String(e))
    assert.equal(e.code, 'bad-dataset')
    assert.doesNotMatch(e.message, /\n/)
    assert.match(e.message, pattern)
    return true
  })
}

test('reads a multi-channel dataset: channels in order, labels, cases with one image per channel', () => withTemp((dir) => {
  makeDataset(dir)
  const ds = readDataset(dir)
  assert.deepEqual(ds.channels, [{ index: 0, name: 'CT' }, { index: 1, name: 'PET' }])
  assert.deepEqual(ds.cases.map((c) => c.name), ['a', 'b'])
  assert.deepEqual(ds.cases[0].images, [join(dir, 'imagesTr', 'a_0000.nii.gz'), join(dir, 'imagesTr', 'a_0001.nii.gz')])
  assert.equal(ds.cases[1].label, join(dir, 'labelsTr', 'b.nii.gz'))
  assert.equal(ds.cases[0].instances, undefined)
  assert.deepEqual(ds.labels.foreground, [1, 2])
  assert.equal(ds.json.file_ending, '.nii.gz')
}))

test('instancesTr and nodal.patients are picked up', () => withTemp((dir) => {
  makeDataset(dir, { ...DATASET_JSON, nodal: { patients: { a: 'p1', b: 'p1' } } })
  put(dir, 'instancesTr/a.nii.gz', volume(() => 0))
  put(dir, 'instancesTr/a.json', '{"instances": {}}')
  const ds = readDataset(dir)
  assert.deepEqual(ds.cases[0].instances, { map: join(dir, 'instancesTr', 'a.nii.gz'), json: join(dir, 'instancesTr', 'a.json') })
  assert.equal(ds.cases[1].instances, null)
  assert.deepEqual(ds.cases.map((c) => c.patient), ['p1', 'p1'])
}))

test('nnU-Net v2 "dataset" lists in dataset.json are followed', () => withTemp((dir) => {
  put(dir, 'dataset.json', JSON.stringify({
    ...DATASET_JSON, channel_names: { 0: 'CT' }, numTraining: 1,
    dataset: { x: { images: ['elsewhere/x_ct.nii.gz'], label: 'elsewhere/x_seg.nii.gz' } },
  }))
  put(dir, 'elsewhere/x_ct.nii.gz', volume(() => 0))
  put(dir, 'elsewhere/x_seg.nii.gz', volume(() => 0))
  const ds = readDataset(dir)
  assert.deepEqual(ds.cases, [{ name: 'x', images: [join(dir, 'elsewhere/x_ct.nii.gz')], label: join(dir, 'elsewhere/x_seg.nii.gz') }])
}))

test('a case missing a channel file is refused, naming the missing file', () => withTemp((dir) => {
  makeDataset(dir)
  rmSync(join(dir, 'imagesTr', 'b_0001.nii.gz'))
  refusal(() => readDataset(dir), /imagesTr\/b_0001\.nii\.gz: missing \(case "b" has no channel 1\)/)
}))

test('a label file with no image is refused', () => withTemp((dir) => {
  makeDataset(dir)
  put(dir, 'labelsTr/c.nii.gz', volume(() => 0))
  refusal(() => readDataset(dir), /labelsTr\/c\.nii\.gz: a label with no image/)
}))

test('images without a label are refused unless labels are optional', () => withTemp((dir) => {
  makeDataset(dir)
  rmSync(join(dir, 'labelsTr', 'a.nii.gz'))
  refusal(() => readDataset(dir), /imagesTr\/a_0000\.nii\.gz: case "a" has no label file/)
  const ds = readDataset(dir, { requireLabels: false })
  assert.equal(ds.cases[0].label, null)
  assert.equal(ds.cases[1].label, join(dir, 'labelsTr', 'b.nii.gz'))
}))

test('broken dataset folders are refused with one line naming the path', () => withTemp((dir) => {
  refusal(() => readDataset(join(dir, 'nope')), /nope: no such dataset folder/)
  put(dir, 'file.txt', 'x')
  refusal(() => readDataset(join(dir, 'file.txt')), /file\.txt: not a folder/)
  refusal(() => readDataset(dir), /dataset\.json: no such file/)
  put(dir, 'dataset.json', '{"channel_names": ')
  refusal(() => readDataset(dir), /dataset\.json: is not readable JSON/)
  for (const key of ['channel_names', 'labels', 'file_ending']) {
    const json: Record<string, unknown> = { ...DATASET_JSON }
    delete json[key]
    put(dir, 'dataset.json', JSON.stringify(json))
    refusal(() => readDataset(dir), new RegExp(`dataset\\.json: missing "${key}"`))
  }
  makeDataset(dir, { ...DATASET_JSON, numTraining: 3 })
  refusal(() => readDataset(dir), /numTraining is 3 but the dataset holds 2 cases/)
  makeDataset(dir, { ...DATASET_JSON, channel_names: { 0: 'CT' } })
  refusal(() => readDataset(dir), /a_0001\.nii\.gz: channel 1, but dataset\.json declares 1 channel/)
  makeDataset(dir, { ...DATASET_JSON, labels: { background: 0, node: 1, both: [1, 2] } })
  refusal(() => readDataset(dir), /label "both" is an nnU-Net region .*not supported yet/)
}))

test('writeDatasetJson writes nnU-Net key order and readDataset reads it back', () => withTemp((dir) => {
  const json = writeDatasetJson(dir, {
    channelNames: { 0: 'CT' }, labels: { background: 0, benign_node: 1, malignant_node: 2 }, numTraining: 1,
    name: 'x', extra: { nodal: { seed: 1 } },
  })
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8'))), ['channel_names', 'labels', 'numTraining', 'file_ending', 'name', 'nodal'])
  assert.equal(json.file_ending, '.nii.gz')
  put(dir, 'imagesTr/c_0000.nii.gz', volume(() => 0))
  put(dir, 'labelsTr/c.nii.gz', volume(() => 0))
  assert.deepEqual(readDataset(dir).json, JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8')))
  assert.throws(() => datasetJson({ channelNames: {}, labels: { background: 0 }, numTraining: 0 }), /channel_names" is empty/)
}))

test('caseName and the volume extensions have one home, re-exported by eval/cases', () => {
  assert.equal(caseName('/x/case_001.nii.gz'), 'case_001')
  assert.equal(caseName('scan.NRRD'), 'scan')
  assert.equal(evalCaseName, caseName)
  assert.equal(VOLUME_FILE_EXTENSIONS, VOLUME_EXTENSIONS)
})
