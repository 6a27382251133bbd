import { mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readVolume, writeVolume } from '../io/index.js'
import { orientationCode } from '../volume/orient.js'
import { sameGrid, Volume } from '../volume/volume.js'
import { Command, parseCommandLine } from './command.js'
import { NodalError } from '../errors.js'

/** The samples folder that ships with nodal (see samples/README.md for sources and licences). */
export const SAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'samples')

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the main job on the built-in sample scans',
  help: `usage: nodal demo [--out DIR]

Runs nodal end to end on the scans in samples/ (a 3-slice CT DICOM series and a small abdominal CT):
reads the DICOM series, reports its geometry, converts it to NIfTI and NRRD and checks that voxels and
world geometry come back unchanged.

options:
  --out DIR   where to write the outputs (default: ./nodal-demo)

example:
  nodal demo --out /tmp/nodal-demo`,
  async run(argv) {
    const { values } = parseCommandLine('demo', argv, { out: { type: 'string' } })
    const out = resolve(values.out ?? 'nodal-demo')
    mkdirSync(out, { recursive: true })
    await convertRoundTrip(join(SAMPLES, 'dicom', 'ct-3slice'), out)
    await describe(join(SAMPLES, 'ct', 'abdomen_ct_3mm_sm.nii.gz'))
    console.log(`\ndemo finished; outputs in ${out}`)
    return 0
  },
}

function summary(vol: Volume): string {
  return `${vol.shape.join('x')} voxels of ${vol.spacing.map((s) => s.toFixed(3)).join(' x ')} mm, ${orientationCode(vol.axes)}, ${vol.dtype}, modality ${vol.meta.modality ?? 'unknown'}`
}

async function describe(path: string): Promise<Volume> {
  const vol = await readVolume(path)
  console.log(`read ${path}\n  ${summary(vol)}`)
  return vol
}

async function convertRoundTrip(dicomDir: string, out: string): Promise<void> {
  const ct = await describe(dicomDir)
  for (const name of ['ct.nii.gz', 'ct.nrrd']) {
    const path = join(out, name)
    await writeVolume(ct, path)
    const back = await readVolume(path)
    const exact = sameGrid(back, ct, 1e-5) && back.data.every((v, i) => v === ct.data[i])
    if (!exact) throw new NodalError('demo-failed', `${path}: voxels or geometry changed in the round trip`)
    console.log(`wrote ${path}: voxels and geometry identical after reading back`)
  }
}
