import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readVolume, writeVolume } from '../../src/io/index.js'
import { readRtstruct } from '../../src/io/rtstruct/read.js'
import { resampleTo } from '../../src/volume/resample.js'
import { Axes, Volume } from '../../src/volume/volume.js'
import { hasCommand, runCli, sharedData, tempDir } from '../helpers.js'
import { dice, makeScene, Scene, sceneAxes } from './scene.js'

const noPlastimatch = hasCommand('plastimatch') ? false : 'plastimatch not installed'
const noDciodvfy = hasCommand('dciodvfy') ? false : 'dciodvfy (dicom3tools) not installed'

/** The source labels on another volume's grid, by world coordinates. */
const onGridOf = (labels: Volume, grid: Volume) => resampleTo(labels, grid, { interpolation: 'nearest' })

async function exportRtstruct(dir: string, scene: Scene, extra: string[] = []): Promise<string> {
  const names = join(dir, 'names.json')
  writeFileSync(names, JSON.stringify(Object.fromEntries([...scene.structures].map(([l, [name]]) => [l, name]))))
  const out = join(dir, 'rt.dcm')
  const r = runCli(['export', scene.labelsPath, '--reference', scene.ctDir, '--format', 'rtstruct', '--out', out, '--names', names, ...extra])
  assert.equal(r.code, 0, r.stderr)
  return out
}

/** Dice per structure of plastimatch's rasterisation of `rt` against the source labels. */
async function plastimatchDice(dir: string, rt: string, scene: Scene): Promise<Map<string, number>> {
  const prefix = join(dir, 'plastimatch')
  // Nested contours are holes (even-odd), as planning systems read them; plastimatch ORs them
  // unless told to XOR.
  execFileSync('plastimatch', ['convert', '--input', rt, '--referenced-ct', scene.ctDir, '--output-prefix', prefix,
    '--prefix-format', 'nii.gz', '--xor-contours'], { stdio: 'pipe' })
  const out = new Map<string, number>()
  for (const [label, [name]] of scene.structures) {
    const theirs = await readVolume(join(prefix, `${name}.nii.gz`))
    const source = onGridOf(scene.labels, theirs)
    out.set(name, dice(source.data.map((v) => (v === label ? 1 : 0)), theirs.data))
  }
  return out
}

function assertDiceThresholds(scene: Scene, scores: Map<string, number>, what: string): void {
  for (const [, [name, diameter]] of scene.structures) {
    const d = scores.get(name)!
    const need = diameter > 30 ? 0.98 : 0.95
    assert.ok(d >= need, `${what}: ${name} (${diameter} mm) Dice ${d.toFixed(4)} < ${need}`)
  }
}

const cases: Array<[string, Axes]> = [
  ['axial, ascending slices', sceneAxes(0, false)],
  ['axial, descending slices', sceneAxes(0, true)],
  ['oblique (20 degrees), descending slices', sceneAxes(20, true)],
]

for (const [what, axes] of cases) {
  test(`RTSTRUCT written by nodal: plastimatch rasterises it back onto the CT (${what})`, { skip: noPlastimatch }, async () => {
    const tmp = tempDir()
    try {
      const scene = await makeScene(tmp.path, axes)
      const rt = await exportRtstruct(tmp.path, scene)
      const scores = await plastimatchDice(tmp.path, rt, scene)
      console.log(`# plastimatch Dice (${what}): ${[...scores].map(([n, d]) => `${n} ${d.toFixed(4)}`).join(', ')}`)
      assertDiceThresholds(scene, scores, what)
    } finally {
      tmp.cleanup()
    }
  })

  test(`RTSTRUCT round trip inside nodal is exact (${what})`, async () => {
    const tmp = tempDir()
    try {
      const scene = await makeScene(tmp.path, axes)
      const rt = await exportRtstruct(tmp.path, scene)
      const back = join(tmp.path, 'back.nii.gz')
      const r = runCli(['convert', rt, back, '--reference', scene.ctDir])
      assert.equal(r.code, 0, r.stderr)
      const mine = await readVolume(back)
      const source = onGridOf(scene.labels, mine)
      for (let n = 0; n < mine.data.length; n++) {
        if (mine.data[n] !== source.data[n]) assert.fail(`voxel ${n}: ${mine.data[n]} after the round trip, ${source.data[n]} before`)
      }
    } finally {
      tmp.cleanup()
    }
  })
}

