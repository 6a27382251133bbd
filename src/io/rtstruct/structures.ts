/**
 * From a label map to the structures nodal exports (one per label, or one per node instance), each
 * a binary mask on the reference grid with a name, a colour and a clinical type.
 */
import { readFileSync } from 'node:fs'
import { labelKind, labelSetFrom } from '../../dataset/labels.js'
import { nodeColour } from '../../colours.js'
import { TOTALSEGMENTATOR_NAMES } from '../../dataset/totalsegmentator.js'
import { badInput } from '../../errors.js'
import { componentBoxes, connectedComponents } from '../../volume/components.js'
import { resampleTo } from '../../volume/resample.js'
import { Grid, sameGrid, Vec3, Volume, worldToIndex } from '../../volume/volume.js'

export interface Structure {
  /** 1-based, in export order; also its value in StructureSet.ids. */
  number: number
  name: string
  /** The label value (or, for instances, the class label) it came from. */
  label: number
  color: [number, number, number]
  /** Inclusive voxel bounding box on the reference grid. */
  min: Vec3
  max: Vec3
}

/**
 * Exported structures never overlap (labels are exclusive, nodes are components of them), so one
 * map of structure numbers on the reference grid holds them all.
 */
export interface StructureSet {
  grid: Grid
  ids: Int32Array
  structures: Structure[]
}

/** label value -> name, e.g. {"1": "LN", "2": "GTVn"}. */
export type LabelNames = Map<number, string>

/**
 * Reads `{"1": "LN", ...}` or an nnU-Net dataset.json (`"labels": {"background": 0, "LN": 1}`).
 * A dataset's labels are read by labelSetFrom (src/dataset), except that region-based labels (arrays
 * of values) are skipped rather than refused. A dataset's label names are turned into their
 * AAPM TG-263 names where one applies (see tg263NodeNames); an explicit {"1": ...} map is kept as given.
 */
export function readLabelNames(file: string): LabelNames {
  if (file === 'totalsegmentator') return new Map(Object.entries(TOTALSEGMENTATOR_NAMES).map(([v, n]) => [Number(v), n]))
  let json: any
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw badInput(file, `is not readable JSON (${(e as Error).message.split('\n')[0]})`)
  }
  const names: LabelNames = new Map()
  const isDataset = !!json && typeof json.labels === 'object' && json.labels !== null
  if (isDataset) {
    // Regions name groups of label values, not values of the map: skipped (labelSetFrom refuses them).
    const plain = Object.fromEntries(Object.entries(json.labels).filter(([, value]) => !Array.isArray(value)))
    for (const [value, name] of labelSetFrom({ labels: plain }, file).names) if (value !== 0) names.set(value, name)
  } else if (json && typeof json === 'object') {
    for (const [key, name] of Object.entries(json)) {
      if (!/^\d+$/.test(key) || typeof name !== 'string') throw badInput(file, `expected {"1": "name", ...}, found key "${key}"`)
      names.set(Number(key), name)
    }
  }
  if (names.size === 0) throw badInput(file, 'names no labels')
  return isDataset ? tg263NodeNames(names) : names
}

/**
 * TG-263 names for lymph-node labels: a malignant node is `GTVn`, any other lymph node `LN`
 * (e.g. nodal phantom's `malignant_node` and `benign_node`); other names are kept. Should two labels
 * map to one name, all keep their own names, since ROI names must stay distinct.
 */
export function tg263NodeNames(names: LabelNames): LabelNames {
  const mapped = new Map([...names].map(([value, name]) => [value, tg263NodeName(name)]))
  const distinct = new Set(mapped.values()).size === mapped.size
  return distinct ? mapped : names
}

function tg263NodeName(name: string): string {
  const n = name.toLowerCase().replace(/[\s-]+/g, '_')
  const isNode = /(^|_)(lymph_?)?nodes?($|_)|(^|_)ln($|_)|lymph/.test(n)
  if (isNode && /malignan|metasta|tumou?r|cancer|positive/.test(n)) return 'GTVn'
  if (isNode && !/malignan|metasta|tumou?r|cancer|positive/.test(n)) return 'LN'
  return name
}

/**
 * Instance -> class for an instance label map (nnDetection style): `{"instances": {"1": 0, "2": "GTVn",
 * "3": {"label": 1, "name": "LN"}}}`. A number is a class label (named through --names), a string a name.
 */
