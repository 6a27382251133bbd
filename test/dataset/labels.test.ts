import { test } from 'node:test'
import assert from 'node:assert/strict'
import { labelKind, labelSetFrom, LABELS } from '../../src/dataset/index.js'
import { NodalError } from '../../src/errors.js'

test("nodal's own labels: benign 1, malignant 2, no ignore", () => {
  const set = labelSetFrom({ labels: LABELS })
  assert.deepEqual([...set.names], [[0, 'background'], [1, 'benign_node'], [2, 'malignant_node']])
  assert.deepEqual(set, { names: set.names, ignore: null, foreground: [1, 2], malignant: [2], benign: [1] })
})

test('the label named "ignore" is nnU-Net\'s ignore label, kept out of the foreground', () => {
  const set = labelSetFrom({ labels: { background: 0, LN: 1, GTVn: 2, liver: 3, ignore: 4 } })
  assert.equal(set.ignore, 4)
  assert.deepEqual(set.foreground, [1, 2, 3])
  assert.deepEqual(set.malignant, [2])
  assert.deepEqual(set.benign, [1])
  assert.equal(set.names.get(4), 'ignore')
})

test('malignant and benign are read from label names', () => {
  for (const name of ['malignant_node', 'malignant', 'GTVn', 'GTV-N', 'metastatic lymph node', 'tumour', 'Lymph node (positive)']) {
    assert.equal(labelKind(name), 'malignant', name)
  }
  for (const name of ['benign_node', 'LN', 'lymph_node', 'lymph nodes', 'non-malignant node', 'node_negative']) {
    assert.equal(labelKind(name), 'benign', name)
  }
  for (const name of ['background', 'liver', 'lung', 'ignore', 'LNx_region']) assert.equal(labelKind(name), null, name)
})

test('background 0 is named even when dataset.json leaves it out; integer strings are accepted', () => {
  const set = labelSetFrom({ labels: { node: '1' } })
  assert.deepEqual([...set.names], [[0, 'background'], [1, 'node']])
})

test('regions, bad values and one value named twice are refused', () => {
  const refused = (labels: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => labelSetFrom({ labels }, 'x/dataset.json'), (e: unknown) => e instanceof NodalError && e.code === 'bad-dataset' && pattern.test(e.message))
  refused({ background: 0, whole: [1, 2], core: 2 }, /^x\/dataset\.json: label "whole" is an nnU-Net region \(\[1,2\]\); region-based labels are not supported yet$/)
  refused({ background: 0, node: 1.5 }, /label "node" has value 1\.5/)
  refused({ background: 0, node: -1 }, /label "node" has value -1/)
  refused({ background: 0, a: 1, b: 1 }, /labels "a" and "b" both have value 1/)
})
