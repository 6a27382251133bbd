/**
 * DICOM-SEG writer: binary segmentation, one segment per structure, written by dcmqi (the QIICR
 * reference implementation, compiled to WebAssembly in @itk-wasm/dicom). nodal hands it the
 * structure map on the reference grid, the reference slices and the segment descriptions; dcmqi
 * matches frames to the reference slices, omits empty frames and encodes the multi-frame object.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { writeSegmentationNode } from '@itk-wasm/dicom'
import dcmjs from 'dcmjs'
import { NodalError } from '../../errors.js'
import { itkImageFromVolume } from '../itk.js'
import { writeAtomically } from '../index.js'
import { ReferenceSeries } from '../rtstruct/reference.js'
import { StructureSet } from '../rtstruct/structures.js'
import { Volume } from '../../volume/volume.js'

interface Code { CodeValue: string; CodingSchemeDesignator: string; CodeMeaning: string }

const SCT = (CodeValue: string, CodeMeaning: string): Code => ({ CodeValue, CodingSchemeDesignator: 'SCT', CodeMeaning })
const ANATOMICAL_STRUCTURE = SCT('91723000', 'Anatomical Structure')
const MORPHOLOGICALLY_ALTERED = SCT('49755003', 'Morphologically Altered Structure')
const LYMPH_NODE = SCT('59441001', 'Lymph node')
const NEOPLASM = SCT('108369006', 'Neoplasm')
const TISSUE = SCT('85756007', 'Tissue')

/**
 * SNOMED CT category, type and (for tumours) anatomic region of a structure, from its TG-263 name:
 * GTV... = malignant node (a neoplasm in a lymph node), LN... = lymph node, anything else tissue.
 */
export function segmentCodes(name: string): { category: Code; type: Code; region?: Code } {
  if (/^GTV/i.test(name)) return { category: MORPHOLOGICALLY_ALTERED, type: NEOPLASM, region: LYMPH_NODE }
  if (/^(LN|lymph|node)/i.test(name)) return { category: ANATOMICAL_STRUCTURE, type: LYMPH_NODE }
  return { category: ANATOMICAL_STRUCTURE, type: TISSUE }
}

/** The dcmqi segmentation description (its "meta JSON") for a structure set. */
export function dcmqiMetaInfo(set: StructureSet, seriesDescription: string): Record<string, unknown> {
  return {
    ContentCreatorName: 'nodal^',
    SeriesDescription: seriesDescription,
    SeriesNumber: '903',
    InstanceNumber: '1',
    BodyPartExamined: '',
    ContentLabel: 'NODAL_SEG',
    ContentDescription: 'nodal segmentation',
    segmentAttributes: [set.structures.map((s) => {
      const codes = segmentCodes(s.name)
      return {
        labelID: s.number,
        SegmentLabel: s.name.slice(0, 64),
        SegmentDescription: s.name.slice(0, 64),
        SegmentAlgorithmType: 'AUTOMATIC',
        SegmentAlgorithmName: 'nodal',
        SegmentedPropertyCategoryCodeSequence: codes.category,
        SegmentedPropertyTypeCodeSequence: codes.type,
        ...(codes.region ? { AnatomicRegionSequence: codes.region } : {}),
        recommendedDisplayRGBValue: s.color,
      }
    })],
  }
}

export async function writeSeg(file: string, ref: ReferenceSeries, set: StructureSet, seriesDescription = 'nodal segmentation'): Promise<void> {
  if (set.structures.length > 32767) throw new NodalError('too-many-segments', `${set.structures.length} segments are more than a DICOM-SEG can number`)
  const ids = new Volume(Int16Array.from(set.ids), [...set.grid.shape], [...set.grid.spacing], [...set.grid.origin], set.grid.axes)
  await writeAtomically(file, async (tmp) => {
    await capturingConsole(() => writeSegmentationNode(itkImageFromVolume(ids), dcmqiMetaInfo(set, seriesDescription) as any, resolve(tmp), {
      // the WebAssembly file system mounts absolute paths only
      refDicomSeries: ref.files.map((f) => resolve(f)), skipEmptySlices: true, useLabelidAsSegmentnumber: true,
    }), `dcmqi could not write ${file}`)
    dropClinicalTrialAttributes(tmp)
  })
}

/**
 * dcmqi always fills Clinical Trial Series IDs ("Session1") but leaves out the Type 2 Coordinating
 * Center Name, which makes the module invalid; a clinical export is no trial, so the module goes.
 */
function dropClinicalTrialAttributes(file: string): void {
  const buf = readFileSync(file)
  const parsed = dcmjs.data.DicomMessage.readFile(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length))
  for (const tag of Object.keys(parsed.dict)) if (tag.startsWith('0012')) delete parsed.dict[tag]
  writeFileSync(file, new Uint8Array(parsed.write()))
}

/**
 * Runs a WebAssembly tool whose progress lines go to console.log/console.error, keeping them off
 * nodal's output; on failure their last lines become the error message.
 */
export async function capturingConsole<T>(run: () => Promise<T>, failure: string): Promise<T> {
  const saved = { log: console.log, error: console.error, warn: console.warn }
  const errors: string[] = []
  console.log = () => {}
  console.error = console.warn = (...a: unknown[]) => { errors.push(a.join(' ')) }
  try {
    return await run()
  } catch (e) {
    const detail = [...errors, e instanceof Error ? e.message : JSON.stringify(e)].filter((l) => l.trim()).slice(-2).join('; ')
    throw new NodalError('tool-failed', `${failure}: ${detail.replace(/\s+/g, ' ')}`)
  } finally {
    Object.assign(console, saved)
  }
}