export function readInstanceClasses(file: string): Map<number, { label: number; name?: string }> {
  let json: any
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw badInput(file, `is not readable JSON (${(e as Error).message.split(/[\r\n]/)[0]})`)
  }
  const table = json?.instances
  if (!table || typeof table !== 'object') throw badInput(file, 'has no "instances" object')
  const out = new Map<number, { label: number; name?: string }>()
  for (const [key, v] of Object.entries<any>(table)) {
    if (!/^\d+$/.test(key)) throw badInput(file, `instance id ${JSON.stringify(key)} is not a number`) // quoted as JSON: stays one line
    if (typeof v === 'number') out.set(Number(key), { label: v })
    else if (typeof v === 'string') out.set(Number(key), { label: 0, name: v })
    else if (v && typeof v === 'object') out.set(Number(key), { label: instanceLabel(file, key, v), name: v.name ?? v.roi ?? classRoiName(v.class) })
    else throw badInput(file, `instance ${key} has no class`)
  }
  return out
}

/** A class given by name (nodal phantom's "benign" / "malignant") names the ROI as TG-263 does: LN or GTVn. */
function classRoiName(cls: unknown): string | undefined {
  if (typeof cls !== 'string' || /^\d+$/.test(cls)) return undefined
  const kind = labelKind(cls)
  return kind === 'malignant' ? 'GTVn' : kind === 'benign' ? 'LN' : undefined
}

/**
 * An instance's label from what nodal writes: "label" or "class_index" (predict's nodes.json), or "class"
 * as a number or a class name ("benign" / "malignant" in nodal phantom's instancesTr records).
 */
function instanceLabel(file: string, key: string, v: Record<string, unknown>): number {
  const given = v.label ?? v.class_index ?? v.class
  if (given === undefined && typeof (v.name ?? v.roi) === 'string') return 0 // named, not classed: the name is the ROI name
  if (typeof given === 'number' && Number.isInteger(given) && given >= 0) return given
  if (typeof given === 'string') {
    if (/^\d+$/.test(given)) return Number(given)
    const kind = labelKind(given)
    if (kind) return kind === 'malignant' ? 2 : 1
  }
  throw badInput(file, `instance ${key}: class ${JSON.stringify(given ?? null)} is neither a label number nor benign/malignant`)
}

/**
 * The label map on the reference grid: resampled by world coordinates (nearest neighbour) when it
 * sits on another grid. Fails when none of its labels falls inside the reference.
 */
export function labelsOnGrid(labels: Volume, grid: Grid, labelsFile: string, referenceDir: string, clip: ClipPolicy = {}): Volume {
  const labelled = countNonZero(labels.data)
  if (labelled === 0) throw badInput(labelsFile, 'has no labelled voxels')
  if (sameGrid(labels, grid)) return labels
  const outside = labelledOutside(labels, grid)
  if (outside === labelled) throw badInput(labelsFile, `does not overlap the reference series ${referenceDir} (no labelled voxel falls inside it)`)
  if (outside > 0) {
    const ml = (n: number) => (n * labels.voxelVolumeMm3 / 1000).toFixed(2)
    const what = `${(100 * outside / labelled).toFixed(1)}% of the labelled volume (${ml(outside)} of ${ml(labelled)} ml) lies outside the reference series ${referenceDir}`
    if (!clip.allow) throw badInput(labelsFile, `${what}; the export would clip it (add --allow-clip to export the part inside)`)
    clip.warn?.(`${labelsFile}: ${what}; exported clipped (--allow-clip)`)
  }
  return resampleTo(labels, grid, { interpolation: 'nearest', fill: 0 })
}

export interface ClipPolicy {
  /** Export what lies inside the reference when part of the labels lies outside it (else refuse). */
  allow?: boolean
  warn?: (message: string) => void
}

/** Labelled voxels whose centres fall outside `grid` (by world coordinates, half a voxel of margin). */
function labelledOutside(labels: Volume, grid: Grid): number {
  const [nx, ny] = labels.shape
  let outside = 0
  for (let v = 0; v < labels.data.length; v++) {
    if (!labels.data[v]) continue
    const ijk = worldToIndex(grid, labels.indexToWorld(v % nx, Math.floor(v / nx) % ny, Math.floor(v / (nx * ny))))
    if (ijk.some((x, d) => x < -0.5 || x > grid.shape[d]! - 0.5)) outside++
  }
  return outside
}

function countNonZero(data: ArrayLike<number>): number {
  let n = 0
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) n++
  return n
}

