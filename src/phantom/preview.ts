/**
 * Preview PNGs of a case: an axial and a coronal slice through a node (radiological orientation:
 * patient's right on the image's left, anterior and superior at the top), CT soft-tissue window
 * (or MR percentile window), node contours coloured by class (green benign, red malignant), and for
 * PET/CT a PET panel (inverted grey, SUV 0-8) beside them.
 */
import { PNG } from 'pngjs'
import { BENIGN_COLOUR, MALIGNANT_COLOUR } from '../colours.js'
import { invert3, scaledAxes, Vec3, Volume } from '../volume/volume.js'

export const CLASS_COLOURS: Record<number, [number, number, number]> = { 1: BENIGN_COLOUR, 2: MALIGNANT_COLOUR }

export interface PreviewInput {
  image: Volume
  labels: Volume
  pet?: Volume | null
  /** World point the slices pass through. */
  focus: Vec3
  modality: 'ct' | 'mr'
}

interface Panel { width: number; height: number; rgba: Uint8Array }

export function renderPreview(input: PreviewInput): Buffer {
  const pixel = Math.min(...input.image.spacing.slice(0, 2))
  const extent = fieldOfView(input.image)
  const window = input.modality === 'ct' ? { lo: 40 - 200, hi: 40 + 200 } : percentileWindow(input.image)
  const views: [Vec3, Vec3, number, number][] = [
    [[1, 0, 0], [0, 1, 0], extent[0], extent[1]], // axial
    [[1, 0, 0], [0, 0, -1], extent[0], extent[2]], // coronal
  ]
  const panels: Panel[] = []
  for (const [u, v, w, h] of views) {
    const plane = { u, v, pixel, width: Math.round(w / pixel), height: Math.round(h / pixel), centre: planeCentre(input.image, input.focus, u, v) }
    panels.push(drawPanel(input.image, input.labels, plane, window.lo, window.hi, false))
    if (input.pet && u[0] === 1 && v[1] === 1) panels.push(drawPanel(input.pet, input.labels, plane, 0, 8, true))
  }
  const enlarge = Math.max(1, Math.floor(360 / Math.max(...panels.map((p) => p.height))))
  return composeRow(panels.map((p) => upscale(p, enlarge)), 4)
}

export interface Plane { u: Vec3; v: Vec3; pixel: number; width: number; height: number; centre: Vec3 }

/** The world extent (mm) of a volume along L, P and S (axis-aligned bounding box of its voxels). */
function fieldOfView(vol: Volume): Vec3 {
  const a = scaledAxes(vol)
  return [0, 1, 2].map((r) => a.reduce((s, col, d) => s + Math.abs(col[r]) * vol.shape[d], 0)) as Vec3
}

/** The plane's centre: the volume's centre moved onto the focus along the plane normal. */
function planeCentre(vol: Volume, focus: Vec3, u: Vec3, v: Vec3): Vec3 {
  const c = vol.indexToWorld((vol.shape[0] - 1) / 2, (vol.shape[1] - 1) / 2, (vol.shape[2] - 1) / 2)
  const normal: Vec3 = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]
  const shift = (focus[0] - c[0]) * normal[0] + (focus[1] - c[1]) * normal[1] + (focus[2] - c[2]) * normal[2]
  return [c[0] + shift * normal[0], c[1] + shift * normal[1], c[2] + shift * normal[2]]
}

function drawPanel(image: Volume, labels: Volume, plane: Plane, lo: number, hi: number, inverted: boolean): Panel {
  const { width, height } = plane
  const grey = sampleSlice(image, plane, true)
  const lab = sampleSlice(labels, plane, false)
  const rgba = new Uint8Array(width * height * 4)
  for (let p = 0; p < width * height; p++) {
    let g = Math.round(((grey[p] - lo) / (hi - lo)) * 255)
    g = g < 0 ? 0 : g > 255 ? 255 : g
    if (inverted) g = 255 - g
    rgba.set([g, g, g, 255], p * 4)
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = lab[x + width * y]
      if (!l) continue
      const edge = x === 0 || y === 0 || x === width - 1 || y === height - 1 ||
        lab[x - 1 + width * y] !== l || lab[x + 1 + width * y] !== l || lab[x + width * (y - 1)] !== l || lab[x + width * (y + 1)] !== l
      if (edge) rgba.set([...(CLASS_COLOURS[l] ?? [255, 255, 0]), 255], (x + width * y) * 4)
    }
  }
  return { width, height, rgba }
}

