/**
 * The --insert-into dataset: N cases of one real CT, each with its own synthetic nodes. The host's
 * anatomy and node stations are found once and shared by every case.
 */
import { basename } from 'node:path'
import { Volume } from '../volume/volume.js'
import { withDataset, yieldToSignals } from './dataset.js'
import { CHANNEL_NAMES, focusNode } from './index.js'
import { insertPrepared, OrganLabels, prepareInsertion } from './insert.js'
import { renderPreview } from './preview.js'

export interface InsertionDatasetOptions {
  host: Volume
  hostPath: string
  organs: OrganLabels[]
  cases: number
  seed: number
  out: string
  site: string
  preview: boolean
  onCase?: (name: string, index: number, nodes: number) => void
}

export async function makeInsertionDataset(opts: InsertionDatasetOptions): Promise<string> {
  const hostName = basename(opts.hostPath).replace(/\.(nii\.gz|nii|nrrd|mha|mhd)$/i, '').replace(/[^A-Za-z0-9]+/g, '_')
  return withDataset(opts.out, async (writer) => {
    const prepared = prepareInsertion(opts.host, opts.organs, opts.site, opts.hostPath)
    for (let i = 0; i < opts.cases; i++) {
      const name = `inserted_${hostName}_${String(i).padStart(3, '0')}`
      const c = insertPrepared(prepared, opts.seed, i)
      writer.writeCase({
        name, channels: [c.image], labels: c.labels, instances: c.instances,
        record: { case: name, site: opts.site, modality: 'ct', seed: opts.seed, host: basename(opts.hostPath), placement: c.placement, instances: c.nodes },
        preview: opts.preview ? renderPreview({ image: c.image, labels: c.labels, focus: focusNode(Object.values(c.nodes)), modality: 'ct' }) : null,
      })
      opts.onCase?.(name, i, Object.keys(c.nodes).length)
      await yieldToSignals()
    }
    writer.finish(CHANNEL_NAMES.ct, {
      name: `nodal_inserted_${hostName}`,
      description: `Synthetic benign (1) and malignant (2) lymph nodes inserted into ${basename(opts.hostPath)} by nodal phantom`,
      nodal: { generator: 'nodal phantom --insert-into', host: basename(opts.hostPath), site: opts.site, seed: opts.seed, cases: opts.cases },
    })
    return writer.target
  })
}
