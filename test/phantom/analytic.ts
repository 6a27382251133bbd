/** The RECIST axes and volume of an ellipsoid node as designed, for checking the measured ones. */
import { Vec3 } from '../../src/volume/volume.js'
import { NodeRecord } from '../../src/phantom/index.js'

/**
 * Long and short axis (mm) of the ellipsoid's cross-section by the axial plane at height z.
 * For x·M·x <= 1 with M = R diag(1/r²) Rᵀ, the section at offset dz from the centre is the ellipse
 * of the xy block of M, scaled by sqrt(1 - dz²/(M⁻¹)zz).
 */
export function axialSection(design: NodeRecord['design'], z: number): { long: number; short: number } {
  const { semi_axes_mm: r, axes } = design
  const M = [0, 1, 2].map((a) => [0, 1, 2].map((b) => axes.reduce((s, u, d) => s + (u[a] * u[b]) / (r[d] * r[d]), 0)))
  const invZZ = axes.reduce((s, u, d) => s + u[2] * u[2] * r[d] * r[d], 0)
  const dz = z - design.centre_mm[2]
  const f = 1 - (dz * dz) / invZZ
  if (f <= 0) return { long: 0, short: 0 }
  // the section's shape is the xy block of M; its eigenvalues give the semi-axes
  const a = M[0][0], b = M[0][1], c = M[1][1]
  const mean = (a + c) / 2, diff = Math.sqrt(((a - c) / 2) ** 2 + b * b)
  const [lmin, lmax] = [mean - diff, mean + diff]
  return { long: 2 * Math.sqrt(f / lmin), short: 2 * Math.sqrt(f / lmax) }
}

export function ellipsoidVolumeMl(r: Vec3): number {
  return (4 / 3) * Math.PI * r[0] * r[1] * r[2] / 1000
}