export interface StructureOptions {
  names?: LabelNames
  /** One structure per connected component (26-connected) of each label. */
  perNode?: boolean
  /** The label map holds instances; this gives each its class. */
  instances?: Map<number, { label: number; name?: string }>
}

/** Structures of a label map already on the reference grid, in label order. */
export function structuresFromLabels(labels: Volume, opts: StructureOptions = {}): StructureSet {
  const name = (label: number) => opts.names?.get(label) ?? `label_${label}`
  const data = labels.data
  const ids = new Int32Array(data.length)
  const groups: Array<{ label: number; name: string; numbered: boolean }> = []
  if (!opts.perNode || opts.instances) {
    const idOfValue = new Map<number, number>()
    for (const value of presentLabels(data)) {
      const cls = opts.instances ? opts.instances.get(value) ?? { label: 0 } : { label: value }
      groups.push({ label: cls.label, name: ('name' in cls && cls.name) || name(cls.label), numbered: !!opts.instances })
      idOfValue.set(value, groups.length)
    }
    for (let n = 0; n < data.length; n++) if (data[n] !== 0) ids[n] = idOfValue.get(data[n])!
  } else {
    for (const value of presentLabels(data)) {
      const mask = new Uint8Array(data.length)
      for (let n = 0; n < data.length; n++) if (data[n] === value) mask[n] = 1
      const nodes = connectedComponents(mask, labels.shape, 26)
      const first = groups.length
      for (let c = 1; c <= nodes.count; c++) groups.push({ label: value, name: name(value), numbered: true })
      for (let n = 0; n < data.length; n++) if (nodes.labels[n] > 0) ids[n] = first + nodes.labels[n]
    }
  }
  return { grid: labels.grid, ids, structures: numberStructures(groups, ids, labels.shape) }
}

function numberStructures(groups: Array<{ label: number; name: string; numbered: boolean }>, ids: Int32Array, shape: Vec3): Structure[] {
  // every group has voxels: it is a present label or a component of one
  const boxes = componentBoxes(ids, groups.length, shape)
  const counters = new Map<string, number>()
  const shades = new Map<string, number>()
  return groups.map((g, index) => {
    const colour = nodeColour(g.name)?.join(',') ?? ''
    const shade = shades.get(colour) ?? 0
    shades.set(colour, shade + 1)
    let name = g.name
    if (g.numbered) {
      const n = (counters.get(g.name) ?? 0) + 1
      counters.set(g.name, n)
      name = `${g.name}_${String(n).padStart(2, '0')}`
    }
    return { number: index + 1, name, label: g.label, color: nodeColour(g.name, shade) ?? colorOf(index), min: boxes[index + 1]!.lo, max: boxes[index + 1]!.hi }
  })
}

/** The binary mask of one structure, cropped to its bounding box; `start` is the box's first voxel. */
export function structureMask(set: StructureSet, s: Structure): { mask: Uint8Array; shape: Vec3; start: Vec3 } {
  const [nx, ny] = set.grid.shape
  const shape: Vec3 = [s.max[0] - s.min[0] + 1, s.max[1] - s.min[1] + 1, s.max[2] - s.min[2] + 1]
  const mask = new Uint8Array(shape[0] * shape[1] * shape[2])
  let m = 0
  for (let k = s.min[2]; k <= s.max[2]; k++) for (let j = s.min[1]; j <= s.max[1]; j++) {
    const row = nx * (j + ny * k)
    for (let i = s.min[0]; i <= s.max[0]; i++, m++) if (set.ids[row + i] === s.number) mask[m] = 1
  }
  return { mask, shape, start: s.min }
}

function presentLabels(data: ArrayLike<number>): number[] {
  const seen = new Set<number>()
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) seen.add(data[i])
  return [...seen].sort((a, b) => a - b)
}

const PALETTE: Array<[number, number, number]> = [
  [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
  [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 190], [0, 128, 128], [170, 110, 40],
]

export function colorOf(index: number): [number, number, number] {
  return PALETTE[index % PALETTE.length]
}

/**
 * RT ROI Interpreted Type from a TG-263 style name: target volumes by prefix, everything else
 * (lymph nodes, organs) as ORGAN.
 */
export function interpretedType(name: string): string {
  const m = /^(GTV|CTV|PTV)/i.exec(name)
  return m ? m[1].toUpperCase() : 'ORGAN'
}
