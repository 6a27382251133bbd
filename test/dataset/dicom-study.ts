/**
 * Clinical-style DICOM study trees for testing `nodal dataset import`, made with tools independent of
 * nodal: CT, PET and DICOM-SEG are written by pydicom, RT Structure Sets by plastimatch (from the
 * truth masks, `plastimatch convert --input-ss-img --referenced-ct`), all in
 * test/fixtures/make_dicom_study.py run with Debian's /usr/bin/python3. Deterministic: the same
 * spec gives byte-identical files (UIDs hash seed, patient id and study index; file names come
 * from a seeded RNG).
 *
 * Truth masks live on the CT grid, in nodal's convention (that of readDicomSeries): voxel (i, j, k)
 * is mask[i + nx*(j + ny*k)], i along a DICOM row (column index), j down the columns (row index), k
 * over the slices ascending along the normal axes[2] = axes[0] x axes[1]; its world position (LPS,
 * mm) is origin + i*spacing[0]*axes[0] + j*spacing[1]*axes[1] + k*spacing[2]*axes[2]. `origin` is
 * thus the first pixel of the slice lowest along the normal, whatever the slice order in the files.
 */
import { execFileSync } from 'node:child_process'
import { inflateSync } from 'node:zlib'
import { DEBIAN_PYTHON, fixture, hasCommand, hasPythonModules } from '../helpers.js'

export type Vec3 = [number, number, number]

export interface StructureSpec {
  /** ROI name (RTSTRUCT) and SegmentLabel (SEG); unique within a study; no "|" (plastimatch's list file). */
  name: string
  shape: 'sphere' | 'box'
  /** Centre, world LPS mm. */
  center: Vec3
  /** Sphere radius, mm: voxels whose centre lies within it. */
  radius?: number
  /** Box edge lengths along world x, y, z (LPS), mm: voxels whose centre lies within the box. */
  size?: Vec3
  /** Truth label value reported back (default: index + 1); not written to any file. */
  label?: number
  /** CT value inside, HU (default 60). Later structures paint over earlier ones. */
  hu?: number
  /** PET SUVbw inside, at PET voxel centres (default 6). */
  suv?: number
  /** RTROIInterpretedType in the RTSTRUCT (default: empty, as plastimatch writes it). */
  interpretedType?: string
}

export interface CtSpec {
  /** [columns (nx), rows (ny), slices (nz)]. */
  shape: Vec3
  /** [along a row (between columns), along a column (between rows), between slices], mm. */
  spacing: Vec3
  /** World position of voxel (0,0,0) (see above); default: the grid is centred on (0,0,0). */
  origin?: Vec3
  /** 'axial' (default, rows along +x, columns along +y), 'oblique20' (rotated 20° about two axes, as
   *  test/rtstruct/scene.ts sceneAxes(20)), or the 6 ImageOrientationPatient numbers. */
  orientation?: 'axial' | 'oblique20' | number[]
  /** InstanceNumber / IMG0001 at the lowest slice along the normal ('ascending', default) or the highest. */
  sliceOrder?: 'ascending' | 'descending'
  /** HU outside the structures (default -100). */
  background?: number
  seriesDescription?: string
}

export interface PetSpec {
  /** PET voxel size, mm (default twice the CT's); the grid covers the CT's extent, centred on it. */
  spacing?: Vec3
  shape?: Vec3
  weightKg?: number // 75
  doseBq?: number // 3.7e8
  halfLifeS?: number // 6586.2 (F-18)
  /** RadiopharmaceuticalStartTime, HHMMSS (default '093000'). */
  injectionTime?: string
  /** SeriesTime = AcquisitionTime, HHMMSS (default '103000'). */
  seriesTime?: string
  backgroundSuv?: number // 1
  seriesDescription?: string
}

