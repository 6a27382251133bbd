import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { checkDatasetFolder, DatasetProblem, formatProblems, formatSummary } from '../../src/dataset/check-dataset.js'
import { NodalError } from '../../src/errors.js'
import { Axes, IDENTITY_AXES, Vec3, Volume } from '../../src/volume/volume.js'
import { tempDir } from '../helpers.js'
import { makeDataset, put } from './make.js'

const SHAPE: Vec3 = [8, 8, 3]
const SPACING: Vec3 = [1, 1.5, 2]
const RAS: Axes = [[-1, 0, 0], [0, -1, 0], [0, 0, 1]]

/**
 * The nodes every label gets, as inclusive voxel boxes [x0, x1, y0, y1, z0, z1] with their instance
 * id. On a slice a one-voxel-wide line measures its length by the voxel's width across it, so with
 * spacing 1 x 1.5 mm: the x-line is 1.5 mm across, the y-line 1 mm.
 */
interface Node { id: number; value: number; box: number[] }
const BENIGN_X_LINE: Node = { id: 1, value: 1, box: [1, 4, 1, 1, 0, 1] } // 8 voxels, short axis 1.5 mm
const BENIGN_Y_LINE: Node = { id: 2, value: 1, box: [6, 6, 3, 5, 1, 1] } // 3 voxels, short axis 1 mm
const MALIGNANT_LINE: Node = { id: 3, value: 2, box: [1, 3, 6, 6, 2, 2] } // 3 voxels, short axis 1.5 mm

interface CaseOptions {
  /** Makes the image's voxels: cases with the same seed have identical images. */
  seed: number
  spacing?: Vec3
  axes?: Axes
  malignant?: boolean
  /** Writes instancesTr/<case>.nii.gz and its record. */
  instances?: boolean
  labelOrigin?: Vec3
  labelAxes?: Axes
  editLabel?: (data: Uint8Array) => void
}

function fillBox(data: Uint8Array, [x0, x1, y0, y1, z0, z1]: number[], value: number): void {
  for (let z = z0; z <= z1; z++) for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[x + SHAPE[0] * (y + SHAPE[1] * z)] = value
}

function writeCase(root: string, name: string, o: CaseOptions): void {
  const spacing = o.spacing ?? SPACING, axes = o.axes ?? IDENTITY_AXES
  const n = SHAPE[0] * SHAPE[1] * SHAPE[2]
  const ct = new Int16Array(n).map((_, i) => ((i * 7 + o.seed * 131) % 1000) - 500)
  put(root, `imagesTr/${name}_0000.nii.gz`, new Volume(ct, SHAPE, spacing, [0, 0, 0], axes))
  put(root, `imagesTr/${name}_0001.nii.gz`, new Volume(new Float32Array(n).fill(o.seed), SHAPE, spacing, [0, 0, 0], axes))
  const nodes = [BENIGN_X_LINE, BENIGN_Y_LINE, ...(o.malignant ? [MALIGNANT_LINE] : [])]
  const label = new Uint8Array(n), ids = new Uint8Array(n)
  for (const node of nodes) {
    fillBox(label, node.box, node.value)
    fillBox(ids, node.box, node.id)
  }
  o.editLabel?.(label)
  put(root, `labelsTr/${name}.nii.gz`, new Volume(label, SHAPE, spacing, o.labelOrigin ?? [0, 0, 0], o.labelAxes ?? axes))
  if (o.instances) {
    put(root, `instancesTr/${name}.nii.gz`, new Volume(ids, SHAPE, spacing, [0, 0, 0], axes))
    // instance 3 has no site of its own and takes the record's
    const instances = { 1: { class: 'benign', site: 'chest' }, 2: { class: 'benign', site: 'neck' }, ...(o.malignant ? { 3: { class: 'malignant' } } : {}) }
    put(root, `instancesTr/${name}.json`, JSON.stringify({ case: name, site: 'chest', instances }))
  }
}