test('RTSTRUCT content: ROIs, types, colours, frame of reference and per-slice image references', { skip: noDciodvfy }, async () => {
  const tmp = tempDir()
  try {
    const scene = await makeScene(tmp.path)
    const rt = await exportRtstruct(tmp.path, scene)
    const v = spawnSync('dciodvfy', [rt], { encoding: 'utf8' })
    const report = v.stdout + v.stderr
    assert.doesNotMatch(report, /^Error/m, report)
    const data = readRtstruct(rt)
    assert.deepEqual(data.rois.map((r) => r.name), [...scene.structures.values()].map(([n]) => n))
    assert.deepEqual(data.rois.map((r) => r.interpretedType), ['ORGAN', 'GTV', 'ORGAN', 'ORGAN', 'GTV'])
    assert.equal(new Set(data.rois.map((r) => r.color?.join(','))).size, data.rois.length, 'a colour per ROI')
    const ct = await readVolume(scene.ctDir)
    assert.equal(data.frameOfReferenceUid, ct.meta.frameOfReferenceUid)
    const dump = execFileSync('dcmdump', ['+P', 'ReferencedSOPInstanceUID', rt], { encoding: 'utf8' })
    const referenced = new Set([...dump.matchAll(/\[([\d.]+)\]/g)].map((m) => m[1]))
    for (const uid of ct.meta.sopInstanceUids as string[]) assert.ok(referenced.has(uid), `slice ${uid} is referenced`)
  } finally {
    tmp.cleanup()
  }
})

test('--per-node and --instances write one ROI per node, numbered per class', async () => {
  const tmp = tempDir()
  try {
    const scene = await makeScene(tmp.path)
    const rt = await exportRtstruct(tmp.path, scene, ['--per-node'])
    assert.deepEqual(readRtstruct(rt).rois.map((r) => r.name),
      ['LN_large_01', 'GTVn_shell_01', 'LN_medium_01', 'LN_small_01', 'GTVn_islands_01', 'GTVn_islands_02'])
    const back = join(tmp.path, 'back.nii.gz'), nodes = join(tmp.path, 'nodes.nii.gz')
    const r = runCli(['convert', rt, back, '--reference', scene.ctDir, '--roi', 'GTVn_islands_02', '--instances', nodes])
    assert.equal(r.code, 0, r.stderr)
    const table = JSON.parse(readFileSync(join(tmp.path, 'nodes.json'), 'utf8'))
    assert.deepEqual(table, { instances: { 1: { label: 1, name: 'GTVn_islands_02' } } })
    // all nodes as instances, then back to an RTSTRUCT with one ROI per instance named by its class
    const all = join(tmp.path, 'all.nii.gz'), allNodes = join(tmp.path, 'allnodes.nii.gz')
    assert.equal(runCli(['convert', rt, all, '--reference', scene.ctDir, '--instances', allNodes]).code, 0)
    const classes = join(tmp.path, 'classes.json')
    writeFileSync(classes, JSON.stringify({ instances: { 1: 'LN', 2: 'LN', 3: 'LN', 4: 'LN', 5: 'GTVn', 6: { name: 'GTVn' } } }))
    const again = join(tmp.path, 'again.dcm')
    const e = runCli(['export', allNodes, '--reference', scene.ctDir, '--format', 'rtstruct', '--out', again, '--instances', classes])
    assert.equal(e.code, 0, e.stderr)
    assert.deepEqual(readRtstruct(again).rois.map((r) => r.name), ['LN_01', 'LN_02', 'LN_03', 'LN_04', 'GTVn_01', 'GTVn_02'])
    // nodal phantom's own instancesTr record ("class": "benign" / "malignant") is read as it is written (was label_NaN_*)
    const record = join(tmp.path, 'record.json')
    const cls = (c: string) => ({ class: c, site: 'chest', station: '4R', short_axis_mm: 8 })
    writeFileSync(record, JSON.stringify({ case: 'x', instances: { 1: cls('benign'), 2: cls('benign'), 3: cls('benign'), 4: cls('benign'), 5: cls('malignant'), 6: cls('malignant') } }))
    const fromRecord = join(tmp.path, 'record.dcm')
    const p = runCli(['export', allNodes, '--reference', scene.ctDir, '--format', 'rtstruct', '--out', fromRecord, '--instances', record])
    assert.equal(p.code, 0, p.stderr)
    const names = readRtstruct(fromRecord).rois.map((r) => r.name)
    assert.ok(names.every((n) => !/NaN/.test(n)), names.join(', '))
    assert.deepEqual(names.map((n) => n.replace(/_\d+$/, '')), ['LN', 'LN', 'LN', 'LN', 'GTVn', 'GTVn'])
    // one colour scheme everywhere (src/colours.ts): benign green, malignant red, shades telling nodes apart
    const colours = readRtstruct(fromRecord).rois.map((r) => r.color!)
    for (const [i, [red, green]] of colours.entries()) assert.ok(i < 4 ? green > 2 * red : red > 2 * green, `${names[i]}: ${colours[i]}`)
    assert.equal(new Set(colours.map((c) => c.join(','))).size, colours.length)
    // a class nodal cannot read is refused in one line, naming the instance
    writeFileSync(record, JSON.stringify({ instances: { 1: { class: 'weird' } } }))
    const bad = runCli(['export', allNodes, '--reference', scene.ctDir, '--format', 'rtstruct', '--out', join(tmp.path, 'bad.dcm'), '--instances', record])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /instance 1: class "weird" is neither a label number nor benign\/malignant/)
  } finally {
    tmp.cleanup()
  }
})

