/**
 * scipy as an independent judge (Debian python3 with python3-scipy). Tests that use it are skipped,
 * with the reason, where scipy is missing; scripts/setup.sh is meant to install it.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Vec3 } from '../../src/volume/volume.js'
import { DEBIAN_PYTHON } from '../helpers.js'

const PYTHON = DEBIAN_PYTHON

export const scipyMissing: string | false = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import scipy.ndimage, numpy'])
  return r.status === 0 ? false : 'scipy is not installed (apt-get install python3-scipy)'
})()

/** scipy.ndimage.distance_transform_edt(mask == 0, sampling) for a flat x-fastest mask: distances in mm. */
export function scipyDistanceToFeature(feature: Uint8Array, shape: Vec3, spacing: Vec3): Float64Array {
  return runPython(feature, shape, spacing, `
import numpy as np, sys
from scipy import ndimage
nx, ny, nz, sx, sy, sz = [float(v) for v in sys.argv[3:9]]
m = np.fromfile(sys.argv[1], dtype=np.uint8).reshape(int(nz), int(ny), int(nx))
d = ndimage.distance_transform_edt(m == 0, sampling=(sz, sy, sx))
d.astype(np.float64).tofile(sys.argv[2])
`)
}

/**
 * MONAI-style surface distances computed with scipy only: edges = mask ^ binary_erosion(mask),
 * then distance_transform_edt(~edges_other, sampling) sampled at the edges. Returns
 * [hd, hd95, assd, nsd at 2 mm] for two masks packed as one array (pred = bit 0, gt = bit 1).
 */
export function scipySurfaceMetrics(pair: Uint8Array, shape: Vec3, spacing: Vec3): [number, number, number, number] {
  const out = runPython(pair, shape, spacing, `
import numpy as np, sys
from scipy import ndimage
nx, ny, nz, sx, sy, sz = [float(v) for v in sys.argv[3:9]]
m = np.fromfile(sys.argv[1], dtype=np.uint8).reshape(int(nz), int(ny), int(nx))
p, g = (m & 1) > 0, (m & 2) > 0
s = np.ones((3, 3, 3), bool) * False
s[1, 1, :] = s[1, :, 1] = s[:, 1, 1] = True
ep = p ^ ndimage.binary_erosion(p, structure=s, border_value=0)
eg = g ^ ndimage.binary_erosion(g, structure=s, border_value=0)
samp = (sz, sy, sx)
a = ndimage.distance_transform_edt(~eg, sampling=samp)[ep]
b = ndimage.distance_transform_edt(~ep, sampling=samp)[eg]
hd = max(a.max(), b.max())
hd95 = max(np.percentile(a, 95), np.percentile(b, 95))
assd = (a.sum() + b.sum()) / (a.size + b.size)
nsd = ((a <= 2).sum() + (b <= 2).sum()) / (a.size + b.size)
np.array([hd, hd95, assd, nsd], dtype=np.float64).tofile(sys.argv[2])
`)
  return [out[0], out[1], out[2], out[3]]
}

function runPython(data: Uint8Array, shape: Vec3, spacing: Vec3, script: string): Float64Array {
  const dir = mkdtempSync(join(tmpdir(), 'nodal-scipy-'))
  try {
    const input = join(dir, 'in.raw'), output = join(dir, 'out.raw')
    writeFileSync(input, data)
    execFileSync(PYTHON, ['-c', script, input, output, ...shape.map(String), ...spacing.map(String)])
    const bytes = readFileSync(output)
    return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8).slice()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
