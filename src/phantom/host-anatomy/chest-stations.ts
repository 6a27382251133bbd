/**
 * Chest stations after the IASLC map, approximated from what can be seen without labels: the
 * trachea's centre and radius per slice, the carina, the main bronchi, the lung apices and domes,
 * the mediastinum between the lungs and the front of the spine. Each painter claims the voxels of
 * its station that are still free and allowed (see station-map.ts).
 */
import { AirwayPoint } from './airway.js'
import { claim, forBall, forBox, id, Landmarks, slices, StationName, tracheaAt } from './stations.js'

/** Why the mediastinal and hilar stations cannot be drawn (two lungs, a trachea and a carina are needed), or null. */
export function chestPrerequisites(lm: Landmarks): string | null {
  if (lm.right.voxels === 0 && lm.left.voxels === 0) return 'no lungs found'
  if (lm.right.voxels === 0 || lm.left.voxels === 0) return 'only one lung found'
  if (!lm.airway) return 'no trachea found'
  if (!lm.airway.carina) return 'the trachea does not divide in view (no carina)'
  return null
}

/** 7: below the carina, between the main bronchi, 2.5-35 mm down. */
export function subcarinal(lm: Landmarks, allowed: Uint8Array, map: Uint8Array): void {
  const { L } = lm
  const c = lm.airway!.carina!
  const [k0, k1] = slices(L, c.k, -35, -2.5)
  for (let k = k0; k <= k1; k++) {
    forBox(L, c.i, c.j, 20, 20, -10, 25, (v) => { if (lm.mediastinum[v]) claim(map, allowed, v, id('7')) }, k)
  }
}

/**
 * 10R/10L: the mediastinum's edge within 20 mm of the distal main bronchus (10 mm or more past the
 * carina), 20 mm or more to the side of the carina, 10 mm or less from the lung, from 5 mm above
 * to 40 mm below the carina (lower down is interlobar, station 11).
 */
export function hilar(lm: Landmarks, allowed: Uint8Array, map: Uint8Array): void {
  const { L, airway } = lm
  const c = airway!.carina!
  for (const [path, name] of [[airway!.right, '10R'], [airway!.left, '10L']] as [AirwayPoint[], StationName][]) {
    let along = 0
    for (let n = 0; n < path.length; n++) {
      const prev = n === 0 ? c : path[n - 1]
      along += Math.hypot((path[n].i - prev.i) * L.h[0], (path[n].j - prev.j) * L.h[1], (path[n].k - prev.k) * L.h[2])
      if (along < 10) continue
      const reach = n === path.length - 1 ? 25 : 20
      forBall(L, path[n], reach, (v, k) => {
        const i = v % L.nx
        const dz = (k - c.k) * L.h[2]
        if (lm.mediastinum[v] && dz <= 5 && dz >= -40 && lm.lungMm[v] <= 10 && Math.abs(i - c.i) * L.h[0] >= 20) claim(map, allowed, v, id(name))
      })
    }
  }
}

/** 2R/2L and 4R/4L: within 25 mm of the trachea's wall, beside and in front of it; right of its left wall is R. */
export function paratracheal(lm: Landmarks, allowed: Uint8Array, map: Uint8Array): void {
  const { L } = lm
  const airway = lm.airway!
  const c = airway.carina!
  const levels: [StationName, StationName, number, number][] = [
    ['4R', '4L', -5, 30],
    ['2R', '2L', 30, Math.max(lm.right.apexK, lm.left.apexK) * L.h[2] - c.k * L.h[2]],
  ]
  for (const [rightName, leftName, dzLo, dzHi] of levels) {
    const [k0, k1] = slices(L, c.k, dzLo, dzHi)
    for (let k = k0; k <= k1; k++) {
      const t = tracheaAt(airway, k)
      const reach = t.r + 25
      forBox(L, t.i, t.j, reach, reach, -reach, t.r + 5, (v, i, j) => {
        const dx = (i - t.i) * L.h[0], dy = (j - t.j) * L.h[1]
        const d = Math.hypot(dx, dy)
        if (d < t.r || d > reach || dy < -(t.r + 20)) return
        const right = dx < 0.8 * t.r
        const apex = right ? lm.right.apexK : lm.left.apexK
        if (rightName === '2R' && k > apex) return
        if (!right && leftName === '4L' && dx > t.r + 20) return
        claim(map, allowed, v, id(right ? rightName : leftName))
      }, k)
    }
  }
}

