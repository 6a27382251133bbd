/**
 * import_report.json (everything the import saw and did) and import_report.csv (one row per study: the
 * series used, the structures found, mapped and skipped, and why a study was skipped), so a user can
 * refine the --map rules and see at once what did not come in.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface RoiReport {
  name: string
  label: number | null
  rule: string | null
  status: 'mapped' | 'unmatched' | 'no contours' | 'empty on the image grid' | 'structure set not used'
  /** Voxels it gave the label map, and voxels it lost to a structure of an earlier rule. */
  voxels: number
  voxels_lost_to_overlap: number
}

export interface CaseReport {
  case: string
  patient_id: string
  study_uid: string
  modality: string
  image_series: string
  pet_series: string | null
  structure_set: { kind: 'RTSTRUCT' | 'SEG'; file: string; sop_instance_uid: string }
  shape: number[]
  spacing_mm: number[]
  rois: RoiReport[]
}

export interface SkippedReport {
  patient_id: string
  study_uid: string
  file: string
  reason: string
  rois?: RoiReport[]
}

export interface ImportReport {
  input: string
  out: string
  map: { rule: string; label: number; name: string }[]
  files: { dicom: number; other: number; unreadable: number; zips: number }
  channels: string[]
  partial_margin_mm: number | null
  /** Every structure name seen, matched or not, with its label (null: unmatched) and how many studies had it. */
  roi_names: { name: string; label: number | null; studies: number }[]
  cases: CaseReport[]
  skipped: SkippedReport[]
  notes: string[]
}

export const REPORT_JSON = 'import_report.json'
export const REPORT_CSV = 'import_report.csv'

export function writeImportReport(dir: string, r: ImportReport): void {
  writeFileSync(join(dir, REPORT_JSON), JSON.stringify(r, null, 2) + '\n')
  const header = ['case', 'status', 'patient_id', 'study_uid', 'image_series', 'pet_series', 'structure_set', 'rois_found', 'rois_mapped', 'rois_skipped', 'reason']
  const rows = [
    ...r.cases.map((c) => [c.case, 'imported', c.patient_id, c.study_uid, c.image_series, c.pet_series ?? '', `${c.structure_set.kind} ${c.structure_set.file}`, ...roiColumns(c.rois), '']),
    ...r.skipped.map((s) => ['', 'skipped', s.patient_id, s.study_uid, '', '', s.file, ...roiColumns(s.rois ?? []), s.reason]),
  ]
  writeFileSync(join(dir, REPORT_CSV), [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n')
}

function roiColumns(rois: RoiReport[]): string[] {
  const mapped = rois.filter((x) => x.status === 'mapped').map((x) => `${x.name}=${x.label}`)
  const skipped = rois.filter((x) => x.status !== 'mapped').map((x) => `${x.name} (${x.status})`)
  return [rois.map((x) => x.name).join('; '), mapped.join('; '), skipped.join('; ')]
}

function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}
