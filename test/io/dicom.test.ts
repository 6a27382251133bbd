import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readVolume } from '../../src/io/index.js'
import { listSeries } from '../../src/io/dicom/series.js'
import { NodalError } from '../../src/errors.js'
import { DEBIAN_PYTHON, fixture, hasCommand, hasPythonModules, tempDir } from '../helpers.js'

const skip = hasPythonModules('pydicom', 'numpy') ? false : 'Debian python3-pydicom not installed'

interface SeriesSpec {
  rows?: number; cols?: number; positions: number[][]; orientation?: number[]; pixel_spacing?: number[]
  modality?: string; slope?: number; intercept?: number; series_uid?: string; names?: string
  instance_numbers?: string; slice_thickness?: number; pet?: Record<string, unknown>; description?: string; signed?: boolean
}

function makeSeries(out: string, spec: SeriesSpec): void {
  execFileSync(DEBIAN_PYTHON, [fixture('make_dicom_series.py'), JSON.stringify({ out, ...spec })])
}

/** Stored value the fixture writes at (slice index in `positions`, row, column). */
const stored = (k: number, r: number, c: number) => ((k * 7 + r * 3 + c) % 2000) - 1000

const zPositions = (n: number, dz: number, z0 = 0) => Array.from({ length: n }, (_, k) => [-50, -60, z0 + k * dz])

test('slices are ordered by position along the normal, not by file name or instance number', { skip }, async () => {
  const tmp = tempDir()
  try {
    // positions listed top-down (descending z) with shuffled file names and reversed instance numbers
    const positions = zPositions(6, -1.25, 20)
    makeSeries(tmp.path, { positions, names: 'shuffled', instance_numbers: 'reversed', slice_thickness: 2.5, slope: 1, intercept: -1024 })
    const vol = await readVolume(tmp.path)
    assert.deepEqual(vol.shape, [20, 16, 6])
    assert.deepEqual(vol.spacing, [0.5, 0.75, 1.25], 'slice spacing from positions (1.25), not SliceThickness (2.5)')
    assert.deepEqual(vol.origin, [-50, -60, 20 - 5 * 1.25], 'origin at the lowest slice')
    assert.deepEqual(vol.axes, [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert.equal(vol.meta.modality, 'CT')
    // output slice z holds input slice (5 - z); HU = stored - 1024
    for (const [i, j, z] of [[0, 0, 0], [19, 15, 5], [3, 7, 2]]) {
      assert.equal(vol.at(i, j, z), stored(5 - z, j, i) - 1024)
    }
  } finally {
    tmp.cleanup()
  }
})

test('oblique orientation is kept; rescale slope gives float values', { skip }, async () => {
  const tmp = tempDir()
  try {
    const c = Math.cos(0.4), s = Math.sin(0.4)
    const orientation = [c, s, 0, 0, 0, -1] // rows run obliquely in the axial plane, columns run inferior
    const n = [-s, c, 0] // slice normal = row x col = (s*(-1) - 0, 0 - c*(-1), 0)
    const positions = [0, 1, 2, 3].map((k) => [10 + 3 * k * n[0], 20 + 3 * k * n[1], 30])
    makeSeries(tmp.path, { positions, orientation, slope: 0.5, intercept: 10, modality: 'MR' })
    const vol = await readVolume(tmp.path)
    assert.equal(vol.meta.modality, 'MR')
    assert.equal(vol.dtype, 'float32')
    const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) < 1e-9)
    assert.ok(close(vol.axes[0], [c, s, 0]), `row axis ${vol.axes[0]}`)
    assert.ok(close(vol.axes[1], [0, 0, -1]))
    assert.ok(close(vol.axes[2], [-s, c, 0]))
    assert.ok(Math.abs(vol.spacing[2] - 3) < 1e-9)
    assert.equal(vol.at(4, 5, 2), stored(2, 5, 4) * 0.5 + 10)
    // world position of voxel (i,j,k) by hand: IPP_k + i*colSpacing*row + j*rowSpacing*col
    const w = vol.indexToWorld(2, 3, 1)
    const expected = [10 + 3 * n[0] + 2 * 0.5 * c, 20 + 3 * n[1] + 2 * 0.5 * s, 30 - 3 * 0.75]
    assert.ok(close(w, expected), `${w} vs ${expected}`)
  } finally {
    tmp.cleanup()
  }
})

