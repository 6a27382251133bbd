import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readLabelNames } from '../../src/io/rtstruct/structures.js'
import { segmentCodes } from '../../src/io/seg/write.js'
import { tempDir } from '../helpers.js'

function names(json: unknown): Record<number, string> {
  const tmp = tempDir()
  try {
    const file = join(tmp.path, 'names.json')
    writeFileSync(file, JSON.stringify(json))
    return Object.fromEntries(readLabelNames(file))
  } finally {
    tmp.cleanup()
  }
}

test('dataset label names become TG-263 names for nodes (GTVn, LN); other names and explicit maps are kept', () => {
  assert.deepEqual(names({ labels: { background: 0, benign_node: 1, malignant_node: 2 } }), { 1: 'LN', 2: 'GTVn' })
  assert.deepEqual(names({ labels: { background: 0, 'lymph node': 1, 'metastatic lymph node': 2, liver: 3 } }), { 1: 'LN', 2: 'GTVn', 3: 'liver' })
  // two labels that would both be LN keep their own names
  assert.deepEqual(names({ labels: { background: 0, benign_node: 1, lymph_node: 2 } }), { 1: 'benign_node', 2: 'lymph_node' })
  assert.deepEqual(names({ 1: 'benign_node', 2: 'Tumour' }), { 1: 'benign_node', 2: 'Tumour' })
})

test('SEG codes follow the TG-263 names: GTVn a neoplasm in a lymph node, LN a lymph node', () => {
  assert.deepEqual(segmentCodes('GTVn_03'), segmentCodes('GTVn'))
  assert.match(JSON.stringify(segmentCodes('GTVn')), /108369006/)
  assert.match(JSON.stringify(segmentCodes('GTVn')), /59441001/)
  assert.match(JSON.stringify(segmentCodes('LN_02')), /59441001/)
  assert.doesNotMatch(JSON.stringify(segmentCodes('liver')), /59441001/)
})
