// Bundles nodal view's page for the browser (run by `npm run build` after tsc):
// src/view/app/main.ts -> dist/src/view/app/app.js, src/view/app/inference-worker.ts -> worker.js (the same
// pipeline code as nodal predict, src/infer/pipeline.ts), plus index.html and style.css.
// node:zlib maps to fflate and Buffer to the `buffer` package (used by src/io/nifti.ts in the worker).
import { copyFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src', 'view', 'app')
const out = join(root, 'dist', 'src', 'view', 'app')
mkdirSync(out, { recursive: true })

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  alias: { 'node:zlib': join(src, 'shims', 'zlib.ts') },
  inject: [join(src, 'shims', 'buffer.ts')],
  define: { 'process.env.NODE_ENV': '"production"' },
  outdir: out,
}

await Promise.all([
  build({ ...common, entryPoints: { app: join(src, 'main.ts') } }),
  build({ ...common, entryPoints: { worker: join(src, 'inference-worker.ts') } }),
])
for (const f of ['index.html', 'style.css']) copyFileSync(join(src, f), join(out, f))
