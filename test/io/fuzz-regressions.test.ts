/**
 * Inputs the reader fuzzer (bench/fuzz/fuzz.ts) found that crashed nodal (an uncaught error, an
 * aborted process, a multi-line error), made it allocate far more than the file holds, or took
 * over 5 s. Each must now be refused with a one-line NodalError, quickly, without a large allocation.
 * Fixtures: test/fixtures/fuzz/<format>-<input index>.<ext>, the fuzzer's own inputs (seed 1 or 2),
 * except three rebuilt on a smaller seed to stay small: nifti2-650, rtstruct-2, rtstruct-622 (see
 * bench/fuzz/README.md).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, cpSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { readDataset } from '../../src/dataset/layout.js'
import { NodalError } from '../../src/errors.js'
import { readVolume } from '../../src/io/index.js'
import { rasterizeRoi, readRtstruct } from '../../src/io/rtstruct/read.js'
import { readInstanceClasses } from '../../src/io/rtstruct/structures.js'
import { readSeg, segmentMask } from '../../src/io/seg/read.js'
import { fixture, tempDir } from '../helpers.js'

type Reader = (fixturePath: string, tmp: string) => Promise<unknown>

/** A DICOM file as the only file of a series folder, read as the CLI reads a folder. */
const dicomSeries: Reader = (file, tmp) => {
  mkdirSync(join(tmp, 'series'))
  copyFileSync(file, join(tmp, 'series', 'slice.dcm'))
  return readVolume(join(tmp, 'series'))
}
const volumeAs = (ext: string): Reader => (file, tmp) => {
  copyFileSync(file, join(tmp, `input${ext}`))
  return readVolume(join(tmp, `input${ext}`))
}
/** A detached header and its data file (a fixture folder holding input.<ext> and its data). */
const detached = (ext: string): Reader => (dir, tmp) => {
  cpSync(dir, join(tmp, 'in'), { recursive: true })
  return readVolume(join(tmp, 'in', `input${ext}`))
}
const rtstruct: Reader = async (file) => {
  const rt = readRtstruct(file)
  const grid = { shape: [32, 32, 3], spacing: [0.81, 0.81, 1], origin: [-40.67, -32.27, -128.69], axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] } as const
  for (const roi of rt.rois) rasterizeRoi(roi, structuredClone(grid) as any, file)
}
const seg: Reader = async (file) => {
  const s = readSeg(file)
  s.segments.forEach((_, i) => segmentMask(s, i))
}
const datasetJson: Reader = async (file, tmp) => {
  copyFileSync(file, join(tmp, 'dataset.json'))
  return readDataset(tmp)
}
const instanceJson: Reader = async (file) => readInstanceClasses(file)

interface Case { fixture: string; found: string; read: Reader; refusal: RegExp }

const OVERLONG = /an element declares \d+ bytes, more than the \d+ bytes of data/