function writeDatasetJson(root: string, cases: number): void {
  put(root, 'dataset.json', JSON.stringify({
    channel_names: { 0: 'CT', 1: 'PET' },
    labels: { background: 0, benign_node: 1, malignant_node: 2 },
    numTraining: cases,
    file_ending: '.nii.gz',
  }))
}

function makeCleanDataset(root: string): void {
  writeDatasetJson(root, 3)
  writeCase(root, 'c0', { seed: 0, malignant: true, instances: true })
  writeCase(root, 'c1', { seed: 1, instances: true })
  writeCase(root, 'c2', { seed: 2, instances: true })
}

const at = (x: number, y: number, z: number) => x + SHAPE[0] * (y + SHAPE[1] * z)

/** One defect per case (and a duplicated pair), with three clean cases for the majority. */
const DEFECTS: Record<string, CaseOptions> = {
  clean1: { seed: 1 },
  clean2: { seed: 2 },
  clean3: { seed: 3 },
  origin: { seed: 4, labelOrigin: [0, 0, 1] },
  direction: { seed: 5, labelAxes: [[0, 1, 0], [1, 0, 0], [0, 0, 1]] },
  undeclared: { seed: 6, editLabel: (l) => { l[at(7, 7, 2)] = 7 } },
  empty: { seed: 7, editLabel: (l) => l.fill(0) },
  full: { seed: 8, editLabel: (l) => l.fill(1) },
  speck: { seed: 9, editLabel: (l) => { l[at(7, 7, 0)] = 2 } },
  dupA: { seed: 10 },
  dupB: { seed: 10 },
  thick: { seed: 11, spacing: [1, 1.5, 10] },
  flipped: { seed: 12, axes: RAS },
  unreadable: { seed: 13 },
}

function makeDefectDataset(root: string): void {
  writeDatasetJson(root, Object.keys(DEFECTS).length)
  for (const [name, o] of Object.entries(DEFECTS)) writeCase(root, name, o)
  put(root, 'labelsTr/unreadable.nii.gz', 'not a NIfTI file')
}

function find(problems: DatasetProblem[], name: string): DatasetProblem[] {
  return problems.filter((p) => p.case === name)
}

test('a clean dataset has no problems, and its summary counts and measures the nodes', async () => {
  const tmp = tempDir('nodal-dscheck-')
  try {
    makeCleanDataset(tmp.path)
    const progress: [number, number][] = []
    const { problems, summary } = await checkDatasetFolder(tmp.path, { onProgress: (done, total) => progress.push([done, total]) })
    assert.deepEqual(problems, [])
    assert.deepEqual(progress, [[1, 3], [2, 3], [3, 3]])
    assert.deepEqual(summary, {
      cases: 3,
      channels: ['CT', 'PET'],
      labels: { background: 0, benign_node: 1, malignant_node: 2 },
      by_class: {
        benign_node: { cases_with: 3, nodes: 6, short_axis_mm: { min: 1, median: 1.25, max: 1.5 } },
        malignant_node: { cases_with: 1, nodes: 1, short_axis_mm: { min: 1.5, median: 1.5, max: 1.5 } },
      },
      by_site: { chest: { benign_node: 3, malignant_node: 1 }, neck: { benign_node: 3 } },
      spacing_mm: { min: [1, 1.5, 2], median: [1, 1.5, 2], max: [1, 1.5, 2] },
    })
    assert.equal(formatProblems(problems), 'no problems')
    const text = formatSummary(summary)
    assert.match(text, /^3 cases, channels: CT, PET$/m)
    assert.match(text, /^benign_node: 6 nodes in 3 cases, short axis min 1, median 1.25, max 1.5 mm$/m)
    assert.match(text, /^site neck: 3 benign_node$/m)
  } finally {
    tmp.cleanup()
  }
})