export interface StudySpec {
  patientId: string
  patientName: string
  /** Default: generated from seed, patient id and study index. */
  studyUid?: string
  /** YYYYMMDD (default '20240315'). */
  studyDate?: string
  studyDescription?: string
  accessionNumber?: string
  ct: CtSpec
  structures?: StructureSpec[]
  /** Default 'rtstruct'. The SEG has one segment per structure, in order; the RTSTRUCT one ROI per structure (+ emptyRoi). */
  structureSet?: 'rtstruct' | 'seg' | 'both' | 'none'
  /** A PT series on a coarser grid, same frame of reference, with Units BQML and DecayCorrection START. */
  pet?: boolean | PetSpec
  /** Write the structure set (and PET) but not the CT series they reference. */
  dropSeries?: boolean
  /** Add an ROI of this name with no contours to the RTSTRUCT (ignored for SEG). */
  emptyRoi?: string
  /** 'nested' (default): PATIENTID/STUDY001/002_CT/IMG0001.dcm (also 003_PT, 101_RTSTRUCT, 102_SEG);
   *  'flat': every file of the study directly in `root`, random 12-hex-digit names, no extension;
   *  'shuffled': random depth 0..3 of random folders, random names, about half ending .dcm. */
  layout?: 'nested' | 'flat' | 'shuffled'
  /** Put the study's files (in its layout) into ROOT/PATIENTID_NNN.zip instead of loose files. */
  zip?: boolean
  /** Folder of this study under `dir` (default: `dir` itself). */
  root?: string
  /** Seed for UIDs and names (default: study index + 1). */
  seed?: number
  /** StructureSetLabel/Name of the RTSTRUCT (default 'NODES'). */
  structureSetLabel?: string
  /** Keep plastimatch's per-contour ContourImageSequence UIDs, which are wrong for oblique series
   *  (it matches slices by z alone); by default each contour references the slice it lies on. */
  rawPlastimatchRefs?: boolean
}

export interface Grid {
  shape: Vec3
  spacing: Vec3
  origin: Vec3
  /** [row direction, column direction, slice normal]. */
  axes: [Vec3, Vec3, Vec3]
}

export interface SeriesTruth {
  seriesUid: string
  /** In slice order (k ascending along the normal). */
  sopInstanceUids: string[]
  /** InstanceNumber of each slice, in the same order. */
  instanceNumbers: number[]
  /** The files, in slice order; absolute paths, or member names when the study is zipped; [] when dropped. */
  files: string[]
  grid: Grid
}

export interface PetTruth extends SeriesTruth {
  /** SUVbw per Bq/ml (weight[g] / decayed dose[Bq]). */
  suvFactor: number
  /** Bq/ml per stored value; the SUV read back is within suvFactor*rescaleSlope/2 of the spec's. */
  rescaleSlope: number
  weightKg: number
  doseBq: number
  halfLifeS: number
  injectionTime: string
  seriesTime: string
  decaySeconds: number
}

export interface StructureTruth {
  name: string
  label: number
  voxels: number
  /** 1 inside, on the CT grid (see the file comment for the index). */
  mask: Uint8Array
}

export interface StudyTruth {
  index: number
  patientId: string
  patientName: string
  studyUid: string
  frameOfReferenceUid: string
  studyDate: string
  /** Absolute folder of the study (`dir`/root). */
  root: string
  /** Absolute path of the zip when `zip` was set; then every file path below is a member name in it. */
  zip: string | null
  /** Every file written for the study (CT, PET, RTSTRUCT, SEG order). */
  files: string[]
  ct: SeriesTruth
  /** False with dropSeries: ct.files is [] but the UIDs are those the structure set references. */
  ctWritten: boolean
  pet: PetTruth | null
  rtstruct: {
    file: string
    seriesUid: string
    sopInstanceUid: string
    /** ROI names in ROI number order (1, 2, ...): the structures, then emptyRoi. */
    roiNames: string[]
    /** Contours whose slice reference plastimatch got wrong (fixed unless rawPlastimatchRefs). */
    misreferencedContours: number
    contourRefsFixed: boolean
  } | null
  seg: { file: string; seriesUid: string; sopInstanceUid: string; segmentLabels: string[]; frames: number } | null
  emptyRoi: string | null
  structures: StructureTruth[]
}

/** Why makeDicomStudies cannot run here (for a test's `skip`), or false. */
export function dicomStudySkip(): string | false {
  if (!hasPythonModules('pydicom', 'numpy')) return 'Debian python3 with pydicom and numpy not installed'
  if (!hasCommand('plastimatch')) return 'plastimatch not installed'
  return false
}

/** Writes the studies under `dir` and returns what is in them. */
export async function makeDicomStudies(dir: string, spec: StudySpec[]): Promise<StudyTruth[]> {
  let stdout: string
  try {
    stdout = execFileSync(DEBIAN_PYTHON, [fixture('make_dicom_study.py')], {
      input: JSON.stringify({ out: dir, studies: spec }),
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
  } catch (e) {
    const err = e as { stderr?: string; message: string }
    throw new Error(`make_dicom_study.py failed: ${err.stderr?.trim() || err.message}`)
  }
  const raw = JSON.parse(stdout) as Array<Omit<StudyTruth, 'structures'> & { structures: Array<Omit<StructureTruth, 'mask'> & { maskZlibBase64: string }> }>
  return raw.map((t) => ({
    ...t,
    structures: t.structures.map(({ maskZlibBase64, ...s }) => ({ ...s, mask: new Uint8Array(inflateSync(Buffer.from(maskZlibBase64, 'base64'))) })),
  }))
}
