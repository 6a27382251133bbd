import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readVolume, writeVolume } from '../../src/io/index.js'
import { hasPythonModules, python, tempDir } from '../helpers.js'

const canNibabel = hasPythonModules('nibabel', 'numpy')
const skipNib = canNibabel ? false : 'Debian python3-nibabel not installed'

/** A rotated (oblique, non-symmetric) RAS affine with anisotropic voxels, as nibabel would store it. */
const RAS_AFFINE = `
import numpy as np
t = 0.3
R = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
Rx = np.array([[1, 0, 0], [0, np.cos(0.2), -np.sin(0.2)], [0, np.sin(0.2), np.cos(0.2)]])
A = np.eye(4); A[:3, :3] = Rx @ R @ np.diag([0.8, 0.9, 2.5]); A[:3, 3] = [10, -20, 30]
`

/** The LPS voxel->world matrix nodal must report for a RAS affine: negate rows x and y. */
function expectedLps(A: number[][]): number[][] {
  return A.map((row, r) => (r < 2 ? row.map((v) => -v) : row))
}

function assertGeometry(vol: Awaited<ReturnType<typeof readVolume>>, lps: number[][], tol = 1e-5) {
  for (let d = 0; d < 3; d++) {
    for (let r = 0; r < 3; r++) {
      assert.ok(Math.abs(vol.axes[d][r] * vol.spacing[d] - lps[r][d]) < tol, `column ${d} row ${r}: ${vol.axes[d][r] * vol.spacing[d]} vs ${lps[r][d]}`)
    }
    assert.ok(Math.abs(vol.origin[d] - lps[d][3]) < tol, `origin ${d}`)
  }
}

