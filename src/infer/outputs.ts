/**
 * What `nodal predict` writes for one case, in <out>/<case>/:
 *   labels.nii.gz      network class per voxel on the input grid (0 background; see nodes.json "classes")
 *   instances.nii.gz   node id per voxel (the ids of nodes.json)
 *   nodes.json         {"format": "nodal-nodes", "classes": [...], "warnings": [...], "instances": {"<id>": {...}}}:
 *                      the instance-JSON form nodal evaluate reads (score = max probability; class =
 *                      malignant | benign | node), plus every measurement and class_name (the model's class)
 *   nodes.csv          one row per node
 *   probabilities_<class>.nii.gz, uncertainty.nii.gz   on request
 *   cam.nii.gz         multi-stage models: stage 2's class-activation map of each node's decision, in [0, 1]
 * The case folder is written under a temporary name and renamed when complete.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { type ModelJson, outputClasses } from '../bundle/index.js'
import { encodeNifti } from '../io/nifti.js'
import type { Volume } from '../volume/volume.js'
import type { PredictedNode } from './nodes.js'
import type { PredictionResult } from './predict.js'

export const LABELS_FILE = 'labels.nii.gz'
export const INSTANCES_FILE = 'instances.nii.gz'
export const NODES_JSON = 'nodes.json'
export const NODES_CSV = 'nodes.csv'
export const REPORT_HTML = 'report.html'
export const CAM_FILE = 'cam.nii.gz'

export const OUTPUT_FORMATS = ['nifti', 'json', 'csv', 'html', 'rtstruct', 'seg'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

export interface CaseOutput {
  caseName: string
  input: string
  /** The DICOM series the scan came from, for RTSTRUCT/SEG (null for file input). */
  dicomDir: string | null
  model: ModelJson
  modelDir: string
  result: PredictionResult
  formats: Set<OutputFormat>
  seconds: number
  /** Channel 0 as read (input grid), for the report's thumbnails. */
  image?: Volume
}

/** Extra writers (report.html, DICOM exports) run inside the temporary case folder. */
export type CaseWriter = (tmpDir: string, c: CaseOutput) => Promise<void>

export function nodesJson(c: CaseOutput): object {
  return {
    format: 'nodal-nodes',
    version: 1,
    case: c.caseName,
    input: c.input,
    model: { dir: c.modelDir, name: c.model.name, target: c.model.target, folds: c.model.folds.map((f) => f.fold) },
    classes: outputClasses(c.model),
    ...(c.result.stage2 ? { stage2: c.result.stage2 } : {}),
    warnings: c.result.warnings,
    seconds: Math.round(c.seconds * 10) / 10,
    // the evaluate attributes last: `class` is the kind evaluate reads (malignant/benign); class_index names the network class
    instances: Object.fromEntries(c.result.nodes.map((n) => [String(n.id), { ...n, ...instanceAttributes(n), class_name: n.class }])),
  }
}

/** The attributes nodal evaluate reads from an instance JSON. */
/**
 * The attributes nodal evaluate reads from an instance JSON. Score: stage 1's maximum probability; after
 * stage 2, the probability of the class given (P(malignant) for a malignant node, P(benign) for a benign one).
 */
function instanceAttributes(n: PredictedNode): { score: number; class: string; probability_malignant?: number } {
  const kind = /malignant|gtv/i.test(n.class) ? 'malignant' : /benign/i.test(n.class) ? 'benign' : n.class
  if (!n.stage2) return { score: n.score_max, class: kind }
  const score = kind === 'malignant' ? n.stage2.malignant : n.stage2.benign
  return { score, class: kind, probability_malignant: n.probability_malignant }
}

const CSV_COLUMNS: (keyof PredictedNode)[] = [
  'id', 'class', 'score_mean', 'score_max', 'volume_ml', 'short_axis_mm', 'long_axis_mm', 'centre_mm',
  'bbox_voxels', 'mean_hu', 'suv_max', 'entropy', 'disagreement', 'station', 'voxels',
]

export function nodesCsv(nodes: PredictedNode[]): string {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return ''
    if (Array.isArray(v)) return `"${JSON.stringify(v)}"`
    return /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v)
  }
  const header = CSV_COLUMNS.map((c) => (c === 'centre_mm' ? 'centre_lps_mm' : c)).join(',')
  return [header, ...nodes.map((n) => CSV_COLUMNS.map((c) => cell(n[c])).join(','))].join('\n') + '\n'
}

export async function writeCaseOutputs(out: string, c: CaseOutput, writers: CaseWriter[] = []): Promise<string> {
  const dir = join(out, c.caseName)
  mkdirSync(dirname(dir), { recursive: true })
  const tmp = `${dir}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp)
  try {
    const r = c.result
    if (c.formats.has('nifti')) {
      writeFileSync(join(tmp, LABELS_FILE), encodeNifti(r.labels, true))
      writeFileSync(join(tmp, INSTANCES_FILE), encodeNifti(r.instances, true))
      r.probabilities?.forEach((p, k) => writeFileSync(join(tmp, `probabilities_${c.model.classes[k]!.name}.nii.gz`), encodeNifti(p, true)))
      if (r.cam) writeFileSync(join(tmp, CAM_FILE), encodeNifti(r.cam, true))
      if (r.uncertainty) writeFileSync(join(tmp, 'uncertainty.nii.gz'), encodeNifti(r.uncertainty, true))
    }
    if (c.formats.has('json')) writeFileSync(join(tmp, NODES_JSON), JSON.stringify(nodesJson(c), null, 2) + '\n')
    if (c.formats.has('csv')) writeFileSync(join(tmp, NODES_CSV), nodesCsv(r.nodes))
    for (const write of writers) await write(tmp, c)
    if (existsSync(dir)) rmSync(dir, { recursive: true })
    renameSync(tmp, dir)
    return dir
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    throw e
  }
}
