/**
 * Where in a host CT a node may lie, at full resolution: its fat, the thin rim of soft tissue
 * around that fat a node may touch, and the fat voxels of each node station (the station map of
 * the coarse analysis grid looked up for every host voxel), kept to those with room around them.
 */
import { resampleTo } from '../../volume/resample.js'
import { sameGrid, Vec3, Volume } from '../../volume/volume.js'
import { gaussianBlur } from '../acquisition.js'
import { TissueClass } from '../tissues.js'
import type { HostAnatomy, OrganLabels } from './index.js'
import { STATION_NAMES, StationName } from './stations.js'

/**
 * Where nodes may go. `fat`: -200..-25 HU after a light 0.7 mm smoothing against noise, outside
 * labelled structures (a node's centre). `room`: TissueClass.Fat for that fat and for the 1.5 mm
 * (in-plane) rim of soft tissue or partial volume (up to 100 HU: not an enhanced vessel) around
 * it, TissueClass.Air elsewhere: a node may touch a vessel's wall, as mediastinal nodes do, but
 * never lie on lung, air, bone, contrast or a labelled structure. (The 1.5 mm local mean would
 * bleed bright vessels 3 mm into the fat around them and leave no room between mediastinal vessels.)
 */
export function placementMaps(host: Volume, organs: OrganLabels[]): { fat: Uint8Array; room: Uint8Array } {
  const smooth = Float32Array.from(host.data)
  gaussianBlur(smooth, host.shape, host.spacing.map((h) => 0.7 / h) as Vec3)
  const n = smooth.length
  const fat = new Uint8Array(n)
  for (let v = 0; v < n; v++) if (smooth[v] >= -200 && smooth[v] <= -25) fat[v] = 1
  const labelled = new Uint8Array(n)
  for (const organ of organs) {
    const labels = sameGrid(organ.volume, host) ? organ.volume : resampleTo(organ.volume, host, { interpolation: 'nearest' })
    for (let v = 0; v < n; v++) if (labels.data[v] !== 0) labelled[v] = 1
  }
  const near = dilateInPlane(fat, host.shape, host.spacing.map((h) => Math.round(1.5 / h)) as Vec3)
  const room = new Uint8Array(n)
  for (let v = 0; v < n; v++) {
    if (labelled[v]) fat[v] = 0
    else if (fat[v] || (near[v] && smooth[v] > -25 && smooth[v] <= 100)) room[v] = TissueClass.Fat
  }
  return { fat, room }
}

/** A mask grown by a box of radius[0] x radius[1] voxels within each axial slice. */
function dilateInPlane(mask: Uint8Array, shape: Vec3, radius: Vec3): Uint8Array {
  const [nx, ny, nz] = shape
  const rows = new Uint8Array(mask.length), out = new Uint8Array(mask.length)
  for (let line = 0; line < ny * nz; line++) spread(mask, rows, line * nx, 1, nx, radius[0])
  for (let k = 0; k < nz; k++) for (let i = 0; i < nx; i++) spread(rows, out, k * nx * ny + i, nx, ny, radius[1])
  return out
}

/** Along one line (start, stride, length): out = 1 within r of a set voxel of src. */
function spread(src: Uint8Array, out: Uint8Array, start: number, stride: number, length: number, r: number): void {
  let last = -Infinity
  for (let t = 0; t < length; t++) {
    if (src[start + t * stride]) last = t
    if (t - last <= r) out[start + t * stride] = 1
  }
  last = Infinity
  for (let t = length - 1; t >= 0; t--) {
    if (src[start + t * stride]) last = t
    if (last - t <= r) out[start + t * stride] = 1
  }
}

/**
 * The candidates of each station with room around them: `room` 3 mm away along the six axis
 * directions and the four in-plane diagonals (the smallest node, 3 mm across, with its 1.5 mm
 * margin). Placement tries its positions near these; a station with none keeps all its fat.
 */
export function roomyCentres(candidates: Map<StationName, Int32Array>, room: Uint8Array, host: Volume): Map<StationName, Int32Array> {
  const [nx, ny, nz] = host.shape
  const [ri, rj, rk] = host.spacing.map((h) => Math.max(1, Math.round(3 / h)))
  const [di, dj] = host.spacing.map((h) => Math.max(1, Math.round(2.1 / h)))
  const probes = [[ri, 0, 0], [-ri, 0, 0], [0, rj, 0], [0, -rj, 0], [0, 0, rk], [0, 0, -rk], [di, dj, 0], [di, -dj, 0], [-di, dj, 0], [-di, -dj, 0]]
  const out = new Map<StationName, Int32Array>()
  for (const [name, voxels] of candidates) {
    const roomy = voxels.filter((v) => {
      const i = v % nx, j = Math.floor(v / nx) % ny, k = Math.floor(v / (nx * ny))
      return probes.every(([a, b, c]) => {
        const ii = i + a, jj = j + b, kk = k + c
        return ii >= 0 && jj >= 0 && kk >= 0 && ii < nx && jj < ny && kk < nz && room[ii + nx * (jj + ny * kk)] === TissueClass.Fat
      })
    })
    out.set(name, roomy.length > 0 ? roomy : voxels)
  }
  return out
}

/** Host voxels of fat inside each wanted station (the coarse station map looked up per host voxel). */
export function stationFat(anatomy: HostAnatomy, fat: Uint8Array, wanted: Set<StationName>, shape: Vec3): Map<StationName, Int32Array> {
  const { grid, stationMap } = anatomy
  const [bx, by] = grid.blockShape
  const stationOfBlock = new Uint8Array(grid.blockShape[0] * grid.blockShape[1] * grid.blockShape[2])
  const keep = STATION_NAMES.map((name) => wanted.has(name))
  for (let c = 0; c < stationMap.length; c++) {
    const s = stationMap[c]
    if (s && keep[s - 1]) stationOfBlock[grid.blockOfCanonical[c]] = s
  }
  const lists: number[][] = STATION_NAMES.map(() => [])
  const [nx, ny, nz] = shape
  const bi = Int32Array.from({ length: nx }, (_, i) => Math.floor(i / grid.block[0]))
  let v = 0
  for (let k = 0; k < nz; k++) {
    const bk = Math.floor(k / grid.block[2]) * bx * by
    for (let j = 0; j < ny; j++) {
      const row = bk + Math.floor(j / grid.block[1]) * bx
      for (let i = 0; i < nx; i++, v++) {
        const s = stationOfBlock[row + bi[i]]
        if (s && fat[v]) lists[s - 1].push(v)
      }
    }
  }
  const out = new Map<StationName, Int32Array>()
  STATION_NAMES.forEach((name, n) => { if (lists[n].length > 0) out.set(name, Int32Array.from(lists[n])) })
  return out
}

