import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { badInput } from '../errors.js'
import { readVolume } from '../io/index.js'
import { makePhantomDataset, MODALITIES, SITES } from '../phantom/index.js'
import { makeInsertionDataset } from '../phantom/insert-dataset.js'
import { OrganLabels, TOTALSEGMENTATOR_NAMES } from '../phantom/insert.js'
import { usageError } from './command.js'
import { defineCommand, flagName } from './options.js'

export const phantomCommand = defineCommand({
  name: 'phantom',
  usage: [
    `nodal phantom --site neck|axilla|chest|abdomen|pelvis --cases N --seed S --out DIR
              [--modality ct|petct|mr] [--spacing x,y,z] [--size x,y,z] [--preview]`,
    `nodal phantom --insert-into CT.nii.gz [--organs LABELS.nii.gz [--organ-names NAMES.json|totalsegmentator]]...
              --cases N --seed S --out DIR [--site NAME] [--preview]`,
  ],
  description: `Writes an nnU-Net v2 raw dataset into DIR (which must not exist or be empty):
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
The same seed gives the same bytes.`,
  options: {
    site: {
      type: 'string', choices: SITES, placeholder: 'NAME',
      help: 'body site (required without --insert-into; with it, the node stations used, found from the scan itself: chest = mediastinal, hilar, supraclavicular and axillary, axilla = axillary, abdomen = retroperitoneal, neck = supraclavicular/low cervical; without it, every station found)',
    },
    cases: { type: 'integer', min: 1, max: 10000, required: true, help: 'number of cases' },
    seed: { type: 'integer', min: 0, max: 4294967295, placeholder: 'S', required: true, help: 'integer seed' },
    out: { type: 'path', placeholder: 'DIR', required: true, help: 'output dataset folder' },
    modality: { type: 'string', choices: MODALITIES, default: 'ct', help: 'CT, PET/CT, or T2-like MR' },
    spacing: {
      type: 'list', of: 'number', length: 3, min: 0.1, max: 10, placeholder: 'x,y,z',
      help: 'voxel size in mm (default: drawn per case, 0.6-1.0 mm in-plane, 1-5 mm slices)',
    },
    size: { type: 'list', of: 'integer', length: 3, min: 16, max: 2048, placeholder: 'x,y,z', help: "voxels along x,y,z (default: the site's field of view over the spacing)" },
    preview: { type: 'boolean', help: 'also write preview PNGs' },
    insertInto: {
      type: 'path', placeholder: 'FILE',
      help: "put synthetic nodes into this real CT (NIfTI, NRRD, MHA or DICOM folder) instead; nodes go in the fat of the node stations of --site, found from the scan's own anatomy (lungs, airway, mediastinum, spine, vessels; no labels needed), never in bone, lung, air, contrast or labelled structures, and carry the host's noise and blur",
    },
    organs: {
      type: 'path', placeholder: 'FILE', multiple: true,
      help: 'label map of structures to keep out of (any grid: matched by world coordinates)',
    },
    organNames: {
      type: 'string', placeholder: 'N', multiple: true,
      help: 'JSON file {"<label id>": "name"}, or "totalsegmentator"; the first --organ-names names the first --organs, the second the second, ...; names with aorta, vena cava, artery, vein, portal or iliac mark vessels. A binary mask without names is named after its file.',
    },
  },
  examples: [
    'nodal phantom --site chest --cases 20 --seed 1 --out data/phantom_chest --preview',
    'nodal phantom --site neck --modality petct --cases 5 --seed 7 --spacing 0.8,0.8,2 --out data/neck_petct',
    `nodal phantom --insert-into samples/ct/abdomen_ct_3mm_sm.nii.gz \\
    --organs samples/ct/abdomen_ct_3mm_sm_organs.nii.gz --organ-names totalsegmentator \\
    --cases 4 --seed 3 --site abdomen --out data/inserted_abdomen`,
  ],
  async run({ values, given }) {
    const { cases, seed, out, preview } = values
    const onCase = (name: string, _i: number, nodes: number) => console.log(`  ${name}: ${nodes} nodes`)
    if (values.insertInto !== undefined) {
      for (const key of ['modality', 'spacing', 'size'] as const) {
        if (given.has(key)) throw usageError('phantom', `--${key} does not apply with --insert-into (the host scan decides)`)
      }
      const host = await readHost(values.insertInto)
      const organs = await readOrgans(values.organs, values.organNames)
      const dir = await makeInsertionDataset({ host, hostPath: values.insertInto, organs, cases, seed, out, site: values.site ?? 'unspecified', preview, onCase })
      console.log(`wrote ${cases} case(s) with nodes inserted into ${values.insertInto} to ${dir}`)
      return 0
    }
    if (!values.site) throw usageError('phantom', `--site is required (${SITES.join(', ')})`)
    for (const key of ['organs', 'organNames'] as const) {
      if (given.has(key)) throw usageError('phantom', `--${flagName(key)} applies with --insert-into`)
    }
    const modality = values.modality
    const dir = await makePhantomDataset({ site: values.site, modality, spacing: values.spacing, size: values.size, cases, seed, out, preview, onCase })
    console.log(`wrote ${cases} ${values.site} ${modality} case(s) to ${dir}`)
    return 0
  },
})

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

