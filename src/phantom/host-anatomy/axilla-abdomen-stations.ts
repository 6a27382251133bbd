/**
 * Axillary stations (the deep fat between the chest wall and the arm) and retroperitoneal stations
 * (the fat in front of and beside the spine below the diaphragm, down to the iliac crest, named
 * after the aorta and the cava).
 */
import { LungSide } from './thorax.js'
import { claim, forBox, id, Landmarks, slices, StationName } from './stations.js'

/**
 * Axillary: from 10 to 80 mm below the higher lung apex (first to about fourth rib; a collapsed or
 * scarred apex can sit low on one side), 20-70 mm lateral to the lung, between 30 and 75 % of the lung's depth from its front (the mid-axillary line, between
 * the pectoral muscles in front and the scapula behind), 25 mm or more under the skin: the fat
 * between the chest wall and the arm, not the chest wall in front or the lateral wall lower down.
 */
export function axillary(lm: Landmarks, allowed: Uint8Array, map: Uint8Array): string | null {
  const { L } = lm
  if (lm.right.voxels + lm.left.voxels === 0) return 'no lungs found'
  if (!lm.right.apexInView && !lm.left.apexInView) return 'the lung apices are not in view'
  const apex = Math.max(...[lm.right, lm.left].filter((s) => s.apexInView).map((s) => s.apexK))
  const [k0, k1] = slices(L, apex, -80, -10)
  for (const [side, name, sign] of [[lm.right, 'axillary R', -1], [lm.left, 'axillary L', 1]] as [LungSide, StationName, number][]) {
    if (!side.apexInView) continue
    for (let k = k0; k <= k1; k++) {
      if (Number.isNaN(side.lateralI[k])) continue
      const depth = side.backJ[k] - side.frontJ[k]
      const near = side.lateralI[k] + sign * 20 / L.h[0], far = side.lateralI[k] + sign * 70 / L.h[0]
      const [i0, i1] = sign < 0 ? [Math.ceil(far), Math.floor(near)] : [Math.ceil(near), Math.floor(far)]
      for (let j = Math.max(0, Math.ceil(side.frontJ[k] + 0.3 * depth)); j <= Math.min(L.ny - 1, Math.floor(side.frontJ[k] + 0.75 * depth)); j++) {
        for (let i = Math.max(0, i0); i <= Math.min(L.nx - 1, i1); i++) {
          const v = k * L.slice + j * L.nx + i
          if (lm.skinMm[v] >= 25) claim(map, allowed, v, id(name))
        }
      }
    }
  }
  return null
}

/**
 * Retroperitoneal: up to 45 mm in front of the spine's front and 45 mm either side of the midline,
 * 10 mm or more from lung, from 30 mm below the lower dome (the top of the scan when no lung is in
 * view) down to the iliac crest (the aorta divides at about L4, at the crest), or to 200 mm below
 * the dome where the crest is not in view. Named para-aortic from 5 mm right of the aorta's centre
 * leftwards, paracaval from 5 mm left of the cava's centre rightwards, aortocaval between (the aorta
 * 15 mm left and the cava 25 mm right of the midline where neither is seen).
 */
export function retroperitoneal(lm: Landmarks, allowed: Uint8Array, map: Uint8Array): string | null {
  const { L, spine } = lm
  if (spine.found === 0) return 'no spine found'
  const range = retroperitonealSlices(lm)
  if (typeof range === 'string') return range
  for (let k = range[0]; k <= range[1]; k++) {
    const front = spine.frontJ[k], mid = spine.midI[k]
    if (Number.isNaN(front)) continue
    const aorta = Number.isNaN(lm.vessels.aortaI[k]) ? mid + 15 / L.h[0] : lm.vessels.aortaI[k]
    const cava = Number.isNaN(lm.vessels.cavaI[k]) ? mid - 25 / L.h[0] : lm.vessels.cavaI[k]
    forBox(L, mid, front, 45, 45, -45, 10, (v, i) => {
      if (lm.lungMm[v] < 10) return
      const x = i * L.h[0]
      const name = x >= aorta * L.h[0] - 5 ? 'para-aortic' : x <= cava * L.h[0] + 5 ? 'paracaval' : 'aortocaval'
      claim(map, allowed, v, id(name))
    }, k)
  }
  return null
}

/** Slices of the retroperitoneal stations, or why there are none. */
function retroperitonealSlices(lm: Landmarks): [number, number] | string {
  const { L } = lm
  const crest = iliacCrestK(lm)
  const bottom = Number.isNaN(crest) ? 0 : crest + 1
  if (lm.right.voxels + lm.left.voxels === 0) return [bottom, L.nz - 1]
  const dome = Math.min(...[lm.right.domeK, lm.left.domeK].filter((d) => !Number.isNaN(d)))
  if (!Number.isFinite(dome)) return 'the lungs reach the bottom of the scan (no abdomen in view)'
  const [k0, k1] = slices(L, dome, -200, -30)
  return k1 < Math.max(k0, bottom) ? 'no abdomen in view below the diaphragm' : [Math.max(k0, bottom), k1]
}

/**
 * The highest slice (below the lungs) with the iliac wings on both sides: 4 cm² or more of bone
 * 50-150 mm from the midline and 20 mm or more under the skin on each side (the lowest ribs show
 * 1-2 cm² there). NaN when the pelvis is not in view.
 */
function iliacCrestK(lm: Landmarks): number {
  const { L, hu, spine } = lm
  const minVoxels = 400 / (L.h[0] * L.h[1])
  for (let k = L.nz - 1; k >= 0; k--) {
    const mid = spine.midI[k]
    if (Number.isNaN(mid)) continue
    const count = [0, 0]
    let lung = false
    for (let p = 0; p < L.slice; p++) {
      const v = k * L.slice + p
      if (lm.lungs[v]) { lung = true; break }
      const dx = ((p % L.nx) - mid) * L.h[0]
      if (Math.abs(dx) < 50 || Math.abs(dx) > 150 || hu[v] <= 180 || lm.skinMm[v] < 20) continue
      count[dx < 0 ? 0 : 1]++
    }
    if (!lung && count[0] >= minVoxels && count[1] >= minVoxels) return k
  }
  return NaN
}
