/**
 * Trachea, carina and main bronchi, followed slice by slice down the canonical grid.
 *
 * The trachea is the topmost pocket of air (below -900 HU) in the midline, in front of the spine,
 * 0.8-8 cm² in area, that continues down as a tube. From it the detector steps down one slice at a
 * time, keeping the air pockets that overlap the previous slice's airway. Where the pocket splits
 * in two, that is the carina; the right and left pieces are the main bronchi, followed until they
 * split again (lobar bronchi), widen into lung, fade, or have run 60 mm. A pocket that suddenly
 * widens (air leaking into lung) is cut back to the previous outline grown by one voxel. Above
 * the seed the airway is followed up to the top of the scan, so that none of it is taken for lung.
 */
import { Lattice } from './grid.js'
import { sliceComponents } from './masks.js'
import { Spine } from './spine.js'

const AIR_HU = -900
const MIN_TRACHEA_MM2 = 80, MAX_TRACHEA_MM2 = 800, MIN_BRONCHUS_MM2 = 25
const MAX_BRONCHUS_MM = 60
const MIN_TUBE_MM = 20

/** A point of an airway's centreline on the canonical grid (continuous voxel indices). */
export interface AirwayPoint { i: number; j: number; k: number; areaMm2: number }

export interface Airway {
  /** 1 trachea, 2 right main bronchus, 3 left main bronchus. */
  mask: Uint8Array
  /** Trachea centreline from its top down to the carina. */
  trachea: AirwayPoint[]
  /** The last slice where the trachea is one tube (null when it never splits in view). */
  carina: AirwayPoint | null
  right: AirwayPoint[]
  left: AirwayPoint[]
}

type Kind = 1 | 2 | 3
interface Branch { kind: Kind; pixels: number[]; path: AirwayPoint[]; mm: number }

export function findAirway(hu: Float32Array, body: Uint8Array, spine: Spine, L: Lattice): Airway | null {
  const dark = new Uint8Array(L.voxels)
  for (let v = 0; v < L.voxels; v++) if (body[v] && hu[v] < AIR_HU) dark[v] = 1
  const pixelMm2 = L.h[0] * L.h[1]
  for (let k = L.nz - 1; k >= 0; k--) {
    for (const seed of tracheaSeeds(dark, spine, L, k, pixelMm2)) {
      const airway = follow(dark, L, k, seed, pixelMm2)
      if (tubeLength(airway, L) < MIN_TUBE_MM) continue
      extendUpwards(airway, dark, L, k, seed, pixelMm2)
      return airway
    }
  }
  return null
}

/** Pockets of a slice that could be the trachea, largest first. */
function tracheaSeeds(dark: Uint8Array, spine: Spine, L: Lattice, k: number, pixelMm2: number): number[][] {
  const mid = spine.midI[k]
  if (Number.isNaN(mid)) return []
  const cc = sliceComponents(dark, L, k)
  const pixels: number[][] = Array.from({ length: cc.count + 1 }, () => [])
  for (let p = 0; p < L.slice; p++) if (cc.labels[p]) pixels[cc.labels[p]].push(p)
  const seeds: number[][] = []
  for (let c = 1; c <= cc.count; c++) {
    const area = cc.sizes[c] * pixelMm2
    if (area < MIN_TRACHEA_MM2 || area > MAX_TRACHEA_MM2) continue
    const [ci, cj] = centroid(pixels[c], L)
    if (Math.abs(ci - mid) * L.h[0] > 25) continue
    if (!Number.isNaN(spine.frontJ[k]) && cj >= spine.frontJ[k]) continue
    seeds.push(pixels[c])
  }
  return seeds.sort((a, b) => b.length - a.length)
}

/** Follows the airway down from a seed pocket at slice k. */
function follow(dark: Uint8Array, L: Lattice, k0: number, seed: number[], pixelMm2: number): Airway {
  const mask = new Uint8Array(L.voxels)
  const trachea: Branch = { kind: 1, pixels: seed, path: [], mm: 0 }
  record(trachea, k0, mask, L, pixelMm2)
  let branches = [trachea]
  const done: Branch[] = []
  let carina: AirwayPoint | null = null
  for (let k = k0 - 1; k >= 0 && branches.length > 0; k--) {
    const cc = sliceComponents(dark, L, k)
    const next: Branch[] = []
    for (const b of branches) {
      const touching = overlapping(cc.labels, b.pixels, L)
      const big = touching.filter((c) => cc.sizes[c] * pixelMm2 >= MIN_BRONCHUS_MM2)
      if (b.kind === 1 && big.length >= 2) {
        carina = b.path[b.path.length - 1]
        done.push(b)
        next.push(...bronchi(cc.labels, big, L, k, mask, pixelMm2))
        continue
      }
      if (touching.length === 0 || (b.kind !== 1 && (big.length >= 2 || b.mm >= MAX_BRONCHUS_MM))) { done.push(b); continue }
      const main = touching.reduce((a, c) => (cc.sizes[c] > cc.sizes[a] ? c : a))
      let pixels = pixelsOf(cc.labels, main, L)
      if (leaks(pixels.length, b, pixelMm2)) {
        if (b.kind !== 1) { done.push(b); continue } // a bronchus that opens into lung has reached the hilum
        pixels = pixels.filter((p) => near(p, b.pixels, L))
      }
      b.pixels = pixels
      record(b, k, mask, L, pixelMm2)
      next.push(b)
    }
    branches = next
  }
  const all = [...done, ...branches]
  const path = (kind: Kind) => all.find((b) => b.kind === kind)?.path ?? []
  return { mask, trachea: path(1), carina, right: path(2), left: path(3) }
}