test('several series in one folder: listed, largest CT chosen by default, any chosen by UID', { skip }, async () => {
  const tmp = tempDir()
  try {
    makeSeries(join(tmp.path, 'a'), { positions: zPositions(3, 2), series_uid: '1.2.3.1', modality: 'CT', description: 'small CT' })
    makeSeries(join(tmp.path, 'b'), { positions: zPositions(5, 2), series_uid: '1.2.3.2', modality: 'CT', description: 'big CT' })
    makeSeries(join(tmp.path, 'c'), { positions: zPositions(8, 2), series_uid: '1.2.3.3', modality: 'MR', description: 'MR' })
    const listed = listSeries(tmp.path)
    assert.deepEqual(listed.map((s) => s.seriesInstanceUid), ['1.2.3.3', '1.2.3.2', '1.2.3.1'])
    const def = await readVolume(tmp.path)
    assert.equal(def.meta.seriesInstanceUid, '1.2.3.2')
    assert.equal((def.meta.otherSeries as unknown[]).length, 2)
    const mr = await readVolume(tmp.path, { seriesUid: '1.2.3.3' })
    assert.equal(mr.shape[2], 8)
    await assert.rejects(readVolume(tmp.path, { seriesUid: '9.9' }), /has no series 9\.9/)
  } finally {
    tmp.cleanup()
  }
})

test('uneven slice gaps and gantry tilt are reported, not silently resampled', { skip }, async () => {
  const tmp = tempDir()
  try {
    makeSeries(join(tmp.path, 'gap'), { positions: [[0, 0, 0], [0, 0, 2], [0, 0, 4], [0, 0, 8]] })
    await assert.rejects(readVolume(join(tmp.path, 'gap')), (e: NodalError) => e.code === 'uneven-slices' && /2\.000 to 4\.000 mm/.test(e.message))
    // tilt: each slice shifts 0.5 mm in y per 2 mm in z with axial orientation
    makeSeries(join(tmp.path, 'tilt'), { positions: [0, 1, 2, 3].map((k) => [0, 0.5 * k, 2 * k]) })
    await assert.rejects(readVolume(join(tmp.path, 'tilt')), (e: NodalError) => e.code === 'gantry-tilt' && /14\.04°/.test(e.message))
    makeSeries(join(tmp.path, 'dup'), { positions: [[0, 0, 0], [0, 0, 0], [0, 0, 2]] })
    await assert.rejects(readVolume(join(tmp.path, 'dup')), (e: NodalError) => e.code === 'duplicate-slices')
  } finally {
    tmp.cleanup()
  }
})

test('PET is converted to SUVbw from dose, weight and decay, and the factor is reported', { skip }, async () => {
  const tmp = tempDir()
  try {
    // 370 MBq F-18 injected at 10:00, series at 11:00, 80 kg, stored values scaled by 2.5 Bq/ml
    const pet = { weight_kg: 80, dose_bq: 370e6, half_life_s: 6586.2, start_time: '100000', series_time: '110000' }
    makeSeries(tmp.path, { positions: zPositions(3, 4), modality: 'PT', slope: 2.5, intercept: 0, pet, signed: false })
    const vol = await readVolume(tmp.path)
    const decayed = 370e6 * Math.pow(2, -3600 / 6586.2)
    const factor = (80 * 1000) / decayed
    const suv = vol.meta.suv as { converted: boolean; factor: number }
    assert.equal(suv.converted, true)
    assert.ok(Math.abs(suv.factor - factor) / factor < 1e-12)
    const bqml = (((0 * 7 + 2 * 3 + 5) % 2000)) * 2.5 // unsigned stored values are not shifted
    assert.ok(Math.abs(vol.at(5, 2, 0) - bqml * factor) < 1e-4 * bqml * factor)
    const raw = await readVolume(tmp.path, { petRaw: true })
    assert.equal(raw.at(5, 2, 0), bqml)
  } finally {
    tmp.cleanup()
  }
})