test('each planted defect is found, on its case and by its check, and the other cases stay clean', async () => {
  const tmp = tempDir('nodal-dscheck-')
  try {
    makeDefectDataset(tmp.path)
    const { problems, summary } = await checkDatasetFolder(tmp.path)
    const found = problems.map((p) => `${p.case} ${p.check} ${p.severity}`).sort()
    assert.deepEqual(found, [
      'direction grid error',
      'dupB duplicate error',
      'empty empty-label warning',
      'flipped orientation-outlier warning',
      'full all-foreground error',
      'origin grid error',
      'speck small-components warning',
      'thick spacing-outlier warning',
      'undeclared label-values error',
      'unreadable unreadable error',
    ])
    const message = (name: string) => find(problems, name)[0].message
    assert.equal(message('origin'), 'labelsTr/origin.nii.gz: not on the grid of imagesTr/origin_0000.nii.gz (origin 0,0,1 vs 0,0,0 mm)')
    assert.match(message('direction'), /^labelsTr\/direction\.nii\.gz: not on the grid of .* \(direction 0,1,0 1,0,0 0,0,1 vs 1,0,0 0,1,0 0,0,1\)$/)
    assert.match(message('undeclared'), /^value 7 not declared in dataset\.json \(declared: 0 background, 1 benign_node, 2 malignant_node\)$/)
    assert.match(message('speck'), /^1 connected component under 3 voxels: 1 malignant_node \(1 voxel\)$/)
    assert.equal(message('dupB'), 'same image as case "dupA" (channel 0 voxels identical)')
    assert.equal(message('thick'), 'spacing 1,1.5,10 mm: axis 2 is 5x the median 2 mm')
    assert.match(message('flipped'), /^orientation RAS .* while 13 of 14 cases are LPS$/)
    assert.match(message('unreadable'), /^labelsTr\/unreadable\.nii\.gz: cannot be read/)
    // problems come in case order (readDataset's name order)
    const order = problems.map((p) => p.case)
    assert.deepEqual(order, [...order].sort())
    assert.equal(summary.cases, 14)
    assert.deepEqual(summary.spacing_mm, { min: [1, 1.5, 2], median: [1, 1.5, 2], max: [1, 1.5, 10] })
    assert.deepEqual(summary.by_site, {})

    const table = formatProblems(problems).split('\n')
    assert.equal(table.length, problems.length + 1)
    assert.match(table[0], /^case +check +severity +message$/)
    const messageColumn = table[0].indexOf('message')
    assert.ok(table.slice(1).every((row, i) => row.slice(messageColumn) === problems[i].message), table.join('\n'))
  } finally {
    tmp.cleanup()
  }
})

test('minComponentVoxels sets the size below which components are reported', async () => {
  const tmp = tempDir('nodal-dscheck-')
  try {
    makeCleanDataset(tmp.path)
    const { problems } = await checkDatasetFolder(tmp.path, { minComponentVoxels: 4 })
    // the 3-voxel benign line of every case, and c0's 3-voxel malignant line
    assert.deepEqual(problems.map((p) => `${p.case} ${p.check}`), ['c0 small-components', 'c1 small-components', 'c2 small-components'])
    assert.equal(problems[0].message, '2 connected components under 4 voxels: 1 benign_node (3 voxels), 1 malignant_node (3 voxels)')
  } finally {
    tmp.cleanup()
  }
})

test('a folder that is not a dataset, or misses a channel file, is a bad-dataset error', async () => {
  const tmp = tempDir('nodal-dscheck-')
  try {
    const isBadDataset = (pattern: RegExp) => (e: unknown) => e instanceof NodalError && e.code === 'bad-dataset' && pattern.test(e.message)
    await assert.rejects(checkDatasetFolder(tmp.path), isBadDataset(/dataset\.json: no such file/))
    makeDataset(tmp.path)
    rmSync(join(tmp.path, 'imagesTr', 'b_0001.nii.gz'))
    await assert.rejects(checkDatasetFolder(tmp.path), isBadDataset(/b_0001\.nii\.gz: missing \(case "b" has no channel 1\)/))
  } finally {
    tmp.cleanup()
  }
})
