import { test } from 'node:test'
import assert from 'node:assert/strict'
import { insertNodes } from '../../src/phantom/insert.js'
import { Rng } from '../../src/phantom/random.js'
import { Volume, Vec3 } from '../../src/volume/volume.js'

/** A block of noisy fat (sd 15 HU) with a contrast-filled vessel running along z through it. */
function fatBlockWithVessel(): Volume {
  const shape: Vec3 = [90, 90, 50]
  const rng = new Rng(42)
  const data = new Int16Array(shape[0] * shape[1] * shape[2])
  let n = 0
  for (let k = 0; k < shape[2]; k++) {
    for (let j = 0; j < shape[1]; j++) {
      for (let i = 0; i < shape[0]; i++, n++) {
        const inVessel = Math.hypot(i - 45, j - 45) <= 6
        data[n] = Math.round((inVessel ? 220 : -100) + 15 * rng.normal())
      }
    }
  }
  return new Volume(data, shape, [1, 1, 1], [-45, -45, 0])
}

test('an inserted node carries the host noise: inside it, image - host is smooth, not a new texture', () => {
  const host = fatBlockWithVessel()
  const c = insertNodes(host, [], 1, 0)
  const nodes = Object.values(c.nodes)
  assert.ok(nodes.length >= 2, `${nodes.length} nodes`)
  const [nx, ny] = host.shape
  // per node: the spread of (image - host) over voxels deep inside it, and the host's own spread there
  const stats = new Map<number, { n: number; d: number; d2: number; h: number; h2: number }>()
  // voxels at least 2 voxels deep inside a node whose inside is meant to be uniform
  const deep = [1, 2].flatMap((r) => [r, -r, r * nx, -r * nx, r * nx * ny, -r * nx * ny])
  for (let k = 2; k < host.shape[2] - 2; k++) {
    for (let j = 2; j < ny - 2; j++) {
      for (let i = 2; i < nx - 2; i++) {
        const v = i + nx * (j + ny * k)
        const id = c.instances.data[v]
        if (!id || deep.some((d) => c.instances.data[v + d] !== id)) continue
        const rec = c.nodes[String(id)]
        if (rec.necrosis || rec.fatty_hilum || rec.capsule_breach) continue
        const s = stats.get(id) ?? { n: 0, d: 0, d2: 0, h: 0, h2: 0 }
        const diff = c.image.data[v] - host.data[v]
        s.n++; s.d += diff; s.d2 += diff * diff; s.h += host.data[v]; s.h2 += host.data[v] ** 2
        stats.set(id, s)
      }
    }
  }
  const sd = (sum: number, sum2: number, n: number) => Math.sqrt(Math.max(0, sum2 / n - (sum / n) ** 2))
  let checked = 0
  for (const [id, s] of stats) {
    if (s.n < 10) continue
    const added = sd(s.d, s.d2, s.n), hostNoise = sd(s.h, s.h2, s.n)
    assert.ok(hostNoise > 10, `node ${id}: host noise ${hostNoise}`)
    assert.ok(added < hostNoise / 3, `node ${id}: the insertion added its own texture (sd ${added} vs host ${hostNoise})`)
    assert.ok(s.d / s.n > 100, `node ${id} should be ~130-170 HU above fat, got ${s.d / s.n}`)
    checked++
  }
  assert.ok(checked > 0, 'no node large enough to look inside')
})

test('inserted nodes sit in fat near the vessel, never in it', () => {
  const host = fatBlockWithVessel()
  const c = insertNodes(host, [], 2, 0)
  for (const rec of Object.values(c.nodes)) {
    const [x, y] = rec.centre_mm
    const fromAxis = Math.hypot(x, y)
    assert.ok(fromAxis > 6 + rec.short_axis_mm / 2 - 1, `node at ${fromAxis.toFixed(1)} mm from the vessel axis overlaps it`)
    assert.ok(fromAxis < 6 + 12 + rec.long_axis_mm, `node at ${fromAxis.toFixed(1)} mm is not near the vessel`)
    assert.match(rec.station, /near contrast-enhanced vessel/)
  }
})
