import { test } from 'node:test'
import assert from 'node:assert/strict'
import v8 from 'node:v8'
import vm from 'node:vm'
import { Adam, liveTensors, manualSeed, nn, randint, randn, tensorsCollectedByGc, tidy } from '../../src/torch/index.js'

const steps = 1000

test(`resident memory does not grow over ${steps} training steps`, () => {
  manualSeed(0)
  const model = new nn.Sequential(new nn.Conv3d(1, 4, 3), new nn.InstanceNorm(4), new nn.LeakyReLU(), new nn.Conv3d(4, 2, 1))
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 })
  const x = randn([1, 1, 8, 8, 8])
  const target = randint(0, 2, [1, 8, 8, 8])
  const rssAt: number[] = []
  const liveAt: number[] = []
  for (let step = 0; step < steps; step++) {
    optimizer.zeroGrad()
    tidy(() => {
      const logits = model.forward(x)
      const logp = logits.logSoftmax(1)
      logp.gather(1, target.unsqueeze(1)).mean().neg().backward()
    })
    optimizer.step()
    if (step === 199 || step === steps - 1) {
      rssAt.push(process.memoryUsage.rss())
      liveAt.push(liveTensors())
    }
  }
  const growthMiB = (rssAt[1]! - rssAt[0]!) / 2 ** 20
  assert.equal(liveAt[1], liveAt[0], 'libtorch tensors alive at step 200 and at the end')
  assert.ok(growthMiB < 8, `RSS grew ${growthMiB.toFixed(1)} MiB between step 200 and step ${steps}`)
})

test('forgotten tensors are freed by the GC safety net', async () => {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  const before = liveTensors()
  const collectedBefore = tensorsCollectedByGc()
  ;(() => {
    for (let i = 0; i < 200; i++) randn([16, 16]).mul(2) // neither disposed nor in a tidy scope
  })()
  assert.ok(liveTensors() >= before + 400)
  for (let round = 0; round < 20 && liveTensors() > before; round++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, 10)) // finalization callbacks run on later turns
  }
  assert.ok(liveTensors() <= before, `${liveTensors()} tensors alive, ${before} before`)
  assert.ok(tensorsCollectedByGc() - collectedBefore >= 400)
})
