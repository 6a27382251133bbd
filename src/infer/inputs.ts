/**
 * What `nodal predict <input>` means: a single scan file, a DICOM series folder, or a folder of cases
 * (scan files, nnU-Net style `<case>_0000.nii.gz` + `<case>_0001.nii.gz` channel files, or subfolders
 * that are DICOM series). Files are told apart by name only here; reading happens case by case later,
 * so one unreadable case does not stop the others.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { caseName, VOLUME_EXTENSIONS } from '../dataset/index.js'
import { NodalError } from '../errors.js'

export interface InputCase {
  name: string
  /** One path per channel (files, or DICOM folders). */
  channels: string[]
  /** The DICOM folder of channel 0, for RTSTRUCT/SEG outputs. */
  dicomDir: string | null
}

function isVolumeFile(name: string): boolean {
  return VOLUME_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e))
}

/**
 * A folder with files that are not scans (by extension) and no scan files is taken as one DICOM series;
 * a folder of scan files stays a folder of cases when a README, CSV or dataset.json lies beside them.
 */
function looksLikeDicomFolder(dir: string): boolean {
  const files = readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.') && kindOf(join(dir, e.name)) === 'file')
  return files.some((e) => !isVolumeFile(e.name)) && !files.some((e) => isVolumeFile(e.name))
}

export function listInputCases(input: string): InputCase[] {
  if (!existsSync(input)) throw new NodalError('not-found', `${input}: no such file or folder`)
  if (!statSync(input).isDirectory()) return [{ name: stripChannel(caseName(input)), channels: [input], dicomDir: null }]
  if (looksLikeDicomFolder(input)) return [{ name: basename(input.replace(/\/+$/, '')) || 'case', channels: [input], dicomDir: input }]
  const entries = readdirSync(input, { withFileTypes: true }).filter((e) => !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))
  const cases = new Map<string, InputCase>()
  for (const e of entries) {
    const path = join(input, e.name)
    const kind = kindOf(path)
    if (kind === 'file' && isVolumeFile(e.name)) {
      const name = stripChannel(caseName(e.name))
      const c = cases.get(name) ?? { name, channels: [], dicomDir: null }
      c.channels.push(path) // sorted names put _0000 before _0001
      cases.set(name, c)
    } else if (kind === 'dir' && looksLikeDicomFolder(path)) {
      cases.set(e.name, { name: e.name, channels: [path], dicomDir: path })
    }
  }
  if (cases.size === 0) throw new NodalError('bad-input', `${input}: holds no scans (NIfTI, NRRD, MetaImage files or DICOM series folders)`)
  return [...cases.values()]
}

/** nnU-Net channel suffix: case_0000 -> case. */
function stripChannel(name: string): string {
  return name.replace(/_\d{4}$/, '')
}

/** File or folder, following symbolic links (datasets are often linked together, not copied). */
function kindOf(path: string): 'file' | 'dir' | 'other' {
  try {
    const st = statSync(path)
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other'
  } catch {
    return 'other' // a dangling link
  }
}