/** Samples a volume on a plane (linear or nearest); points outside the volume read as its minimum. */
export function sampleSlice(vol: Volume, plane: Plane, linear: boolean): Float32Array {
  const inv = invert3(scaledAxes(vol))
  const toIndex = (p: Vec3): Vec3 => inv.map((r) => r[0] * (p[0] - vol.origin[0]) + r[1] * (p[1] - vol.origin[1]) + r[2] * (p[2] - vol.origin[2])) as Vec3
  const { width, height, pixel, u, v, centre } = plane
  const start: Vec3 = [0, 1, 2].map((d) => centre[d] - u[d] * pixel * (width - 1) / 2 - v[d] * pixel * (height - 1) / 2) as Vec3
  const i0 = toIndex(start)
  const du = toIndex([start[0] + u[0] * pixel, start[1] + u[1] * pixel, start[2] + u[2] * pixel]).map((c, d) => c - i0[d])
  const dv = toIndex([start[0] + v[0] * pixel, start[1] + v[1] * pixel, start[2] + v[2] * pixel]).map((c, d) => c - i0[d])
  const [nx, ny, nz] = vol.shape
  const data = vol.data
  let floor = Infinity
  for (let n = 0; n < data.length; n += 97) floor = Math.min(floor, data[n])
  const out = new Float32Array(width * height)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const ci = i0[0] + x * du[0] + y * dv[0], cj = i0[1] + x * du[1] + y * dv[1], ck = i0[2] + x * du[2] + y * dv[2]
      out[x + width * y] = linear ? trilinear(data, nx, ny, nz, ci, cj, ck, floor) : nearest(data, nx, ny, nz, ci, cj, ck)
    }
  }
  return out
}

function nearest(d: ArrayLike<number>, nx: number, ny: number, nz: number, x: number, y: number, z: number): number {
  const i = Math.round(x), j = Math.round(y), k = Math.round(z)
  return i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz ? 0 : d[i + nx * (j + ny * k)]
}

function trilinear(d: ArrayLike<number>, nx: number, ny: number, nz: number, x: number, y: number, z: number, outside: number): number {
  if (x < -0.5 || y < -0.5 || z < -0.5 || x > nx - 0.5 || y > ny - 0.5 || z > nz - 0.5) return outside
  x = Math.min(Math.max(x, 0), nx - 1); y = Math.min(Math.max(y, 0), ny - 1); z = Math.min(Math.max(z, 0), nz - 1)
  const i = Math.min(Math.floor(x), Math.max(0, nx - 2)), j = Math.min(Math.floor(y), Math.max(0, ny - 2)), k = Math.min(Math.floor(z), Math.max(0, nz - 2))
  const i1 = Math.min(i + 1, nx - 1), j1 = Math.min(j + 1, ny - 1), k1 = Math.min(k + 1, nz - 1)
  const fx = x - i, fy = y - j, fz = z - k
  const at = (a: number, b: number, c: number) => d[a + nx * (b + ny * c)]
  const c0 = (at(i, j, k) * (1 - fx) + at(i1, j, k) * fx) * (1 - fy) + (at(i, j1, k) * (1 - fx) + at(i1, j1, k) * fx) * fy
  const c1 = (at(i, j, k1) * (1 - fx) + at(i1, j, k1) * fx) * (1 - fy) + (at(i, j1, k1) * (1 - fx) + at(i1, j1, k1) * fx) * fy
  return c0 * (1 - fz) + c1 * fz
}

function percentileWindow(vol: Volume): { lo: number; hi: number } {
  const sample: number[] = []
  for (let n = 0; n < vol.data.length; n += 53) sample.push(vol.data[n])
  sample.sort((a, b) => a - b)
  return { lo: sample[Math.floor(sample.length * 0.01)], hi: sample[Math.floor(sample.length * 0.995)] }
}

function upscale(p: Panel, f: number): Panel {
  if (f === 1) return p
  const width = p.width * f, height = p.height * f
  const rgba = new Uint8Array(width * height * 4)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (Math.floor(x / f) + p.width * Math.floor(y / f)) * 4
      rgba.set(p.rgba.subarray(src, src + 4), (x + width * y) * 4)
    }
  }
  return { width, height, rgba }
}

function composeRow(panels: Panel[], gap: number): Buffer {
  const width = panels.reduce((s, p) => s + p.width, 0) + gap * (panels.length - 1)
  const height = Math.max(...panels.map((p) => p.height))
  const png = new PNG({ width, height })
  png.data.fill(0)
  for (let n = 3; n < png.data.length; n += 4) png.data[n] = 255
  let x0 = 0
  for (const p of panels) {
    const top = Math.floor((height - p.height) / 2)
    for (let y = 0; y < p.height; y++) {
      png.data.set(p.rgba.subarray(y * p.width * 4, (y + 1) * p.width * 4), ((top + y) * width + x0) * 4)
    }
    x0 += p.width + gap
  }
  return PNG.sync.write(png, { deflateLevel: 9 })
}
