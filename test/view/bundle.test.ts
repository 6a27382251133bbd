/**
 * The prediction pipeline nodal view runs in the browser is nodal predict's own code, bundled: it must
 * bundle for the browser without any Node module (node:fs, node:path, ...), and the page's worker
 * bundle must hold it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { REPO } from '../helpers.js'

test('src/infer/pipeline.ts (preprocess, sliding window, nodes, stage 2) bundles for the browser with no Node module', async () => {
  const result = await build({
    entryPoints: [join(REPO, 'src', 'infer', 'pipeline.ts')], bundle: true, platform: 'browser', format: 'esm',
    write: false, metafile: true, logLevel: 'silent', external: ['onnxruntime-common'],
  })
  const inputs = Object.keys(result.metafile.inputs)
  const nodeImports = Object.entries(result.metafile.inputs).flatMap(([file, i]) => i.imports.filter((x) => x.path.startsWith('node:') || !x.path.includes('/') && x.external).map((x) => `${file} -> ${x.path}`))
  assert.deepEqual(nodeImports.filter((x) => !x.endsWith('onnxruntime-common')), [])
  for (const module of ['src/preprocess/index.ts', 'src/infer/sliding-window.ts', 'src/infer/nodes.ts', 'src/classify/stage2.ts']) {
    assert.ok(inputs.some((f) => f.endsWith(module)), `${module} is part of the pipeline bundle`)
  }
  assert.ok(!inputs.some((f) => /onnx-session|bundle\/index|io\/index/.test(f)), `no file access in the pipeline: ${inputs.join(', ')}`)
})

test('npm run build writes the page and its worker, which carries the shared pipeline', { skip: existsSync(join(REPO, 'dist', 'src', 'view', 'app', 'worker.js')) ? false : 'the viewer is not built (npm run build)' }, () => {
  const app = join(REPO, 'dist', 'src', 'view', 'app')
  for (const f of ['index.html', 'style.css', 'app.js', 'worker.js']) assert.ok(existsSync(join(app, f)), f)
  const map = JSON.parse(readFileSync(join(app, 'worker.js.map'), 'utf8')) as { sources: string[] }
  for (const module of ['src/infer/pipeline.ts', 'src/infer/sliding-window.ts', 'src/preprocess/index.ts', 'src/classify/stage2.ts', 'src/infer/onnx-model.ts', 'src/io/nifti.ts']) {
    assert.ok(map.sources.some((s) => s.endsWith(module)), `${module} is in worker.js`)
  }
  assert.ok(!map.sources.some((s) => /onnx-session|src\/io\/index/.test(s)))
})
