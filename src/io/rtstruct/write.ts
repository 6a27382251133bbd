/**
 * RT Structure Set writer: one ROI per structure, closed planar contours per slice traced from the
 * masks (see trace.ts), built as a dcmjs dataset.
 *
 * Written by hand rather than with @itk-wasm/dicom's writeRtStructNode: that function takes a
 * plastimatch CXT text file, has no upstream tests, and offers no way to set the RT ROI Interpreted
 * Type; the contours have to be traced here anyway, and dcmjs does the DICOM encoding.
 */
import { writeFileSync } from 'node:fs'
import { indexToWorld } from '../../volume/volume.js'
import { Dataset, str } from '../dicom/header.js'
import { dicomFileBytes, patientAndStudy } from '../dicom/write-series.js'
import { writeAtomically } from '../index.js'
import { ReferenceSeries } from './reference.js'
import { interpretedType, StructureSet, structureMask } from './structures.js'
import { traceSlice } from './trace.js'
import { dicomNow, newUid } from './uid.js'

export const RT_STRUCTURE_SET_STORAGE = '1.2.840.10008.5.1.4.1.1.481.3'
/** The (retired) Detached Study Management SOP Class that RT Referenced Study Sequence conventionally names. */
const STUDY_COMPONENT_CLASS = '1.2.840.10008.3.1.2.3.1'

export interface PlanarContour {
  /** Index of the reference slice it lies on. */
  slice: number
  /** x,y,z triplets in LPS mm. */
  points: number[]
}

/** Closed contours (LPS mm) of every slice of one structure. */
export function contoursOfStructure(set: StructureSet, number: number): PlanarContour[] {
  const s = set.structures[number - 1]
  const { mask, shape, start } = structureMask(set, s)
  const contours: PlanarContour[] = []
  for (let k = 0; k < shape[2]; k++) {
    for (const loop of traceSlice(mask, shape, k)) {
      const points: number[] = []
      for (const [i, j] of loop) points.push(...indexToWorld(set.grid, [start[0] + i, start[1] + j, start[2] + k]))
      contours.push({ slice: start[2] + k, points })
    }
  }
  return contours
}

export interface RtstructOptions {
  label?: string
  seriesDescription?: string
  seriesNumber?: number
}

export function buildRtstruct(ref: ReferenceSeries, set: StructureSet, opts: RtstructOptions = {}): Dataset {
  const { date, time } = dicomNow()
  const imageRef = (k: number) => ({ ReferencedSOPClassUID: ref.sopClassUid, ReferencedSOPInstanceUID: ref.sopInstanceUids[k] })
  const sopInstanceUid = newUid()
  return {
    ...patientAndStudy(ref.ds),
    SpecificCharacterSet: 'ISO_IR 100',
    SOPClassUID: RT_STRUCTURE_SET_STORAGE,
    SOPInstanceUID: sopInstanceUid,
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    Modality: 'RTSTRUCT',
    Manufacturer: 'nodal',
    SeriesInstanceUID: newUid(),
    SeriesNumber: opts.seriesNumber ?? 902,
    SeriesDescription: opts.seriesDescription ?? 'nodal structures',
    OperatorsName: '',
    InstanceNumber: 1,
    FrameOfReferenceUID: ref.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    StructureSetLabel: (opts.label ?? 'nodal').slice(0, 16),
    StructureSetDate: date,
    StructureSetTime: time,
    ReferencedFrameOfReferenceSequence: [{
      FrameOfReferenceUID: ref.frameOfReferenceUid,
      RTReferencedStudySequence: [{
        ReferencedSOPClassUID: STUDY_COMPONENT_CLASS,
        ReferencedSOPInstanceUID: str(ref.ds, 'StudyInstanceUID'),
        RTReferencedSeriesSequence: [{
          SeriesInstanceUID: ref.seriesInstanceUid,
          ContourImageSequence: ref.sopInstanceUids.map((_, k) => imageRef(k)),
        }],
      }],
    }],
    StructureSetROISequence: set.structures.map((s) => ({
      ROINumber: s.number,
      ReferencedFrameOfReferenceUID: ref.frameOfReferenceUid,
      ROIName: s.name,
      ROIGenerationAlgorithm: 'AUTOMATIC',
    })),
    ROIContourSequence: set.structures.map((s) => ({
      ROIDisplayColor: s.color,
      ReferencedROINumber: s.number,
      ContourSequence: contoursOfStructure(set, s.number).map((c, index) => ({
        ContourNumber: index + 1,
        ContourImageSequence: [imageRef(c.slice)],
        ContourGeometricType: 'CLOSED_PLANAR',
        NumberOfContourPoints: c.points.length / 3,
        ContourData: c.points.map(formatCoordinate),
      })),
    })),
    RTROIObservationsSequence: set.structures.map((s) => ({
      ObservationNumber: s.number,
      ReferencedROINumber: s.number,
      RTROIInterpretedType: interpretedType(s.name),
      ROIInterpreter: '',
    })),
  }
}

/** Coordinates to 1e-4 mm, as short Decimal Strings. */
function formatCoordinate(v: number): string {
  const r = Math.round(v * 1e4) / 1e4
  return Object.is(r, -0) ? '0' : String(r)
}

export async function writeRtstruct(file: string, ref: ReferenceSeries, set: StructureSet, opts: RtstructOptions = {}): Promise<void> {
  const bytes = dicomFileBytes(buildRtstruct(ref, set, opts))
  await writeAtomically(file, (tmp) => writeFileSync(tmp, bytes))
}

