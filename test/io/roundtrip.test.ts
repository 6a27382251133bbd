import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { existsSync, readdirSync } from 'node:fs'
import { readVolume, writeVolume, WRITABLE_EXTENSIONS } from '../../src/io/index.js'
import { Axes, Volume } from '../../src/volume/volume.js'
import { sharedData, tempDir } from '../helpers.js'

/** An oblique grid whose axes are not symmetric, so a transposed direction matrix cannot pass. */
function obliqueVolume(dtype: 'int16' | 'float32' | 'uint8'): Volume {
  const a = 0.35, b = 0.2
  const axes: Axes = [
    [Math.cos(a), Math.sin(a), 0],
    [-Math.sin(a) * Math.cos(b), Math.cos(a) * Math.cos(b), Math.sin(b)],
    [Math.sin(a) * Math.sin(b), -Math.cos(a) * Math.sin(b), Math.cos(b)],
  ]
  const shape: [number, number, number] = [9, 7, 5]
  const n = shape[0] * shape[1] * shape[2]
  const data = dtype === 'int16' ? new Int16Array(n) : dtype === 'uint8' ? new Uint8Array(n) : new Float32Array(n)
  for (let i = 0; i < n; i++) data[i] = dtype === 'float32' ? Math.fround(Math.sin(i) * 1000.5) : dtype === 'uint8' ? i % 251 : (i * 37) % 4000 - 1024
  return new Volume(data, shape, [0.7, 0.9, 2.5], [-120.25, 33.5, 507.75], axes)
}

function assertSameVolume(got: Volume, want: Volume, label: string, tol = 2e-5) {
  assert.deepEqual(got.shape, want.shape, `${label}: shape`)
  assert.equal(got.dtype, want.dtype, `${label}: dtype`)
  assert.ok(got.data.every((v, i) => v === want.data[i]), `${label}: voxels differ`)
  for (let d = 0; d < 3; d++) {
    assert.ok(Math.abs(got.spacing[d] - want.spacing[d]) < tol, `${label}: spacing ${d} ${got.spacing[d]} vs ${want.spacing[d]}`)
    assert.ok(Math.abs(got.origin[d] - want.origin[d]) < tol * 100, `${label}: origin ${d} ${got.origin[d]} vs ${want.origin[d]}`)
    for (let r = 0; r < 3; r++) assert.ok(Math.abs(got.axes[d][r] - want.axes[d][r]) < tol, `${label}: axis ${d}[${r}] ${got.axes[d][r]} vs ${want.axes[d][r]}`)
  }
}

test('every format pair round-trips voxels and oblique geometry', async () => {
  const tmp = tempDir()
  try {
    for (const dtype of ['int16', 'float32', 'uint8'] as const) {
      const original = obliqueVolume(dtype)
      for (const from of WRITABLE_EXTENSIONS) {
        const a = join(tmp.path, `${dtype}-src${from}`)
        await writeVolume(original, a)
        const readA = await readVolume(a)
        assertSameVolume(readA, original, `${dtype} ${from}`)
        for (const to of WRITABLE_EXTENSIONS) {
          const b = join(tmp.path, `${dtype}-${from.slice(1)}-to${to}`)
          await writeVolume(readA, b)
          assertSameVolume(await readVolume(b), original, `${dtype} ${from} -> ${to}`)
        }
      }
    }
    assert.ok(!readdirSync(tmp.path).some((f) => f.startsWith('.nodal-tmp')), 'no temporary folders left behind')
  } finally {
    tmp.cleanup()
  }
})

test('a DICOM series converts to every format with the same voxels and geometry', { skip: !sharedData('dicom/ct-3slice') && 'needs ../shared/data' }, async () => {
  const tmp = tempDir()
  try {
    const dicom = await readVolume(sharedData('dicom/ct-3slice')!)
    for (const ext of WRITABLE_EXTENSIONS) {
      const out = join(tmp.path, `ct${ext}`)
      await writeVolume(dicom, out)
      assert.ok(existsSync(out))
      assertSameVolume(await readVolume(out), dicom, `dicom -> ${ext}`)
    }
  } finally {
    tmp.cleanup()
  }
})