const compressors: [string, string, (src: string, dst: string) => string[]][] = [
  ['JPEG lossless (dcmcjpeg)', 'dcmcjpeg', (s, d) => ['dcmcjpeg', '+e1', s, d]],
  ['RLE (dcmcrle)', 'dcmcrle', (s, d) => ['dcmcrle', s, d]],
  ['JPEG 2000 lossless (gdcmconv)', 'gdcmconv', (s, d) => ['gdcmconv', '--j2k', '--lossless', s, d]],
  ['JPEG-LS lossless (gdcmconv)', 'gdcmconv', (s, d) => ['gdcmconv', '--jpegls', '--lossless', s, d]],
]

for (const [name, tool, command] of compressors) {
  test(`compressed DICOM: ${name} decodes equal to the uncompressed original`, { skip: skip || (!hasCommand(tool) && `${tool} not installed`) }, async () => {
    const tmp = tempDir()
    try {
      const plain = join(tmp.path, 'plain'), packed = join(tmp.path, 'packed')
      makeSeries(plain, { positions: zPositions(4, 1.5), rows: 24, cols: 28, intercept: -1024 })
      mkdirSync(packed)
      for (const f of readdirSync(plain)) {
        const [cmd, ...args] = command(join(plain, f), join(packed, f))
        execFileSync(cmd, args)
      }
      const a = await readVolume(plain)
      const b = await readVolume(packed)
      const header = execFileSync('dcmdump', ['+P', '0002,0010', join(packed, readdirSync(packed)[0])], { encoding: 'utf8' })
      assert.ok(!/LittleEndianExplicit|1\.2\.840\.10008\.1\.2\.1\]/.test(header), `file was not compressed: ${header}`)
      assert.deepEqual(b.shape, a.shape)
      assert.deepEqual(b.origin, a.origin)
      assert.ok(a.data.every((v, i) => v === b.data[i]), 'voxels differ')
    } finally {
      tmp.cleanup()
    }
  })
}

test('a folder holding DICOM files but no image series is a clear error', { skip }, async () => {
  const tmp = tempDir()
  try {
    makeSeries(join(tmp.path, 'src'), { positions: zPositions(1, 1) })
    const f = readdirSync(join(tmp.path, 'src'))[0]
    mkdirSync(join(tmp.path, 'noimg'))
    // strip the image geometry: what remains is a DICOM object without pixels
    execFileSync('dcmodify', ['-nb', '-ea', '(0020,0032)', '-ea', '(0020,0037)', '-ea', '(7fe0,0010)', '-ea', '(0028,0010)', join(tmp.path, 'src', f)])
    cpSync(join(tmp.path, 'src', f), join(tmp.path, 'noimg', f))
    await assert.rejects(readVolume(join(tmp.path, 'noimg')), /contains no DICOM image series/)
  } finally {
    tmp.cleanup()
  }
})

test('a truncated slice (pixel data shorter than Rows x Columns x bits) is refused, naming the file; dcmdump agrees', { skip }, async () => {
  const tmp = tempDir()
  try {
    const dir = join(tmp.path, 'series')
    makeSeries(dir, { positions: zPositions(4, 2), rows: 32, cols: 32 })
    const victim = join(dir, readdirSync(dir).sort()[2]!)
    const bytes = readFileSync(victim)
    writeFileSync(victim, bytes.subarray(0, bytes.length - 300))
    await assert.rejects(readVolume(dir), (e: unknown) => e instanceof NodalError && e.message.includes(victim) && /truncated pixel data: \d+ of 2048 bytes/.test(e.message))
    if (hasCommand('dcmdump')) {
      // the independent judge: DCMTK reports the premature end too
      const judged = spawnSync('dcmdump', [victim], { encoding: 'utf8' })
      assert.match(judged.stderr, /premature end of stream/i)
    }
  } finally {
    tmp.cleanup()
  }
})
