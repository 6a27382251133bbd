/**
 * Writing a volume as a DICOM image series (one CT Image Storage file per slice), so that a case
 * that only exists as NIfTI/NRRD can travel to a planning system together with its structures.
 * Also the one place that turns a naturalized dcmjs dataset into Part 10 bytes.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import dcmjs from 'dcmjs'
import { NodalError } from '../../errors.js'
import { cross, dot, indexToWorld, Vec3, Volume } from '../../volume/volume.js'
import { dicomNow, newUid } from '../rtstruct/uid.js'
import { writeAtomically } from '../index.js'
import { Dataset, readDicomHeader, str } from './header.js'
import { chooseSeries, groupSeries, scanFolder } from './series.js'

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2'
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1'
/** Identifies files written by nodal (a 2.25 UID fixed for this implementation). */
export const NODAL_IMPLEMENTATION_UID = '2.25.137186306146880466213373356513386911046'

/** Part 10 bytes (preamble, file meta, explicit VR little endian) of a naturalized dataset. */
export function dicomFileBytes(ds: Dataset): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: ds.SOPClassUID,
    MediaStorageSOPInstanceUID: ds.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: NODAL_IMPLEMENTATION_UID,
    ImplementationVersionName: 'NODAL_0_1',
  }
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta))
  dict.dict = DicomMetaDictionary.denaturalizeDataset(ds)
  return new Uint8Array(dict.write())
}

/** A Decimal String value (at most 16 characters) as close to `v` as that allows. */
export function formatDS(v: number): string {
  if (Object.is(v, -0) || Math.abs(v) < 1e-12) return '0'
  for (let digits = 16; digits > 1; digits--) {
    const text = String(Number(v.toPrecision(digits)))
    if (text.length <= 16) return text
  }
  return v.toExponential(6)
}

/** Patient and study attributes shared by every object nodal writes for one case. */
export const PATIENT_STUDY_KEYS = [
  'PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'PatientAge',
  'StudyInstanceUID', 'StudyDate', 'StudyTime', 'StudyID', 'StudyDescription', 'AccessionNumber', 'ReferringPhysicianName',
] as const

/** Patient/study attributes of `ds`, with the Type 2 ones present (empty) when missing. */
export function patientAndStudy(ds: Dataset): Dataset {
  const out: Dataset = {}
  for (const key of PATIENT_STUDY_KEYS) out[key] = ds[key] ?? ''
  return out
}

export interface WriteSeriesOptions {
  /**
   * A DICOM folder whose patient, study and Frame of Reference the new series joins. Only right
   * when the volume is in that scan's patient coordinates (e.g. it was converted from it).
   */
  like?: string
  seriesDescription?: string
  seriesNumber?: number
}

/** Writes `vol` as a CT series into folder `outDir` (created; files appear only when all are written). */
export async function writeDicomSeries(vol: Volume, outDir: string, opts: WriteSeriesOptions = {}): Promise<string[]> {
  // slices of an earlier series left beside ours would make the folder two series that readers mix up
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new NodalError('bad-output', `${outDir}: is not empty (it may hold another series); give a new or empty folder`)
  const modality = String(vol.meta.modality ?? '').toUpperCase()
  if (['PT', 'PET', 'MR', 'NM'].includes(modality)) {
    throw new NodalError('bad-input', `this volume is ${modality}; nodal writes DICOM series as CT only (a ${modality} volume written as CT would be mislabelled): keep it as NIfTI`)
  }
  const normal = checkSliceAxes(vol)
  const shared = seriesAttributes(vol, opts)
  const { slope, intercept, stored } = toStoredInt16(vol)
  const perSlice = vol.shape[0] * vol.shape[1]
  const names: string[] = []
  await writeAtomically(join(outDir, '.series'), (tmp) => {
    const tmpDir = dirname(tmp)
    for (let k = 0; k < vol.shape[2]; k++) {
      const position = indexToWorld(vol, [0, 0, k])
      const pixels = stored.slice(k * perSlice, (k + 1) * perSlice)
      const ds: Dataset = {
        ...shared,
        SOPInstanceUID: newUid(),
        InstanceNumber: k + 1,
        ImagePositionPatient: position.map(formatDS),
        SliceLocation: formatDS(dot(position, normal)),
        RescaleSlope: formatDS(slope),
        RescaleIntercept: formatDS(intercept),
        PixelData: [pixels.buffer],
        _vrMap: { PixelData: 'OW' },
      }
      const name = `slice_${String(k + 1).padStart(4, '0')}.dcm`
      writeFileSync(join(tmpDir, name), dicomFileBytes(ds))
      names.push(name)
    }
  })
  return names.map((n) => join(outDir, n))
}

