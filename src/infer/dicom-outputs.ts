/**
 * `nodal predict`'s DICOM outputs for DICOM input: rtstruct.dcm (RT Structure Set) and seg.dcm
 * (DICOM-SEG) on the series the scan was read from, through nodal export's writer
 * (src/io/rtstruct/export.ts): one structure per output class, or with perNode one per node.
 * Names are the model's class names in AAPM TG-263 style where they are lymph nodes (malignant -> GTVn,
 * other nodes -> LN; tg263NodeNames); per node they are numbered per class (GTVn_01, GTVn_02, LN_01, ...
 * in node id order), as `nodal export --instances` numbers them.
 * File input has no series to refer to, and a case without nodes has nothing to write: both write nothing.
 */
import { join } from 'node:path'
import { type OutputClass, outputClasses } from '../bundle/index.js'
import { exportLabelVolume, type ExportFormat } from '../io/rtstruct/export.js'
import { type LabelNames, tg263NodeNames } from '../io/rtstruct/structures.js'
import type { CaseWriter } from './outputs.js'

export const RTSTRUCT_DCM = 'rtstruct.dcm'
export const SEG_DCM = 'seg.dcm'

/** Structure names of a model's output classes (class index -> name), background left out. */
export function classStructureNames(classes: OutputClass[]): LabelNames {
  return tg263NodeNames(new Map(classes.filter((k) => k.index > 0).map((k) => [k.index, k.name])))
}

export function dicomOutputWriter(perNode: boolean): CaseWriter {
  return async (tmpDir, c) => {
    const formats = (['rtstruct', 'seg'] as ExportFormat[]).filter((f) => c.formats.has(f))
    if (!c.dicomDir || formats.length === 0 || c.result.nodes.length === 0) return
    const names = classStructureNames(outputClasses(c.model))
    // per node: the instance map, each instance carrying its class (as nodal export --instances reads it)
    const labels = perNode ? c.result.instances : c.result.labels
    const instances = perNode ? new Map(c.result.nodes.map((n) => [n.id, { label: n.class_index }])) : undefined
    for (const format of formats) {
      await exportLabelVolume(labels, c.dicomDir, join(tmpDir, format === 'rtstruct' ? RTSTRUCT_DCM : SEG_DCM), {
        format, names, instances, source: `${c.caseName}: the predicted ${perNode ? 'nodes' : 'labels'}`,
      })
    }
  }
}
