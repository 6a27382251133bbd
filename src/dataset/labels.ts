/**
 * The label set of a dataset: names by value, nnU-Net's "ignore" label, and which labels are
 * (malignant or benign) lymph nodes, read from the "labels" of an nnU-Net v2 dataset.json.
 */
import { NodalError } from '../errors.js'

/** nodal's own label convention (what `nodal phantom` writes). */
export const LABELS = { background: 0, benign_node: 1, malignant_node: 2 } as const

/** The name nnU-Net gives the label whose voxels count for nothing in training. */
export const IGNORE_LABEL_NAME = 'ignore'

export interface LabelSet {
  /** value -> name, including background 0 ("background" when dataset.json does not name it). */
  names: Map<number, string>
  /** The value of the label named "ignore" (nnU-Net convention); null if none. */
  ignore: number | null
  /** Every value but background and ignore, ascending. */
  foreground: number[]
  /** Values whose name says malignant ("malignant_node", "metastatic lymph node", "GTVn", "tumour"...). */
  malignant: number[]
  /** Values whose name says benign or names a lymph node without saying malignant ("benign_node", "LN"). */
  benign: number[]
}

/**
 * The label set of dataset.json's "labels" ({"background": 0, "benign_node": 1, ...}). Values are
 * non-negative integers (an integer string is accepted too); two names for one value are refused,
 * and so are nnU-Net regions (arrays of values), which nodal does not support yet. `source` names
 * the file in error messages.
 */
export function labelSetFrom(json: { labels: Record<string, unknown> }, source = 'dataset.json'): LabelSet {
  const labels = json?.labels
  if (!labels || typeof labels !== 'object' || Array.isArray(labels)) {
    throw new NodalError('bad-dataset', `${source}: "labels" must be an object of name -> value`)
  }
  const names = new Map<number, string>()
  for (const [name, raw] of Object.entries(labels)) {
    if (Array.isArray(raw)) {
      throw new NodalError('bad-dataset', `${source}: label ${JSON.stringify(name)} is an nnU-Net region (${JSON.stringify(raw)}); region-based labels are not supported yet`)
    }
    const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new NodalError('bad-dataset', `${source}: label ${JSON.stringify(name)} has value ${JSON.stringify(raw)}; expected a non-negative integer`)
    }
    const other = names.get(value)
    // names quoted as JSON: a name holding a line break must not break the one-line message
    if (other !== undefined) throw new NodalError('bad-dataset', `${source}: labels ${JSON.stringify(other)} and ${JSON.stringify(name)} both have value ${value}`)
    names.set(value, name)
  }
  if (!names.has(0)) names.set(0, 'background')
  const sorted = new Map([...names].sort((a, b) => a[0] - b[0]))
  const ignore = [...sorted].find(([, name]) => name === IGNORE_LABEL_NAME)?.[0] ?? null
  const foreground = [...sorted.keys()].filter((v) => v !== 0 && v !== ignore)
  return {
    names: sorted,
    ignore,
    foreground,
    malignant: foreground.filter((v) => labelKind(sorted.get(v)!) === 'malignant'),
    benign: foreground.filter((v) => labelKind(sorted.get(v)!) === 'benign'),
  }
}

/**
 * What a label name says: 'malignant' (malignant, metastatic, tumour, cancer, positive, GTV...),
 * 'benign' (benign, negative, non-malignant, or a lymph node that does not say malignant) or null.
 */
export function labelKind(name: string): 'malignant' | 'benign' | null {
  const n = name.toLowerCase().replace(/[\s-]+/g, '_')
  if (/benign|negative|non_?malignan|non_?metasta/.test(n)) return 'benign'
  if (/malignan|metasta|tumou?r|cancer|positive|carcinoma/.test(n) || /^gtv/.test(n)) return 'malignant'
  if (/(^|_)(lymph_?)?nodes?($|_)|(^|_)ln($|_)|lymph/.test(n)) return 'benign'
  return null
}

/** "0 background, 1 benign_node, 2 malignant_node" (for messages). */
export function describeLabels(labels: LabelSet): string {
  return [...labels.names].map(([v, name]) => `${v} ${name}`).join(', ')
}