test('bad input: one line, exit 2, nothing written', async () => {
  const tmp = tempDir()
  try {
    const scene = await makeScene(tmp.path)
    const rt = await exportRtstruct(tmp.path, scene)
    const outDir = join(tmp.path, 'out')
    const expectRefusal = (args: string[], pattern: RegExp) => {
      const r = runCli(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, pattern)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.ok(!existsSync(outDir) || readdirSync(outDir).length === 0, 'nothing written')
    }
    // a label map far from the reference (shifted by 1 m)
    const far = join(tmp.path, 'far.nii.gz')
    const labels = await readVolume(scene.labelsPath)
    labels.origin[2] += 1000
    await writeVolume(labels, far)
    expectRefusal(['export', far, '--reference', scene.ctDir, '--format', 'rtstruct', '--out', join(outDir, 'rt.dcm')], /does not overlap the reference/)
    // a folder with no CT/MR/PET series (only the RTSTRUCT)
    const rtOnly = join(tmp.path, 'rtonly')
    mkdirSync(rtOnly)
    copyFileSync(rt, join(rtOnly, 'rt.dcm'))
    expectRefusal(['export', scene.labelsPath, '--reference', rtOnly, '--format', 'seg', '--out', join(outDir, 'seg.dcm')], /no CT, MR or PET/)
    expectRefusal(['convert', rt, join(outDir, 'back.nii.gz'), '--reference', rtOnly], /no CT, MR or PET/)
    // an RTSTRUCT of another scan: a new series with its own frame of reference
    const other = await makeScene(join(tmp.path, 'other'))
    expectRefusal(['convert', rt, join(outDir, 'back.nii.gz'), '--reference', other.ctDir], /Frame of Reference/)
  } finally {
    tmp.cleanup()
  }
})

test('real anatomy (41 TotalSegmentator organs on the abdomen CT): plastimatch Dice and round trips', { skip: noPlastimatch }, async () => {
  const ctNifti = sharedData('ct/abdomen_ct_3mm_sm.nii.gz'), organs = sharedData('ct/abdomen_ct_3mm_sm_organs.nii.gz')
  if (!ctNifti || !organs) return
  const tmp = tempDir()
  try {
    const ctDir = join(tmp.path, 'ct'), rt = join(tmp.path, 'rt.dcm'), seg = join(tmp.path, 'seg.dcm')
    assert.equal(runCli(['convert', ctNifti, ctDir, '--to', 'dicom']).code, 0)
    assert.equal(runCli(['export', organs, '--reference', ctDir, '--format', 'rtstruct', '--out', rt]).code, 0)
    assert.equal(runCli(['export', organs, '--reference', ctDir, '--format', 'seg', '--out', seg]).code, 0)
    const prefix = join(tmp.path, 'plastimatch')
    execFileSync('plastimatch', ['convert', '--input', rt, '--referenced-ct', ctDir, '--output-prefix', prefix, '--prefix-format', 'nii.gz', '--xor-contours'], { stdio: 'pipe' })
    const source = await readVolume(organs)
    const labels = [...new Set(source.data)].filter((v) => v !== 0)
    assert.ok(labels.length > 30)
    for (const label of labels) {
      const theirs = await readVolume(join(prefix, `label_${label}.nii.gz`))
      const d = dice(onGridOf(source, theirs).data.map((v) => (v === label ? 1 : 0)), theirs.data)
      assert.ok(d >= 0.98, `organ ${label}: Dice ${d.toFixed(4)}`)
    }
    for (const file of [rt, seg]) {
      const back = join(tmp.path, 'back.nii.gz')
      assert.equal(runCli(['convert', file, back, '--reference', ctDir]).code, 0)
      // labels come back as ROI/segment numbers in label order
      const mine = await readVolume(back)
      const expected = onGridOf(source, mine).data
      const numberOf = new Map(labels.sort((a, b) => a - b).map((l, i) => [l, i + 1]))
      const seg = file.endsWith('seg.dcm')
      for (let n = 0; n < mine.data.length; n++) {
        const want = expected[n] === 0 ? 0 : numberOf.get(expected[n])!
        if (mine.data[n] !== want) assert.fail(`${seg ? 'SEG' : 'RTSTRUCT'} round trip, voxel ${n}: ${mine.data[n]} vs ${want}`)
      }
    }
  } finally {
    tmp.cleanup()
  }
})