/**
 * The airway above the seed (a narrower or wider stretch that was not taken as the seed, up to the
 * larynx): the pockets overlapping it slice by slice upwards, so that it is not taken for lung.
 */
function extendUpwards(airway: Airway, dark: Uint8Array, L: Lattice, k0: number, seed: number[], pixelMm2: number): void {
  let pixels = seed
  for (let k = k0 + 1; k < L.nz; k++) {
    const cc = sliceComponents(dark, L, k)
    const touching = overlapping(cc.labels, pixels, L).filter((c) => cc.sizes[c] * pixelMm2 <= 2 * MAX_TRACHEA_MM2)
    if (touching.length === 0) return
    pixels = touching.flatMap((c) => pixelsOf(cc.labels, c, L))
    const [i, j] = centroid(pixels, L)
    airway.trachea.unshift({ i, j, k, areaMm2: pixels.length * pixelMm2 })
    for (const p of pixels) airway.mask[k * L.slice + p] = 1
  }
}

/** The right and left main bronchi from the two largest pockets below the carina. */
function bronchi(labels: Int32Array, big: number[], L: Lattice, k: number, mask: Uint8Array, pixelMm2: number): Branch[] {
  const two = big.map((c) => pixelsOf(labels, c, L)).sort((a, b) => b.length - a.length).slice(0, 2)
  two.sort((a, b) => centroid(a, L)[0] - centroid(b, L)[0]) // smaller i is the patient's right
  return two.map((pixels, n) => {
    const b: Branch = { kind: n === 0 ? 2 : 3, pixels, path: [], mm: 0 }
    record(b, k, mask, L, pixelMm2)
    return b
  })
}

function leaks(area: number, b: Branch, pixelMm2: number): boolean {
  const prev = b.pixels.length
  const mm2 = area * pixelMm2
  if (b.kind === 1) return mm2 > MAX_TRACHEA_MM2 || area > Math.max(2.2 * prev, prev + 200 / pixelMm2)
  return mm2 > 500 || area > Math.max(2.5 * prev, prev + 80 / pixelMm2)
}

function record(b: Branch, k: number, mask: Uint8Array, L: Lattice, pixelMm2: number): void {
  const [i, j] = centroid(b.pixels, L)
  const last = b.path[b.path.length - 1]
  if (last) b.mm += Math.hypot((i - last.i) * L.h[0], (j - last.j) * L.h[1], (k - last.k) * L.h[2])
  b.path.push({ i, j, k, areaMm2: b.pixels.length * pixelMm2 })
  for (const p of b.pixels) mask[k * L.slice + p] = b.kind
}

/** Labels of the slice's pockets that touch the given pixels or their 8 neighbours. */
function overlapping(labels: Int32Array, pixels: number[], L: Lattice): number[] {
  const found = new Set<number>()
  for (const p of pixels) {
    const i = p % L.nx, j = Math.floor(p / L.nx)
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        const ii = i + di, jj = j + dj
        if (ii < 0 || jj < 0 || ii >= L.nx || jj >= L.ny) continue
        const l = labels[ii + jj * L.nx]
        if (l) found.add(l)
      }
    }
  }
  return [...found]
}

function near(p: number, pixels: number[], L: Lattice): boolean {
  const i = p % L.nx, j = Math.floor(p / L.nx)
  return pixels.some((q) => Math.abs((q % L.nx) - i) <= 1 && Math.abs(Math.floor(q / L.nx) - j) <= 1)
}

function pixelsOf(labels: Int32Array, label: number, L: Lattice): number[] {
  const out: number[] = []
  for (let p = 0; p < L.slice; p++) if (labels[p] === label) out.push(p)
  return out
}

function centroid(pixels: number[], L: Lattice): [number, number] {
  let si = 0, sj = 0
  for (const p of pixels) { si += p % L.nx; sj += Math.floor(p / L.nx) }
  return [si / pixels.length, sj / pixels.length]
}

/** Length (mm along z) of the trachea plus its longer main bronchus. */
function tubeLength(a: Airway, L: Lattice): number {
  return (a.trachea.length + Math.max(a.right.length, a.left.length)) * L.h[2]
}
