import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { badInput } from '../errors.js'
import { readVolume } from '../io/index.js'
import { makePhantomDataset, MODALITIES, Modality, SITES, SiteName } from '../phantom/index.js'
import { makeInsertionDataset } from '../phantom/insert-dataset.js'
import { OrganLabels, TOTALSEGMENTATOR_NAMES } from '../phantom/insert.js'
import { Vec3 } from '../volume/volume.js'
import { Command, parseCommandLine, parseTriple, usageError } from './command.js'

export const phantomCommand: Command = {
  name: 'phantom',
  summary: 'make synthetic scans with benign and malignant lymph nodes (nnU-Net v2 dataset), or insert nodes into a real CT',
  help: `usage: nodal phantom --site neck|axilla|chest|abdomen|pelvis --cases N --seed S --out DIR
                     [--modality ct|petct|mr] [--spacing x,y,z] [--size x,y,z] [--preview]
       nodal phantom --insert-into CT.nii.gz [--organs LABELS.nii.gz [--organ-names NAMES.json|totalsegmentator]]...
                     --cases N --seed S --out DIR [--site NAME] [--preview]

Writes an nnU-Net v2 raw dataset into DIR (which must not exist or be empty):
  imagesTr/<case>_0000.nii.gz   CT in HU (int16), or T2-weighted MR with --modality mr
  imagesTr/<case>_0001.nii.gz   PET in SUV resampled onto the CT grid (--modality petct)
  petTr/<case>.nii.gz           PET on its own coarser grid, as acquired (--modality petct)
  labelsTr/<case>.nii.gz        0 background, 1 benign node, 2 malignant node
  instancesTr/<case>.nii.gz     one integer per node
  instancesTr/<case>.json       {"instances": {"<id>": {class, site, station, centre_mm (LPS), short_axis_mm,
                                long_axis_mm, volume_ml, necrosis, suv_max (PET), ...}}}; sizes are measured
                                on the instance map (RECIST: axial slice of largest extent)
  dataset.json                  channel_names, labels, numTraining, file_ending
  preview/<case>.png            with --preview: axial and coronal slices through a node, contours
                                green (benign) and red (malignant)
The same seed gives the same bytes.

options:
  --site NAME          body site: ${SITES.join(', ')}
  --cases N            number of cases (1-10000)
  --seed S             integer seed (0-4294967295)
  --out DIR            output dataset folder
  --modality M         ct (default), petct or mr (T2-like)
  --spacing x,y,z      voxel size in mm (default: drawn per case, 0.6-1.0 mm in-plane, 1-5 mm slices)
  --size x,y,z         voxels along x,y,z (default: the site's field of view over the spacing)
  --preview            also write preview PNGs
  --insert-into FILE   put synthetic nodes into this real CT (NIfTI, NRRD, MHA or DICOM folder) instead;
                       nodes go in fat near vessels, never in bone, lung, air or labelled structures,
                       and carry the host's noise and blur
  --organs FILE        label map of structures to keep out of (any grid: matched by world coordinates);
                       may be repeated
  --organ-names N      JSON file {"<label id>": "name"}, or "totalsegmentator"; the first --organ-names
                       names the first --organs, the second the second, ...; names with aorta, vena
                       cava, artery, vein, portal or iliac mark vessels. A binary mask without names
                       is named after its file.

examples:
  nodal phantom --site chest --cases 20 --seed 1 --out data/phantom_chest --preview
  nodal phantom --site neck --modality petct --cases 5 --seed 7 --spacing 0.8,0.8,2 --out data/neck_petct
  nodal phantom --insert-into ../shared/data/ct/abdomen_ct_3mm_sm.nii.gz \\
      --organs ../shared/data/ct/abdomen_ct_3mm_sm_organs.nii.gz --organ-names totalsegmentator \\
      --cases 4 --seed 3 --site abdomen --out data/inserted_abdomen`,
  async run(argv) {
    const { values, positionals } = parseCommandLine('phantom', argv, {
      site: { type: 'string' },
      cases: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      modality: { type: 'string' },
      spacing: { type: 'string' },
      size: { type: 'string' },
      preview: { type: 'boolean' },
      'insert-into': { type: 'string' },
      organs: { type: 'string', multiple: true },
      'organ-names': { type: 'string', multiple: true },
    })
    if (positionals.length > 0) throw usageError('phantom', `unexpected argument '${positionals[0]}'`)
    if (!values.out) throw usageError('phantom', '--out DIR is required')
    const cases = integerOption('cases', values.cases, 1, 10000)
    const seed = integerOption('seed', values.seed, 0, 4294967295)
    const preview = values.preview ?? false
    const onCase = (name: string, _i: number, nodes: number) => console.log(`  ${name}: ${nodes} nodes`)
    if (values['insert-into']) {
      for (const flag of ['modality', 'spacing', 'size'] as const) {
        if (values[flag] !== undefined) throw usageError('phantom', `--${flag} does not apply with --insert-into (the host scan decides)`)
      }
      const host = await readHost(values['insert-into'])
      const organs = await readOrgans(values.organs ?? [], values['organ-names'] ?? [])
      const dir = await makeInsertionDataset({ host, hostPath: values['insert-into'], organs, cases, seed, out: values.out, site: values.site ?? 'unspecified', preview, onCase })
      console.log(`wrote ${cases} case(s) with nodes inserted into ${values['insert-into']} to ${dir}`)
      return 0
    }
    if (!values.site) throw usageError('phantom', `--site is required (${SITES.join(', ')})`)
    if (!(SITES as readonly string[]).includes(values.site)) throw usageError('phantom', `unknown site '${values.site}' (choose ${SITES.join(', ')})`)
    const modality = (values.modality ?? 'ct') as Modality
    if (!MODALITIES.includes(modality)) throw usageError('phantom', `unknown modality '${values.modality}' (choose ${MODALITIES.join(', ')})`)
    const spacing = values.spacing ? checkSpacing(parseTriple('phantom', 'spacing', values.spacing)) : undefined
    const size = values.size ? checkSize(parseTriple('phantom', 'size', values.size)) : undefined
    const dir = await makePhantomDataset({ site: values.site as SiteName, modality, spacing, size, cases, seed, out: values.out, preview, onCase })
    console.log(`wrote ${cases} ${values.site} ${modality} case(s) to ${dir}`)
    return 0
  },
}