test('NIfTI-1 and NIfTI-2 written by nibabel: oblique affine, scl_slope, all scalar types', { skip: skipNib }, async () => {
  const tmp = tempDir()
  try {
    const out = python(`${RAS_AFFINE}
import nibabel as nib, json, sys
d = sys.argv[1]
types = ['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'int64']
for t in types:
    data = (np.arange(4 * 5 * 6).reshape(4, 5, 6, order='F') % 100).astype(t)
    for cls, ext in ((nib.Nifti1Image, 'nii.gz'), (nib.Nifti2Image, 'nii')):
        img = cls(data, A, dtype=t); img.set_qform(A, 1); img.set_sform(A, 1)
        img.header.set_data_dtype(t)
        nib.save(img, f'{d}/{t}.{ext}')
data = np.arange(4 * 5 * 6).reshape(4, 5, 6, order='F').astype('int16')
img = nib.Nifti1Image(data, A); img.header.set_slope_inter(2.0, -5.0); nib.save(img, f'{d}/scaled.nii.gz')
print(json.dumps(A.tolist()))
`, [tmp.path])
    const A = JSON.parse(out) as number[][]
    const lps = expectedLps(A)
    for (const t of ['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'int64']) {
      for (const ext of ['nii.gz', 'nii']) {
        const vol = await readVolume(join(tmp.path, `${t}.${ext}`))
        assert.deepEqual(vol.shape, [4, 5, 6])
        assert.equal(vol.dtype, t === 'int64' ? 'int32' : t, `${t}.${ext}`)
        // x fastest: voxel (i,j,k) at i + 4*(j + 5*k) holds (i + 4j + 20k) % 100 by construction
        for (const [i, j, k] of [[0, 0, 0], [3, 0, 0], [1, 4, 0], [2, 3, 5]]) {
          assert.equal(vol.at(i, j, k), (i + 4 * j + 20 * k) % 100, `${t}.${ext} voxel ${i},${j},${k}`)
        }
        assertGeometry(vol, lps, ext === 'nii' ? 1e-9 : 1e-5)
      }
    }
    const scaled = await readVolume(join(tmp.path, 'scaled.nii.gz'))
    assert.equal(scaled.dtype, 'float32')
    assert.equal(scaled.at(1, 0, 0), 1 * 2 - 5)
    assert.equal(scaled.at(3, 4, 5), (3 + 16 + 100) * 2 - 5)
  } finally {
    tmp.cleanup()
  }
})

test('NIfTI: sform wins over qform; qform (with qfac -1) used when sform_code is 0', { skip: skipNib }, async () => {
  const tmp = tempDir()
  try {
    const out = python(`${RAS_AFFINE}
import nibabel as nib, json, sys
d = sys.argv[1]
data = np.zeros((3, 4, 5), 'int16')
Q = np.diag([-1.0, 2.0, 3.0, 1.0]); Q[:3, 3] = [5, 6, 7]  # a flip: qfac -1 territory
img = nib.Nifti1Image(data, None); img.set_qform(Q, 1); img.set_sform(A, 2); nib.save(img, f'{d}/both.nii')
img = nib.Nifti1Image(data, None); img.set_qform(Q, 1); img.set_sform(A, 0); nib.save(img, f'{d}/qonly.nii')
print(json.dumps({'A': A.tolist(), 'Q': img.get_qform().tolist(), 'nib_both': nib.load(f'{d}/both.nii').affine.tolist()}))
`, [tmp.path])
    const { A, Q, nib_both } = JSON.parse(out)
    assertGeometry(await readVolume(join(tmp.path, 'both.nii')), expectedLps(A))
    assertGeometry(await readVolume(join(tmp.path, 'both.nii')), expectedLps(nib_both))
    assertGeometry(await readVolume(join(tmp.path, 'qonly.nii')), expectedLps(Q))
  } finally {
    tmp.cleanup()
  }
})

test('NIfTI written by nodal reads back in nibabel with the same RAS affine and voxels', { skip: skipNib }, async () => {
  const tmp = tempDir()
  try {
    python(`${RAS_AFFINE}
import nibabel as nib, sys
data = (np.arange(7 * 6 * 5).reshape(7, 6, 5, order='F') - 50).astype('int16')
nib.save(nib.Nifti1Image(data, A), sys.argv[1])
`, [join(tmp.path, 'src.nii.gz')])
    const vol = await readVolume(join(tmp.path, 'src.nii.gz'))
    await writeVolume(vol, join(tmp.path, 'nodal.nii.gz'))
    const same = python(`
import nibabel as nib, numpy as np, sys
a, b = nib.load(sys.argv[1]), nib.load(sys.argv[2])
print(np.abs(a.affine - b.affine).max() < 1e-5, np.array_equal(a.get_fdata(), b.get_fdata()), b.header.get_data_dtype(),
      np.abs(b.get_qform() - b.affine).max() < 1e-4)
`, [join(tmp.path, 'src.nii.gz'), join(tmp.path, 'nodal.nii.gz')]).trim()
    assert.equal(same, 'True True int16 True')
  } finally {
    tmp.cleanup()
  }
})

test('LPS-ordered and RAS-ordered files of the same scan give the same world positions', { skip: skipNib }, async () => {
  const tmp = tempDir()
  try {
    // the same voxels stored twice: once with i running to patient left (LPS order), once flipped (RAS order)
    python(`
import nibabel as nib, numpy as np, sys
d = sys.argv[1]
data = np.arange(6 * 5 * 4).reshape(6, 5, 4, order='F').astype('int16')
A_lps = np.array([[-1.0, 0, 0, 10], [0, -1.0, 0, 20], [0, 0, 2.0, -30], [0, 0, 0, 1]])  # i -> L, j -> P in RAS terms
nib.save(nib.Nifti1Image(data, A_lps), f'{d}/lps.nii')
flipped = data[::-1, ::-1, :]
A_ras = A_lps.copy(); A_ras[:3, 0] *= -1; A_ras[:3, 1] *= -1
A_ras[:3, 3] = A_lps[:3, :3] @ np.array([5, 4, 0]) + A_lps[:3, 3]
nib.save(nib.Nifti1Image(flipped, A_ras), f'{d}/ras.nii')
`, [tmp.path])
    const lps = await readVolume(join(tmp.path, 'lps.nii'))
    const ras = await readVolume(join(tmp.path, 'ras.nii'))
    const { orientationCode } = await import('../../src/volume/orient.js')
    assert.equal(orientationCode(lps.axes), 'LPS')
    assert.equal(orientationCode(ras.axes), 'RAS')
    // hand-computed: lps voxel (0,0,0) sits at RAS (10,20,-30) = LPS (-10,-20,-30)
    assert.deepEqual(lps.origin, [-10, -20, -30])
    for (const [i, j, k] of [[0, 0, 0], [5, 4, 3], [2, 1, 2]]) {
      const w = lps.indexToWorld(i, j, k)
      const r = ras.worldToIndex(w).map(Math.round) as [number, number, number]
      assert.equal(ras.at(...r), lps.at(i, j, k))
    }
  } finally {
    tmp.cleanup()
  }
})

test('NIfTI: big-endian files, 2D images and 4D series', { skip: skipNib }, async () => {
  const tmp = tempDir()
  try {
    python(`
import nibabel as nib, numpy as np, sys
d = sys.argv[1]
data = np.arange(3 * 4 * 2).reshape(3, 4, 2, order='F').astype('>i2')
hdr = nib.Nifti1Header(endianness='>')
nib.save(nib.Nifti1Image(data, np.diag([2.0, 3.0, 4.0, 1.0]), hdr), f'{d}/big.nii')
nib.save(nib.Nifti1Image(np.arange(12, dtype='int16').reshape(3, 4, order='F'), np.eye(4)), f'{d}/flat.nii')
nib.save(nib.Nifti1Image(np.zeros((2, 2, 2, 3), 'int16'), np.eye(4)), f'{d}/series.nii')
assert nib.load(f'{d}/big.nii').header.endianness == '>'
`, [tmp.path])
    const big = await readVolume(join(tmp.path, 'big.nii'))
    assert.equal(big.at(2, 3, 1), 2 + 3 * 3 + 12 * 1)
    assert.deepEqual(big.spacing, [2, 3, 4])
    const flat = await readVolume(join(tmp.path, 'flat.nii'))
    assert.deepEqual(flat.shape, [3, 4, 1])
    assert.equal(flat.at(2, 3, 0), 11)
    await assert.rejects(readVolume(join(tmp.path, 'series.nii')), /4 dimensions \(2x2x2x3\); nodal reads 3D scalar images/)
  } finally {
    tmp.cleanup()
  }
})
