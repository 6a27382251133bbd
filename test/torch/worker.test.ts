import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runTorchWorker } from '../../src/torch/index.js'

test('a training loop on a worker thread leaves the main event loop free', async () => {
  const losses: number[] = []
  let ticks = 0
  const timer = setInterval(() => ticks++, 1)
  const started = performance.now()
  const code = await runTorchWorker<{ step: number; loss: number }>(new URL('./fixtures/train-worker.js', import.meta.url), { steps: 15 },
    { onMessage: (m) => losses.push(m.loss) })
  const elapsed = performance.now() - started
  clearInterval(timer)
  assert.equal(code, 0)
  assert.equal(losses.length, 15)
  assert.ok(losses[14]! < losses[0]!, `loss ${losses[0]} -> ${losses[14]}`)
  // A blocked main thread would tick about once in total; a free one about once per millisecond.
  assert.ok(ticks > elapsed / 20, `${ticks} ticks in ${elapsed.toFixed(0)} ms`)
})