function integerOption(name: string, text: string | undefined, lo: number, hi: number): number {
  if (text === undefined) throw usageError('phantom', `--${name} is required`)
  const v = Number(text)
  if (!Number.isInteger(v) || v < lo || v > hi) throw usageError('phantom', `--${name} must be an integer from ${lo} to ${hi}, got '${text}'`)
  return v
}

function checkSpacing(s: Vec3): Vec3 {
  if (s.some((h) => !(h >= 0.1 && h <= 10))) throw usageError('phantom', `--spacing must be between 0.1 and 10 mm on each axis, got ${s.join(',')}`)
  return s
}

function checkSize(s: Vec3): Vec3 {
  if (s.some((n) => !Number.isInteger(n) || n < 16 || n > 2048)) throw usageError('phantom', `--size must be whole numbers of voxels from 16 to 2048, got ${s.join(',')}`)
  return s
}

async function readHost(path: string) {
  const host = await readVolume(path)
  if (host.dtype.startsWith('float') || host.dtype.startsWith('uint')) {
    const stats = { min: Infinity }
    for (let v = 0; v < host.data.length; v += 101) stats.min = Math.min(stats.min, host.data[v])
    if (stats.min >= 0) throw badInput(path, 'does not look like a CT in HU (no negative values)')
  }
  return host
}

async function readOrgans(files: string[], names: string[]): Promise<OrganLabels[]> {
  if (names.length > files.length) throw usageError('phantom', 'more --organ-names than --organs (they pair up in order)')
  const out: OrganLabels[] = []
  for (let f = 0; f < files.length; f++) {
    const volume = await readVolume(files[f])
    out.push({ volume, names: organNames(files[f], names[f], volume) })
  }
  return out
}

function organNames(file: string, spec: string | undefined, volume: { data: ArrayLike<number> }): Record<number, string> {
  if (spec === 'totalsegmentator') return TOTALSEGMENTATOR_NAMES
  if (spec) {
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(spec, 'utf8'))
    } catch (e) {
      throw badInput(spec, `is not a readable JSON file of label names (${(e as Error).message.split('\n')[0]})`)
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badInput(spec, 'must be a JSON object {"<label id>": "name"}')
    return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [Number(k), String(v)]))
  }
  let max = 0
  for (let v = 0; v < volume.data.length; v++) if (volume.data[v] > max) max = volume.data[v]
  if (max > 1) return {}
  return { 1: basename(file).replace(/\.(nii\.gz|nii|nrrd|mha|mhd)$/i, '') }
}

