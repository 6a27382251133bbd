import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readDataset, verifyDataset } from '../../src/dataset/index.js'
import { withDataset } from '../../src/phantom/dataset.js'
import { tempDir } from '../helpers.js'
import { volume } from './make.js'

test("phantom's dataset writer produces a dataset that readDataset and verifyDataset accept", async () => {
  const tmp = tempDir('nodal-writer-')
  try {
    const out = join(tmp.path, 'Dataset001')
    await withDataset(out, (w) => {
      for (const name of ['chest_000', 'chest_001']) {
        w.writeCase({ name, channels: [volume((n) => n), volume(() => 5)], labels: volume((n) => n % 3), instances: volume((n) => n % 4), record: { instances: {} } })
      }
      w.finish({ 0: 'CT', 1: 'PET' }, { name: 'test', description: 'tiny', nodal: { seed: 1 } })
    })
    const ds = readDataset(out)
    assert.deepEqual(ds.json, {
      channel_names: { 0: 'CT', 1: 'PET' }, labels: { background: 0, benign_node: 1, malignant_node: 2 },
      numTraining: 2, file_ending: '.nii.gz', name: 'test', description: 'tiny', nodal: { seed: 1 },
    })
    assert.deepEqual(ds.cases.map((c) => [c.name, c.images.length, !!c.label, !!c.instances]), [['chest_000', 2, true, true], ['chest_001', 2, true, true]])
    assert.deepEqual([ds.labels.benign, ds.labels.malignant], [[1], [2]])
    const checks = await verifyDataset(ds)
    assert.deepEqual(checks.get('chest_001')!.labelValues, [0, 1, 2])
  } finally {
    tmp.cleanup()
  }
})
