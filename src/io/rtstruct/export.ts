/**
 * `nodal export`'s library face: a label map and a reference DICOM series in, an RT Structure Set or
 * a DICOM-SEG out. Everything is checked before anything is written. `exportStructures` reads the label
 * map from a file; `exportLabelVolume` takes one in memory (nodal predict's DICOM outputs).
 */
import { NodalError } from '../../errors.js'
import type { Volume } from '../../volume/volume.js'
import { readLabelMap } from '../index.js'
import { writeSeg } from '../seg/write.js'
import { readReferenceSeries, ReferenceSeries } from './reference.js'
import { labelsOnGrid, LabelNames, readInstanceClasses, readLabelNames, StructureOptions, StructureSet, structuresFromLabels } from './structures.js'
import { writeRtstruct } from './write.js'

export type ExportFormat = 'rtstruct' | 'seg'

export interface ExportOptions {
  format: ExportFormat
  /** JSON of label names ({"1": "LN"} or a dataset.json). */
  names?: string
  /** JSON of instance classes; the label map then holds node instances. */
  instances?: string
  perNode?: boolean
  /** Part of the labels outside the reference: export the part inside with a warning, instead of refusing. */
  allowClip?: boolean
  warn?: (message: string) => void
}

export async function exportStructures(labelsFile: string, referenceDir: string, out: string, opts: ExportOptions): Promise<StructureSet> {
  checkOutput(out)
  const names: LabelNames | undefined = opts.names ? readLabelNames(opts.names) : undefined
  const instances = opts.instances ? readInstanceClasses(opts.instances) : undefined
  const ref = readReferenceSeries(referenceDir)
  const labels = labelsOnGrid(await readLabelMap(labelsFile, { maxValues: opts.instances ? 65535 : undefined }), ref.grid, labelsFile, referenceDir, { allow: opts.allowClip, warn: opts.warn })
  if (names && !instances) warnUnusedNames(names, labels, opts.names!, opts.warn)
  return writeStructures(labels, ref, out, opts.format, { names, instances, perNode: opts.perNode })
}

export interface VolumeExportOptions extends StructureOptions {
  format: ExportFormat
  /** What the label map is, for messages (default 'the label map'). */
  source?: string
}

/** As exportStructures, for a label (or, with `instances`, instance) map in memory, on any grid. */
export async function exportLabelVolume(labels: Volume, referenceDir: string, out: string, opts: VolumeExportOptions): Promise<StructureSet> {
  checkOutput(out)
  const ref = readReferenceSeries(referenceDir)
  const onGrid = labelsOnGrid(labels, ref.grid, opts.source ?? 'the label map', referenceDir)
  return writeStructures(onGrid, ref, out, opts.format, { names: opts.names, instances: opts.instances, perNode: opts.perNode })
}

function checkOutput(out: string): void {
  if (!/\.dcm$/i.test(out)) throw new NodalError('bad-output', `${out}: the output of an export is one DICOM file; name it .dcm`)
}

async function writeStructures(labels: Volume, ref: ReferenceSeries, out: string, format: ExportFormat, opts: StructureOptions): Promise<StructureSet> {
  const set = structuresFromLabels(labels, opts)
  if (format === 'rtstruct') await writeRtstruct(out, ref, set)
  else await writeSeg(out, ref, set)
  return set
}

/** --names entries for labels the map does not hold do nothing: say so (a typo in a label value looks the same). */
function warnUnusedNames(names: LabelNames, labels: Volume, file: string, warn?: (m: string) => void): void {
  const present = new Set<number>()
  for (let v = 0; v < labels.data.length; v++) present.add(labels.data[v]!)
  const unused = [...names.keys()].filter((value) => value !== 0 && !present.has(value))
  if (unused.length) warn?.(`${file}: names label${unused.length === 1 ? '' : 's'} ${unused.join(', ')}, which the label map does not hold (inside the reference)`)
}
