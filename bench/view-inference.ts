/**
 * nodal view's in-browser inference vs `nodal predict`, same scan, same run (issue 14): the page's
 * "Run model here" (onnxruntime-web, WebAssembly with threads, in a worker, in headless Debian chromium)
 * and the `nodal predict` command (onnxruntime-node), on the 512x512x300 chest CT phantom that
 * bench/predict.ts uses (0.7x0.7x1.5 mm; made once under .bench/predict_512 when missing). Prints the
 * seconds of each side by side, their ratio (the issue asks for at most 2x), and how well the two
 * results agree (node count, Dice).
 *
 *   npm run build && nice -n 19 node dist/bench/view-inference.js [--model models/nodes_multi] [--input ct.nii.gz] [--threads N]
 *
 * The browser side is timed from the click to the result in the page (model files fetched and opened,
 * the scan decoded, the pipeline run, the result drawn); the worker's own seconds (model opened, scan
 * decoded, pipeline) are printed too. `nodal predict` is timed as a command (start to exit: Node start,
 * model load, read, pipeline, writing labels and nodes.json) and by the seconds it reports itself
 * (read + pipeline). Needs /usr/bin/chromium.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { readVolume } from '../src/io/index.js'
import { createViewServer } from '../src/view/server.js'
import { openSession } from '../src/view/session.js'
import { benchmarkCt } from './benchmark-ct.js'
import { arg } from './args.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const threads = Number(arg('threads', String(availableParallelism())))
const modelDir = arg('model', join(root, 'models/nodes_multi'))
const CHROMIUM = '/usr/bin/chromium'


async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`)
  const input = arg('input', '') || benchmarkCt(root)
  const out = mkdtempSync(join(tmpdir(), 'nodal-view-bench-'))
  try {
    const scan = await readVolume(input)
    console.log(`scan ${input}: ${scan.shape.join('x')} voxels, ${scan.spacing.map((s) => s.toFixed(2)).join('x')} mm; model ${modelDir}; ${threads} thread(s); load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`)

    // 1. nodal predict, as a command
    const t0 = performance.now()
    const cli = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'predict', input, '--model', modelDir, '--out', out,
      '--format', 'nifti,json', '--threads', String(threads)], { encoding: 'utf8' })
    const cliWall = (performance.now() - t0) / 1000
    if (cli.status !== 0) throw new Error(`nodal predict failed: ${cli.stderr}`)
    const reported = Number(/node\(s\) in ([\d.]+) s/.exec(cli.stdout)?.[1] ?? NaN)
    const caseDir = join(out, input.split('/').pop()!.replace(/(_0000)?\.nii(\.gz)?$/, ''))
    const cliLabels = await readVolume(join(caseDir, 'labels.nii.gz'))
    const cliNodes = Object.keys(JSON.parse(readFileSync(join(caseDir, 'nodes.json'), 'utf8')).instances).length
    console.log(`nodal predict: ${cliWall.toFixed(1)} s as a command (it reports ${reported.toFixed(1)} s for read + pipeline), ${cliNodes} node(s)`)

    // 2. the page, in headless chromium (WebGL2 on SwiftShader, inference on WebAssembly)
    const session = await openSession({ scan: input, out: join(out, 'reviewed') })
    const server = createViewServer({ session, modelDir })
    const url = await server.listen(0, '127.0.0.1')
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--js-flags=--max-old-space-size=8192'] })
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 700 } })
      const messages: string[] = []
      page.on('console', (m) => { if (!m.text().includes('niivue-info')) messages.push(`${m.type()}: ${m.text()}`) })
      page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`))
      // the page's status line every 2 s, with the time since the run started: when the network stage began and ended
      const seen: { at: number; text: string }[] = []
      let runStart = 0
      const stages = () => {
        const first = (re: RegExp) => seen.find((x) => re.test(x.text))?.at
        const networkStart = first(/^network/), networkEnd = first(/^network: (\d+)\/\1$/)
        return `model loading until ${networkStart?.toFixed(0) ?? '?'} s, network ${networkStart?.toFixed(0) ?? '?'}-${networkEnd?.toFixed(0) ?? '?'} s; last status at ${seen.at(-1)?.at.toFixed(0) ?? '?'} s: ${seen.at(-1)?.text ?? ''}`
      }
      page.on('crash', () => console.error(`the page crashed (${stages()}); its last messages:\n${messages.slice(-5).join('\n')}`))
      const status = setInterval(() => {
        if (!runStart) return
        page.evaluate(() => document.querySelector('#status')?.textContent ?? '').then((t) => {
          if (seen.at(-1)?.text !== t) seen.push({ at: (performance.now() - runStart) / 1000, text: t })
        }, () => {})
      }, 2_000)
      status.unref()
      const tLoad = performance.now()
      await page.goto(url)
      await page.waitForFunction(() => (window as any).nodalView !== undefined)
      await page.evaluate(() => (window as any).nodalView.ready)
      const loadSeconds = (performance.now() - tLoad) / 1000
      console.log(`page: scan shown after ${loadSeconds.toFixed(1)} s; running the model in the page...`)
      const t1 = performance.now()
      runStart = t1
      // started from script rather than by a click: with WebGL on SwiftShader (no GPU) a 512x512x300 volume
      // makes every frame slow, and the axial view alone keeps the page's own thread free
      await page.evaluate(() => {
        const v = (window as any).nodalView
        v.nv.setSliceType(0)
        v.runInBrowser().catch((e: Error) => { v.runError = e.message })
      })
      await page.waitForFunction(() => (window as any).nodalView.lastRun || (window as any).nodalView.runError, null, { timeout: 3_600_000, polling: 1000 })
      const pageWall = (performance.now() - t1) / 1000
      const run = await page.evaluate(() => ({ ...(window as any).nodalView.lastRun, status: (window as any).nodalView.runError ?? document.querySelector('#status')!.textContent }))
      if (run.seconds === undefined) throw new Error(`in-page inference failed: ${run.status}`)
      // the page's labelled voxels as indices (a few thousand), not the whole 78M-voxel map
      const labelled = await page.evaluate(() => ((window as any).nodalView.labelsInFileOrder() as Uint8Array).reduce((n, x) => n + (x ? 1 : 0), 0))
      console.log(`page: ${run.nodes} node(s), ${labelled} labelled voxel(s), worker ${run.seconds?.toFixed(1)} s, timings ${JSON.stringify(run.timings)}`)
      if (labelled > 5_000_000) throw new Error(`the page labelled ${labelled} voxels: its result is not comparable`)
      const shown: number[] = await page.evaluate(() => {
        const l = (window as any).nodalView.labelsInFileOrder() as Uint8Array
        const out: number[] = []
        for (let v = 0; v < l.length; v++) if (l[v]) out.push(v)
        return out
      })
      let inter = 0, b = 0
      const a = shown.length
      for (const v of shown) if (cliLabels.data[v]! > 0) inter++
      for (let v = 0; v < cliLabels.data.length; v++) if (cliLabels.data[v]! > 0) b++
      const dice = a + b === 0 ? 1 : (2 * inter) / (a + b)
      const row = (name: string, seconds: string, detail: string) => console.log(`${name.padEnd(34)} ${seconds.padStart(9)}   ${detail}`)
      console.log('')
      row('', 'seconds', '')
      row('nodal predict (command)', cliWall.toFixed(1), `onnxruntime-node; reports ${reported.toFixed(1)} s for read + pipeline; ${cliNodes} node(s)`)
      row('nodal view, model in the page', pageWall.toFixed(1), `${run.backend}; worker ${run.seconds.toFixed(1)} s (network ${run.timings.network.toFixed(1)} s); ${run.nodes} node(s)`)
      row('ratio page / predict', (pageWall / cliWall).toFixed(2), `(issue 14 asks for <= 2); page load before the run ${loadSeconds.toFixed(1)} s`)
      console.log(`page stages: ${stages()}`)
      console.log(`agreement: node count ${run.nodes} vs ${cliNodes}, Dice ${dice.toFixed(4)}`)
      clearInterval(status)
    } finally {
      await browser.close()
      await server.close()
    }
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}

await main()
