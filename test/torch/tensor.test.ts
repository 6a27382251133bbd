import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  arange, cat, cudaAvailable, full, getNumThreads, manualSeed, noGrad, ones, randn, setNumThreads, tensor, tidy,
  where, zeros, isGradEnabled, enableGrad, F, gradcheck,
} from '../../src/torch/index.js'

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length)
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`)
}

test('creation from typed arrays keeps values, shape and dtype', () => {
  const a = tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3])
  assert.deepEqual(a.shape, [2, 3])
  assert.equal(a.dtype, 'float32')
  assert.equal(a.device, 'cpu')
  close(a.toArray() as Float32Array, [1, 2, 3, 4, 5, 6])
  const l = tensor(new BigInt64Array([5n, -2n]), [2])
  assert.equal(l.dtype, 'int64')
  assert.deepEqual(l.toNumbers(), [5, -2])
  const b = tensor([1, 0, 1], [3], { dtype: 'bool' })
  assert.equal(b.dtype, 'bool')
  assert.deepEqual(Array.from(b.toArray() as Uint8Array), [1, 0, 1])
  const u = tensor(new Uint8Array([7, 255]), [2])
  assert.equal(u.dtype, 'uint8')
  assert.throws(() => tensor(new Float32Array(5), [2, 3]), /elements/)
})

test('dataView shares memory with a contiguous tensor; toArray copies', () => {
  const a = zeros([4])
  const view = a.dataView() as Float32Array
  const copy = a.toArray() as Float32Array
  a.fill_(3)
  assert.equal(view[2], 3)
  assert.equal(copy[2], 0)
})

test('element-wise math, broadcasting, reductions and shape operations', () => {
  const a = tensor([1, 2, 3, 4], [2, 2])
  const b = tensor([10, 20], [2])
  close(a.add(b).toArray() as Float32Array, [11, 22, 13, 24])
  close(a.mul(2).sub(1).toArray() as Float32Array, [1, 3, 5, 7])
  close(a.rsub(1).toArray() as Float32Array, [0, -1, -2, -3])
  close(a.sum().toArray() as Float32Array, [10])
  close(a.sum(1).toArray() as Float32Array, [3, 7])
  close(a.mean(0, true).toArray() as Float32Array, [2, 3])
  assert.deepEqual(a.mean(0, true).shape, [1, 2])
  close(a.amax(1).toArray() as Float32Array, [2, 4])
  assert.deepEqual(a.argmax(1).toNumbers(), [1, 1])
  close(a.transpose(0, 1).contiguous().toArray() as Float32Array, [1, 3, 2, 4])
  close(a.softmax(1).sum(1).toArray() as Float32Array, [1, 1])
  close(a.reshape([4]).slice(0, 1, 3).toArray() as Float32Array, [2, 3])
  close(cat([a, a], 0).sum().toArray() as Float32Array, [20])
  close(where(a.gt(2), a, 0).toArray() as Float32Array, [0, 0, 3, 4])
  assert.deepEqual(tensor([2, 0], [2], { dtype: 'int64' }).oneHot(3).toNumbers(), [0, 0, 1, 1, 0, 0])
  close(arange(0, 3).toArray() as Float32Array, [0, 1, 2])
  close(full([2], 1.5).pad([1, 1]).toArray() as Float32Array, [0, 1.5, 1.5, 0])
  close(tensor([-2, 3], [2]).leakyRelu(0.1).toArray() as Float32Array, [-0.2, 3])
})

test('autograd: gradient of sum(x^2 * w) matches 2xw', () => {
  const x = tensor([1, -2, 3], [3], { requiresGrad: true })
  const w = tensor([0.5, 1, 2], [3])
  x.square().mul(w).sum().backward()
  close(x.grad!.toArray() as Float32Array, [1, -4, 12])
  x.clearGrad()
  assert.equal(x.grad, null)
})

test('noGrad stops recording and restores the previous mode', () => {
  const x = ones([2], { requiresGrad: true })
  const y = noGrad(() => x.mul(2))
  assert.equal(y.requiresGrad, false)
  assert.equal(isGradEnabled(), true)
  const z = noGrad(() => enableGrad(() => x.mul(2)))
  assert.equal(z.requiresGrad, true)
})

test('backwardAsync computes gradients off the main thread while the event loop runs', async () => {
  const x = randn([1, 8, 48, 48, 48], { requiresGrad: true })
  const w = randn([16, 8, 3, 3, 3], { requiresGrad: true })
  const loss = tidy(() => F.conv(x, w, null, { padding: [1, 1, 1] }).square().mean().add(x.square().sum()))
  let ticks = 0
  const timer = setInterval(() => ticks++, 1)
  const pending = loss.backwardAsync()
  await pending
  clearInterval(timer)
  assert.ok(ticks >= 2, `event loop ticked ${ticks} times during backward`)
  assert.ok(x.grad !== null && w.grad !== null)
})

test('tidy disposes intermediates and keeps what is returned', () => {
  const a = ones([3])
  let inner: ReturnType<typeof ones> | undefined
  const kept = tidy(() => {
    inner = a.mul(2)
    return { result: inner.add(1) }
  })
  assert.equal(inner!.isDisposed, true)
  assert.equal(kept.result.isDisposed, false)
  assert.equal(a.isDisposed, false)
  close(kept.result.toArray() as Float32Array, [3, 3, 3])
  kept.result.dispose()
  assert.throws(() => kept.result.shape, /dispose/)
})

test('tidy disposes intermediates when the function throws', () => {
  let inner: ReturnType<typeof ones> | undefined
  assert.throws(() => tidy(() => {
    inner = ones([2])
    throw new Error('boom')
  }), /boom/)
  assert.equal(inner!.isDisposed, true)
})

test('manualSeed makes random draws reproducible', () => {
  manualSeed(42)
  const a = randn([5]).toArray()
  manualSeed(42)
  const b = randn([5]).toArray()
  assert.deepEqual(Array.from(a as Float32Array), Array.from(b as Float32Array))
})

test('thread count is settable', () => {
  const before = getNumThreads()
  setNumThreads(1)
  assert.equal(getNumThreads(), 1)
  setNumThreads(before)
})

test('devices: cuda is a string away and fails clearly without a CUDA build', () => {
  const a = ones([2])
  if (cudaAvailable()) {
    const g = a.to({ device: 'cuda' })
    assert.match(g.device, /^cuda/)
    close(g.to({ device: 'cpu' }).toArray() as Float32Array, [1, 1])
  } else {
    assert.throws(() => a.to({ device: 'cuda' }), /cuda|CUDA/)
  }
})

test('libtorch errors become JS errors with the libtorch message', () => {
  assert.throws(() => ones([2, 3]).matmul(ones([2, 3])), /shapes cannot be multiplied|size mismatch|mat1 and mat2/)
})

test('gradcheck accepts a correct gradient and flags a wrong one', () => {
  const x = randn([5], { dtype: 'float64' })
  const good = gradcheck(([v]) => v!.square().sum(), [x])
  assert.ok(good.maxAbsError < 1e-6 && good.checked === 5)
  // detach() hides half of the dependence from autograd: analytic gradient x, true gradient 2x.
  const bad = gradcheck(([v]) => v!.detach().mul(v!).sum(), [x])
  assert.ok(bad.maxAbsError > 1e-3)
})