const CASES: Case[] = [
  { fixture: 'dicom-71.dcm', found: 'a length field of 892 MB in a 3 kB file: dcmjs allocated it, V8 aborted the process', read: dicomSeries, refusal: OVERLONG },
  { fixture: 'dicom-0.dcm', found: 'a length field of 775 MB: dcmjs allocated it zero-filled (1.5 GB with GDCM)', read: dicomSeries, refusal: OVERLONG },
  { fixture: 'dicom-series-1.dcm', found: 'a private element declaring 290 MB', read: dicomSeries, refusal: OVERLONG },
  { fixture: 'dicom-89.dcm', found: 'the header read passed, the pixel read threw dcmjs\'s raw Error', read: dicomSeries, refusal: /slice\.dcm: corrupt DICOM file \(/ },
  { fixture: 'dicom-35172.dcm', found: 'TransferSyntaxUID given VR UT: a two-line message, and GDCM, handed the unknown syntax, took 744 MB', read: dicomSeries, refusal: /has transfer syntax "[\d.]+", which is neither uncompressed nor a compression nodal decodes/ },
  { fixture: 'dicom-deflate.dcm', found: '(rtstruct-37460 / seg-19177 applied to a slice) a deflated syntax over plain data: the series reader\'s catch met a thrown string', read: dicomSeries, refusal: /slice\.dcm: corrupt DICOM file \(invalid stored block lengths\)/ },
  { fixture: 'dicom-73.dcm', found: 'SliceThickness -1e308: Volume threw a plain Error on the negative spacing', read: dicomSeries, refusal: /has an unusable voxel size/ },
  { fixture: 'rtstruct-2.dcm', found: 'a ContourData with VR UN: its text read as a 775 MB length (1.5-3.5 GB allocated; one took 27 s)', read: rtstruct, refusal: OVERLONG },
  { fixture: 'rtstruct-622.dcm', found: 'a SpecificCharacterSet holding a carriage return: dcmjs\'s message broke the line', read: rtstruct, refusal: /is not a readable DICOM file \(Unsupported character set: iso-ir-100\)$/ },
  { fixture: 'rtstruct-8990.dcm', found: 'SOPClassUID with a long VR swallowing the next elements: its bytes, a line break among them, in the message', read: rtstruct, refusal: /is not an RT Structure Set \(SOP Class "840\.10008/ },
  { fixture: 'rtstruct-16915.dcm', found: 'an ROIName swallowing a line break, then a contour off the slices: a two-line message', read: rtstruct, refusal: /ROI "label_2 .*\\n.*" has a contour that is not parallel/ },
  { fixture: 'rtstruct-37460.dcm', found: 'TransferSyntaxUID made deflated: pako threw a string, and the reader\'s catch read .message.split of undefined', read: rtstruct, refusal: /is not a readable DICOM file \(invalid stored block lengths\)/ },
  { fixture: 'seg-19177.dcm', found: 'the same string thrown by the inflate, in the SEG reader', read: seg, refusal: /is not a readable DICOM file \(invalid stored block lengths\)/ },
  { fixture: 'seg-27669.dcm', found: 'a frame position of 1e308: a grid of Infinity slices, then new Uint8Array(Infinity)', read: seg, refusal: /frame positions span Infinity slices/ },
  { fixture: 'seg-39452.dcm', found: 'PixelSpacing 0\\0: worldToIndex threw "singular voxel axes"', read: seg, refusal: /has an unusable plane orientation, pixel spacing or slice step/ },
  { fixture: 'seg-194.dcm', found: 'a nested string of 808 MB: V8 aborted (FATAL ERROR) inside dcmjs', read: seg, refusal: OVERLONG },
  { fixture: 'seg-276.dcm', found: 'dcmjs\'s naturalizeDataset threw a TypeError outside the reader\'s try', read: seg, refusal: /is not a readable DICOM file \(/ },
  { fixture: 'mha-219.mha', found: 'ElementSpacing 3 3 0 passed by ITK: Volume threw a plain Error', read: volumeAs('.mha'), refusal: /has an unusable voxel spacing \(3 x 3 x 0\)/ },
  { fixture: 'mha-128.mha', found: 'ElementSpacing 3 3 -647441218 passed by ITK: Volume threw a plain Error', read: volumeAs('.mha'), refusal: /has an unusable voxel spacing \(3 x 3 x -647441218\)/ },
  { fixture: 'mha-183.mha', found: 'CompressedDataSize 1504939187: ITK allocated 1.4 GB for a 3 kB file', read: volumeAs('.mha'), refusal: /declares CompressedDataSize 1504939187 but holds \d+ bytes/ },
  { fixture: 'mha-678.mha', found: 'negative DimSize (ITK reads 2^64 - n): 80 s and 1.8 GB of RSS', read: volumeAs('.mha'), refusal: /declares NDims, sizes or channels that are not positive numbers/ },
  { fixture: 'mha-617.mha', found: 'NDims -1489212829 and a DimSize of 1e308: ITK spun for 42 s', read: volumeAs('.mha'), refusal: /declares NDims, sizes or channels that are not positive numbers/ },
  { fixture: 'mhd-118', found: 'CompressedDataSize -1120339091 in a detached header: ITK allocated 2.9 GB', read: detached('.mhd'), refusal: /declares CompressedDataSize -1120339091/ },
  { fixture: 'mhd-21223', found: 'CompressedData = 1248270847 (true to MetaIO, which reads the first character) with CompressedDataSize -1487477310: 2.6 GB', read: detached('.mhd'), refusal: /declares CompressedDataSize -1487477310/ },
  { fixture: 'mhd-58705', found: 'one byte of the .zraw changed so that the zlib header sets FDICT: MetaIO looped for ever (killed after 120 s)', read: detached('.mhd'), refusal: /asks for a zlib preset dictionary/ },
  { fixture: 'mhd-725', found: 'an empty ElementDataFile with compressed data: the FDICT check (above) opened the header\'s folder as the data file (EISDIR)', read: detached('.mhd'), refusal: /ITK could not read it/ },
  { fixture: 'mhd-1272', found: 'ElementNumberOfChannels 65536: ITK allocated 254 MB for 1.4 kB of data', read: detached('.mhd'), refusal: /declares 134217728 bytes of voxels but holds \d+ bytes/ },
  { fixture: 'mhd-8209', found: 'DimSize 438641654 16 4 and an ElementDataFile with spaces (taken for a pattern, so not checked): ITK allocated 283 MB', read: detached('.mhd'), refusal: /declares 56146131712 bytes of voxels but holds \d+ bytes/ },
  { fixture: 'mhd-10204', found: 'ElementNumberOfChannels 65535 and an ElementDataFile of two numbers: ITK allocated 116 MB', read: detached('.mhd'), refusal: /declares 134215680 bytes of voxels but holds \d+ bytes/ },
  { fixture: 'mhd-19616', found: 'ElementNumberOfChannels 32768: a 64 MB image (126 MB with itk-wasm\'s copy) from 1.4 kB of data', read: detached('.mhd'), refusal: /declares 67108864 bytes of voxels but holds \d+ bytes/ },
  { fixture: 'nifti2-650.nii', found: 'vox_offset -2^60 let dim[] claim 256^3 float32 voxels (67 MB) from a small file', read: volumeAs('.nii'), refusal: /invalid vox_offset -\d+/ },
  { fixture: 'nifti2-short.nii', found: '(by review, not the fuzzer) 400 bytes of NIfTI-2 with vox_offset 0: a RangeError reading srow past the end', read: volumeAs('.nii'), refusal: /invalid vox_offset 0/ },
  { fixture: 'dataset-json-556.json', found: 'a channel_names key holding a line break: a two-line NodalError', read: datasetJson, refusal: /channel_names entry "a\\nb"/ },
  { fixture: 'dataset-json-893.json', found: 'a label name holding a line break: a two-line NodalError', read: datasetJson, refusal: /labels "background" and "a\\nb" both have value 0/ },
  { fixture: 'instance-json-556.json', found: 'an instance id holding a line break: a two-line NodalError', read: instanceJson, refusal: /instance id "a\\nb" is not a number/ },
]

const MB = 2 ** 20

for (const c of CASES) {
  test(`fuzz regression ${c.fixture}: ${c.found}`, async () => {
    const tmp = tempDir('nodal-fuzz-regression-')
    try {
      const before = process.memoryUsage()
      const t0 = performance.now()
      await assert.rejects(c.read(fixture(join('fuzz', c.fixture)), tmp.path), (e: unknown) => {
        assert.ok(e instanceof NodalError, `expected a NodalError, got ${(e as Error)?.stack ?? e}`)
        assert.doesNotMatch(e.message, /[\r\n]/)
        assert.match(e.message, c.refusal)
        return true
      })
      assert.ok(performance.now() - t0 < 5000, `took ${(performance.now() - t0).toFixed(0)} ms`)
      const after = process.memoryUsage()
      assert.ok(after.arrayBuffers - before.arrayBuffers < 64 * MB, `arrayBuffers grew ${((after.arrayBuffers - before.arrayBuffers) / MB).toFixed(0)} MB`)
      assert.ok(after.external - before.external < 64 * MB, `external memory grew ${((after.external - before.external) / MB).toFixed(0)} MB`)
    } finally {
      tmp.cleanup()
    }
  })
}
