import { existsSync } from 'node:fs'
import { spawn, spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { NodalError } from '../errors.js'
import { APP_DIR, createViewServer, DEFAULT_MAX_UPLOAD, isLoopback } from '../view/server.js'
import { openSession } from '../view/session.js'
import { onInterrupt } from './interrupt.js'
import { defineCommand } from './options.js'
import { PACKAGE_ROOT, SHIPPED_MODEL } from './shipped.js'

/** Bundles the page (esbuild, a development dependency); `npm run build` (setup.sh, prepack) runs it. */
const BUILD_VIEWER = resolve(PACKAGE_ROOT, 'scripts', 'build-viewer.mjs')

export const viewCommand = defineCommand({
  name: 'view',
  usage: 'nodal view [<scan> [--labels F] [--nodes nodes.json] [--pet F]] [--port P] [--host H] [--open] [--out DIR]',
  description: `Opens a scan in a review page in the web browser (Niivue): axial, coronal, sagittal and 3D views, CT
windows (soft tissue, lung, bone), PET fused over CT, the labels in nodal's colours (benign green,
malignant red) and a table of the nodes. Click a row to go to a node; accept or reject each, change its
class, draw or erase its voxels with a brush, undo, and save: labels.nii.gz, instances.nii.gz and
nodes.json (each node with a "review" field: reviewer, time, decision) go to --out, plus rtstruct.dcm and
seg.dcm when the scan is a DICOM folder. The model runs in the page (onnxruntime-web, in a worker) or
in this process ("run on server"), with the same pre- and postprocessing as nodal predict.
<scan> is anything nodal reads (NIfTI, NRRD, MHA, a DICOM folder); without it the page opens empty and
takes a NIfTI file or DICOM folder, dropped or chosen with Open. The server listens on 127.0.0.1 only,
unless --host; it serves the files it was started with and nothing else. Ctrl-C stops it.`,
  positionals: { name: 'scan or DICOM folder', min: 0, max: 1 },
  options: {
    labels: { type: 'path', placeholder: 'FILE', mustExist: true, help: 'label map to review (e.g. nodal predict\'s labels.nii.gz; its instances.nii.gz is used when beside it)' },
    nodes: { type: 'path', placeholder: 'FILE', mustExist: true, help: 'nodes.json describing the labels (class, score, measurements)' },
    pet: { type: 'path', placeholder: 'FILE|DIR', mustExist: true, help: 'PET (SUV) shown fused over the CT, and given to the model' },
    model: { type: 'path', placeholder: 'DIR', mustExist: true, help: 'model bundle for inference in the page and on the server (default: the shipped models/nodes_multi)' },
    out: { type: 'path', placeholder: 'DIR', help: 'where Save writes the review (default: <name>-reviewed/ beside the scan)' },
    reviewer: { type: 'string', placeholder: 'NAME', help: 'reviewer recorded in nodes.json (default: the operating-system user)' },
    port: { type: 'integer', min: 0, max: 65535, default: 8765, placeholder: 'P', help: 'port (0: any free port)' },
    host: { type: 'string', default: '127.0.0.1', placeholder: 'H', help: 'address to listen on; anything but loopback lets other machines read the scan' },
    open: { type: 'boolean', help: 'open the page in the default browser (xdg-open/open), else print its address' },
    maxUpload: { type: 'integer', min: 1, max: 64 * 1024, default: DEFAULT_MAX_UPLOAD / 1024 ** 2, placeholder: 'MIB', help: 'largest file or folder the page may upload, in MiB' },
    threads: { type: 'integer', min: 1, max: 1024, placeholder: 'N', help: 'ONNX Runtime threads for "run on server"' },
  },
  examples: [
    'nodal view samples/ct/chest_ct_lidc0314_1p8mm.nii.gz',
    'nodal predict samples/dicom/ct-3slice --model models/nodes_multi --out pred/',
    'nodal view samples/dicom/ct-3slice --labels pred/ct-3slice/labels.nii.gz --nodes pred/ct-3slice/nodes.json',
    'nodal view ct.nii.gz --pet pet.nii.gz --labels labels.nii.gz --nodes nodes.json --out reviewed/ --reviewer "Dr A"',
    'nodal view --port 9000        # empty page: drop a NIfTI file or a DICOM folder on it, or use Open',
  ],
  async run({ values, positionals: [scan] }) {
    if (!scan && (values.labels || values.nodes || values.pet)) throw new NodalError('usage', 'view: --labels, --nodes and --pet go with a scan (see nodal view --help)')
    ensurePageBuilt()
    const modelDir = values.model ?? (existsSync(SHIPPED_MODEL) ? SHIPPED_MODEL : null)
    const session = scan ? await openSession({ scan, labels: values.labels, nodes: values.nodes, pet: values.pet, out: values.out }) : null
    const server = createViewServer({
      session, modelDir, reviewer: values.reviewer, maxUploadBytes: values.maxUpload * 1024 ** 2, out: values.out, threads: values.threads,
    })
    let url: string
    try {
      url = await server.listen(values.port, values.host)
    } catch (e) {
      const code = (e as { code?: string }).code
      if (code === 'EADDRINUSE') throw new NodalError('busy', `view: port ${values.port} is in use; give another with --port (0: any free port)`)
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new NodalError('usage', `view: cannot listen on ${values.host} (see nodal view --help)`)
      throw e
    }
    const interrupted = onInterrupt()
    console.log(`nodal view: ${session ? `${session.name} (${session.nodes.length} node(s))` : 'no scan yet (drop one on the page, or use Open)'} at ${url}`)
    if (!isLoopback(values.host)) console.log(`nodal view: warning: listening on ${values.host}; other machines can read this scan`)
    if (session) console.log(`nodal view: Save writes to ${session.out}`)
    console.log('nodal view: Ctrl-C stops')
    if (values.open) openBrowser(url)
    await new Promise<void>((done) => {
      process.once('SIGINT', () => done())
      process.once('SIGTERM', () => done())
    })
    await server.close()
    interrupted.dispose()
    console.log('nodal view: stopped')
    return 0
  },
})

/** Where only tsc ran (not `npm run build`), bundles the page once (a few seconds); an installed package ships it built. */
function ensurePageBuilt(): void {
  if (existsSync(resolve(APP_DIR, 'app.js')) && existsSync(resolve(APP_DIR, 'worker.js'))) return
  if (!existsSync(BUILD_VIEWER)) throw new NodalError('missing-build', `view: the page is not built (${APP_DIR}); reinstall nodal`)
  console.log('nodal view: bundling the page once (scripts/build-viewer.mjs)')
  const r = spawnSync(process.execPath, [BUILD_VIEWER], { encoding: 'utf8' })
  if (r.status !== 0) throw new NodalError('missing-build', `view: bundling the page failed (${(r.stderr || r.stdout).trim().split('\n')[0]}); run npm run build`)
}

function openBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true })
  child.on('error', () => console.log(`nodal view: no browser opener (${opener}); open ${url}`))
  child.unref()
}
