/**
 * Read speed of nodal's medical image I/O, each compared in the same run with a reference reader:
 *   - a 512x512x300 int16 CT as .nii.gz: nodal's NIfTI codec vs nibabel (Debian python3-nibabel),
 *   - the same CT as a 300-file uncompressed DICOM series: nodal's reader vs GDCM's series reader
 *     (ITK/GDCM compiled to WebAssembly, @itk-wasm/dicom), which the field uses.
 * Usage: node dist/bench/io.js [--slices 300] [--keep]
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { readImageDicomFileSeriesNode } from '@itk-wasm/dicom'
import { readVolume, writeVolume } from '../src/io/index.js'
import { writeDicomSeries } from '../src/io/dicom/write-series.js'
import { quietly } from '../src/io/itk.js'
import { Volume } from '../src/volume/volume.js'

/** A CT-like int16 volume: body ellipse of soft tissue with noise and a few bright structures. */
function syntheticCt(nx: number, ny: number, nz: number): Volume {
  const data = new Int16Array(nx * ny * nz)
  let seed = 12345
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  let n = 0
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        const x = (i - nx / 2) / (nx * 0.42), y = (j - ny / 2) / (ny * 0.3)
        const r = x * x + y * y
        const base = r > 1 ? -1000 : r > 0.85 ? -100 : Math.hypot(x - 0.1, y) < 0.12 ? 700 : 40
        data[n] = base + Math.round((rand() - 0.5) * 30)
      }
    }
  }
  return new Volume(data, [nx, ny, nz], [0.78, 0.78, 1.25], [-200, -200, -180], undefined, { modality: 'CT' })
}

async function timeIt<T>(fn: () => Promise<T> | T): Promise<{ ms: number; result: T }> {
  const t0 = performance.now()
  const result = await fn()
  return { ms: performance.now() - t0, result }
}

function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0)
}

const NIBABEL_READ = `
import nibabel as nib, numpy as np, sys, time
t = time.perf_counter(); a = np.asanyarray(nib.load(sys.argv[1]).dataobj); print((time.perf_counter() - t) * 1000)
`

async function main() {
  const { values } = parseArgs({ options: { slices: { type: 'string', default: '300' }, keep: { type: 'boolean' } } })
  const nz = Number(values.slices)
  const dir = mkdtempSync(join(tmpdir(), 'nodal-bench-io-'))
  try {
    const ct = syntheticCt(512, 512, nz)
    const rawMB = ct.data.byteLength / 1e6
    const nii = join(dir, 'ct.nii.gz')
    await writeVolume(ct, nii)
    const dicomDir = join(dir, 'dicom')
    await writeDicomSeries(ct, dicomDir)
    console.log(`data: 512x512x${nz} int16 (${rawMB.toFixed(0)} MB of voxels); .nii.gz ${(statSync(nii).size / 1e6).toFixed(0)} MB; DICOM ${readdirSync(dicomDir).length} files, ${(folderBytes(dicomDir) / 1e6).toFixed(0)} MB`)

    const niiRead = await timeIt(() => readVolume(nii))
    console.log(`NIfTI .nii.gz  nodal   ${niiRead.ms.toFixed(0).padStart(6)} ms  ${(rawMB / (niiRead.ms / 1000)).toFixed(0)} MB/s`)
    if (existsSync('/usr/bin/python3')) {
      try {
        const ms = Number(execFileSync('/usr/bin/python3', ['-c', NIBABEL_READ, nii], { encoding: 'utf8' }).trim())
        console.log(`NIfTI .nii.gz  nibabel ${ms.toFixed(0).padStart(6)} ms  ${(rawMB / (ms / 1000)).toFixed(0)} MB/s   (nodal/nibabel time ratio ${(niiRead.ms / ms).toFixed(2)})`)
      } catch {
        console.log('NIfTI .nii.gz  nibabel not available (apt-get install python3-nibabel)')
      }
    }

    const dcmRead = await timeIt(() => readVolume(dicomDir))
    const same = dcmRead.result.data.every((v, i) => v === ct.data[i])
    console.log(`DICOM series   nodal   ${dcmRead.ms.toFixed(0).padStart(6)} ms  ${(rawMB / (dcmRead.ms / 1000)).toFixed(0)} MB/s  ${(dcmRead.ms / nz).toFixed(1)} ms/slice  voxels identical: ${same}`)
    const files = readdirSync(dicomDir).map((f) => join(dicomDir, f))
    const gdcm = await timeIt(() => quietly(() => readImageDicomFileSeriesNode({ inputImages: files, singleSortedSeries: false })))
    console.log(`DICOM series   GDCM    ${gdcm.ms.toFixed(0).padStart(6)} ms  ${(rawMB / (gdcm.ms / 1000)).toFixed(0)} MB/s   (nodal/GDCM time ratio ${(dcmRead.ms / gdcm.ms).toFixed(2)})`)
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true })
  }
}

main()
