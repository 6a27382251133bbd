/**
 * Benchmark: one 256x256x160 chest CT phantom (nodes, anatomy, blur, noise, labels, measurements),
 * on the main thread (one core). Target: under 5 s. Also prints the time to encode the case's
 * NIfTI files (gzip level 6), which the dataset writer adds on top.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/phantom.js [repeats]
 */
import { loadavg } from 'node:os'
import { encodeNifti } from '../src/io/nifti.js'
import { generateCase } from '../src/phantom/index.js'
import { Vec3 } from '../src/volume/volume.js'

const repeats = Number(process.argv[2] ?? 3)
const size: Vec3 = [256, 256, 160]
const spacing: Vec3 = [400 / 256, 400 / 256, 1.5] // the chest's 400 x 400 x 240 mm field of view
const times: number[] = []
let nodes = 0
let encodeMs = 0
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now()
  const c = generateCase({ site: 'chest', modality: 'ct', size, spacing }, 1, r)
  times.push(performance.now() - t0)
  nodes += Object.keys(c.nodes).length
  const t1 = performance.now()
  for (const v of [...c.channels, c.labels, c.instances]) encodeNifti(v, true)
  encodeMs += performance.now() - t1
}
const sorted = [...times].sort((a, b) => a - b)
console.log(`machine load average (1, 5, 15 min): ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
console.log(`phantom chest ${size.join('x')} CT (${spacing.map((s) => s.toFixed(3)).join(',')} mm), ${repeats} cases, ${nodes} nodes`)
console.log(`  generate: median ${(sorted[Math.floor(repeats / 2)] / 1000).toFixed(2)} s, min ${(sorted[0] / 1000).toFixed(2)} s, max ${(sorted[repeats - 1] / 1000).toFixed(2)} s (target < 5 s)`)
console.log(`  write (NIfTI gzip encode of image, labels, instances): mean ${(encodeMs / repeats / 1000).toFixed(2)} s per case`)
