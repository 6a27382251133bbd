/**
 * nodal phantom: synthetic ground truth. `makePhantomDataset` writes N synthetic cases of a site;
 * `makeInsertionDataset` (see insert.ts) puts synthetic nodes into a real CT.
 */
import { Vec3 } from '../volume/volume.js'
import { withDataset, yieldToSignals } from './dataset.js'
import { CaseOptions, generateCase, Modality, NodeRecord, PhantomCase } from './generate.js'
import { renderPreview } from './preview.js'

export { generateCase, MODALITIES } from './generate.js'
export type { CaseOptions, Modality, NodeRecord, PhantomCase } from './generate.js'
export { SITES } from './sites/site.js'
export type { SiteName } from './sites/site.js'

export interface PhantomDatasetOptions extends CaseOptions {
  cases: number
  seed: number
  out: string
  preview: boolean
  /** Called after each case (for progress). */
  onCase?: (name: string, index: number, nodes: number) => void
}

export const CHANNEL_NAMES: Record<Modality, Record<string, string>> = {
  ct: { 0: 'CT' },
  petct: { 0: 'CT', 1: 'PET' },
  mr: { 0: 'T2' },
}

export function caseName(site: string, index: number): string {
  return `${site}_${String(index).padStart(3, '0')}`
}

export async function makePhantomDataset(opts: PhantomDatasetOptions): Promise<string> {
  return withDataset(opts.out, async (writer) => {
    for (let i = 0; i < opts.cases; i++) {
      const name = caseName(opts.site, i)
      const c = generateCase(opts, opts.seed, i)
      writer.writeCase({
        name, channels: c.channels, labels: c.labels, instances: c.instances, petNative: c.petNative,
        record: { case: name, site: opts.site, modality: opts.modality, seed: opts.seed, acquisition: c.acquisition, instances: c.nodes },
        preview: opts.preview ? previewOf(c, opts.modality) : null,
      })
      opts.onCase?.(name, i, Object.keys(c.nodes).length)
      await yieldToSignals()
    }
    writer.finish(CHANNEL_NAMES[opts.modality], {
      name: `nodal_phantom_${opts.site}_${opts.modality}`,
      description: `Synthetic ${opts.site} ${opts.modality.toUpperCase()} with benign (1) and malignant (2) lymph nodes, made by nodal phantom`,
      nodal: { generator: 'nodal phantom', site: opts.site, modality: opts.modality, seed: opts.seed, cases: opts.cases, spacing: opts.spacing ?? null, size: opts.size ?? null },
    })
    return writer.target
  })
}

/** Axial and coronal slices through the most telling node: the largest malignant one, else the largest. */
export function previewOf(c: PhantomCase, modality: Modality): Buffer {
  return renderPreview({
    image: c.channels[0], labels: c.labels, pet: modality === 'petct' ? c.petNative : null,
    focus: focusNode(Object.values(c.nodes)), modality: modality === 'mr' ? 'mr' : 'ct',
  })
}

export function focusNode(nodes: NodeRecord[] | { class: string; volume_ml: number; centre_mm: Vec3 }[]): Vec3 {
  const sorted = [...nodes].sort((a, b) => Number(b.class === 'malignant') - Number(a.class === 'malignant') || b.volume_ml - a.volume_ml)
  return sorted[0]?.centre_mm ?? [0, 0, 0]
}
