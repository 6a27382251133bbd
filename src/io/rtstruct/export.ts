/**
 * `nodal export`'s library face: a label map and a reference DICOM series in, an RT Structure Set or
 * a DICOM-SEG out. Everything is checked before anything is written.
 */
import { NodalError } from '../../errors.js'
import { readVolume } from '../index.js'
import { writeSeg } from '../seg/write.js'
import { readReferenceSeries } from './reference.js'
import { labelsOnGrid, LabelNames, readInstanceClasses, readLabelNames, StructureSet, structuresFromLabels } from './structures.js'
import { writeRtstruct } from './write.js'

export type ExportFormat = 'rtstruct' | 'seg'

export interface ExportOptions {
  format: ExportFormat
  /** JSON of label names ({"1": "LN"} or a dataset.json). */
  names?: string
  /** JSON of instance classes; the label map then holds node instances. */
  instances?: string
  perNode?: boolean
}

export async function exportStructures(labelsFile: string, referenceDir: string, out: string, opts: ExportOptions): Promise<StructureSet> {
  if (!/\.dcm$/i.test(out)) throw new NodalError('bad-output', `${out}: the output of an export is one DICOM file; name it .dcm`)
  const names: LabelNames | undefined = opts.names ? readLabelNames(opts.names) : undefined
  const instances = opts.instances ? readInstanceClasses(opts.instances) : undefined
  const ref = readReferenceSeries(referenceDir)
  const labels = labelsOnGrid(await readVolume(labelsFile), ref.grid, labelsFile, referenceDir)
  const set = structuresFromLabels(labels, { names, instances, perNode: opts.perNode })
  if (opts.format === 'rtstruct') await writeRtstruct(out, ref, set)
  else await writeSeg(out, ref, set)
  return set
}