/**
 * 5 (15-50 mm left of the trachea's wall, between the arch and the left pulmonary artery: carina
 * -10 to +25 mm), 6 (10-60 mm left of the midline and 20-70 mm in front of the trachea: beside the
 * arch, carina +5 to +50 mm) and 3a (prevascular: in front of the great vessels, 25 mm or more in
 * front of the trachea, 30 mm right to 10 mm left of the midline, from the carina to the apex).
 */
export function aortopulmonary(lm: Landmarks, allowed: Uint8Array, map: Uint8Array): void {
  const { L } = lm
  const airway = lm.airway!
  const c = airway.carina!
  const t = tracheaAt(airway, c.k)
  const [a0, a1] = slices(L, c.k, -10, 25)
  for (let k = a0; k <= a1; k++) {
    forBox(L, t.i, t.j, 0, t.r + 50, -40, 15, (v, i) => {
      if (lm.mediastinum[v] && (i - t.i) * L.h[0] >= t.r + 15) claim(map, allowed, v, id('5'))
    }, k)
  }
  const [b0, b1] = slices(L, c.k, 5, 50)
  for (let k = b0; k <= b1; k++) {
    const tk = tracheaAt(airway, k)
    forBox(L, lm.midI[k], tk.j, -10, 60, -70, -20, (v) => { if (lm.mediastinum[v]) claim(map, allowed, v, id('6')) }, k)
  }
  const [p0, p1] = slices(L, c.k, 0, (Math.max(lm.right.apexK, lm.left.apexK) - c.k) * L.h[2])
  for (let k = p0; k <= p1; k++) {
    const tk = tracheaAt(airway, k)
    forBox(L, lm.midI[k], tk.j, 30, 10, -120, -25, (v) => { if (lm.mediastinum[v]) claim(map, allowed, v, id('3a')) }, k)
  }
}

/** 8: beside the oesophagus, up to 30 mm in front of the spine and 25 mm either side of the midline, from 30 mm below the carina down to the lower dome. */
export function paraoesophageal(lm: Landmarks, allowed: Uint8Array, map: Uint8Array): void {
  const { L } = lm
  const c = lm.airway!.carina!
  const bottom = Number.isNaN(lm.floorK) ? 0 : lm.floorK + 5 / L.h[2]
  const [k0, k1] = slices(L, c.k, (bottom - c.k) * L.h[2], -30)
  for (let k = k0; k <= k1; k++) {
    const front = lm.spine.frontJ[k]
    const [dyLo, dyHi, j0] = Number.isNaN(front) ? [-5, 35, c.j] : [-30, 5, front]
    forBox(L, lm.midI[k], j0, 25, 25, dyLo, dyHi, (v) => { if (lm.mediastinum[v]) claim(map, allowed, v, id('8')) }, k)
  }
}

/**
 * 1R/1L: from 10 mm below to 50 mm above the higher lung apex (a collapsed or scarred apex can sit
 * low on one side), 15-75 mm beside the trachea, from 25 mm in front of it to 30 mm behind, 15 mm
 * or more under the skin (deep to the platysma and sternocleidomastoid).
 */
export function supraclavicular(lm: Landmarks, allowed: Uint8Array, map: Uint8Array): string | null {
  const { L } = lm
  if (lm.right.apexK < 0 || lm.left.apexK < 0) return 'no lung apices found'
  const apex = Math.max(lm.right.apexK, lm.left.apexK)
  if ((L.nz - 1 - apex) * L.h[2] < 10) return 'the scan ends at the lung apices'
  const [k0, k1] = slices(L, apex, -10, 50)
  for (const [name, sign] of [['1R', -1], ['1L', 1]] as [StationName, number][]) {
    for (let k = k0; k <= k1; k++) {
      const t = lm.airway ? tracheaAt(lm.airway, k) : { i: lm.midI[k], j: lm.spine.canalJ[k] - 30 / L.h[1], r: 9 }
      if (Number.isNaN(t.j)) continue
      forBox(L, t.i, t.j, sign < 0 ? 75 : -(t.r + 15), sign < 0 ? -(t.r + 15) : 75, -25, 30, (v) => { if (lm.skinMm[v] >= 15) claim(map, allowed, v, id(name)) }, k)
    }
  }
  return null
}