/** The slice normal; throws when the voxel axes cannot be expressed as a DICOM slice stack. */
function checkSliceAxes(vol: Volume): Vec3 {
  const [row, col, slice] = vol.axes
  const normal = cross(row, col)
  const orthogonal = Math.abs(dot(row, col)) < 1e-4 && Math.abs(Math.abs(dot(slice, normal)) - 1) < 1e-4
  if (!orthogonal) throw new NodalError('bad-geometry', 'the volume has sheared (non-orthogonal) voxel axes; a DICOM series cannot store it')
  return normal
}

function seriesAttributes(vol: Volume, opts: WriteSeriesOptions): Dataset {
  const { date, time } = dicomNow()
  const reference = opts.like ? referenceHeader(opts.like) : undefined
  const base: Dataset = reference
    ? patientAndStudy(reference)
    : { ...patientAndStudy({}), PatientName: 'nodal^anonymous', PatientID: 'NODAL', StudyInstanceUID: newUid(), StudyDate: date, StudyTime: time, StudyID: '1' }
  return {
    ...base,
    SOPClassUID: CT_IMAGE_STORAGE,
    SpecificCharacterSet: 'ISO_IR 100',
    ImageType: ['DERIVED', 'SECONDARY', 'AXIAL'],
    Modality: 'CT',
    Laterality: '',
    Manufacturer: 'nodal',
    SeriesInstanceUID: newUid(),
    SeriesNumber: opts.seriesNumber ?? 901,
    SeriesDescription: opts.seriesDescription ?? 'written by nodal',
    SeriesDate: date,
    SeriesTime: time,
    ContentDate: date,
    ContentTime: time,
    FrameOfReferenceUID: reference ? str(reference, 'FrameOfReferenceUID') || newUid() : newUid(),
    PositionReferenceIndicator: '',
    PatientPosition: reference ? str(reference, 'PatientPosition') || 'HFS' : 'HFS',
    KVP: '',
    AcquisitionNumber: 1,
    ImageOrientationPatient: [...vol.axes[0], ...vol.axes[1]].map(formatDS),
    PixelSpacing: [vol.spacing[1], vol.spacing[0]].map(formatDS),
    SliceThickness: formatDS(vol.spacing[2]),
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: vol.shape[1],
    Columns: vol.shape[0],
    BitsAllocated: 16,
    BitsStored: 16,
    HighBit: 15,
    PixelRepresentation: 1,
    RescaleType: 'HU',
  }
}

function referenceHeader(dir: string): Dataset {
  const series = chooseSeries(dir, groupSeries(scanFolder(dir)))
  return readDicomHeader(series.headers[0].file)!.ds
}

/** Voxel values as int16 with a rescale: exact for integer data within int16, else scaled to fit. */
function toStoredInt16(vol: Volume): { slope: number; intercept: number; stored: Int16Array } {
  let min = Infinity, max = -Infinity, integral = true
  for (let n = 0; n < vol.data.length; n++) {
    const v = vol.data[n]
    if (v < min) min = v
    if (v > max) max = v
    if (integral && !Number.isInteger(v)) integral = false
  }
  if (!Number.isFinite(min)) min = max = 0
  const exact = integral && min >= -32768 && max <= 32767
  const intercept = exact ? 0 : (min + max) / 2
  const slope = exact ? 1 : Math.max((max - min) / 65000, 1e-6)
  const stored = new Int16Array(vol.data.length)
  for (let n = 0; n < stored.length; n++) stored[n] = Math.round((vol.data[n] - intercept) / slope)
  return { slope, intercept, stored }
}
