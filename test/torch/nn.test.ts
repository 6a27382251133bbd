import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  Adam, AdamW, SGD, clipGradNorm, cosineSchedule, linearWarmup, loadModule, manualSeed, nn, noGrad, polySchedule,
  randn, saveModule, tensor, tidy, type Tensor,
} from '../../src/torch/index.js'
import { runPython } from './python.js'

test('layers produce the shapes PyTorch produces', () => {
  const x = randn([2, 3, 8, 8, 8])
  assert.deepEqual(new nn.Conv3d(3, 5, 3).forward(x).shape, [2, 5, 8, 8, 8])
  assert.deepEqual(new nn.Conv3d(3, 5, [1, 3, 3], { stride: [1, 2, 2] }).forward(x).shape, [2, 5, 8, 4, 4])
  assert.deepEqual(new nn.ConvTranspose3d(3, 4, 2, { stride: 2 }).forward(x).shape, [2, 4, 16, 16, 16])
  assert.deepEqual(new nn.MaxPool(3, 2).forward(x).shape, [2, 3, 4, 4, 4])
  assert.deepEqual(new nn.AvgPool(3, [1, 2, 2]).forward(x).shape, [2, 3, 8, 4, 4])
  assert.deepEqual(new nn.Upsample([2, 2, 2]).forward(x).shape, [2, 3, 16, 16, 16])
  assert.deepEqual(new nn.GlobalAvgPool().forward(x).shape, [2, 3])
  assert.deepEqual(new nn.Linear(3, 7).forward(randn([4, 3])).shape, [4, 7])
  const x2 = randn([2, 4, 10, 10])
  assert.deepEqual(new nn.Conv2d(4, 6, 3, { stride: 2 }).forward(x2).shape, [2, 6, 5, 5])
  assert.deepEqual(new nn.GroupNorm(2, 4, 1e-5, 2).forward(x2).shape, [2, 4, 10, 10])
  assert.deepEqual(new nn.BatchNorm(4).forward(x2).shape, [2, 4, 10, 10])
  assert.deepEqual(new nn.Sequential(new nn.InstanceNorm(4), new nn.GELU(), new nn.Dropout(0.2)).forward(x2).shape, [2, 4, 10, 10])
})

test('instance norm output has zero mean and unit variance per channel', () => {
  const y = new nn.InstanceNorm(3).forward(randn([2, 3, 6, 6, 6]).mul(4).add(7))
  assert.ok(y.mean([2, 3, 4]).abs().amax().item() < 1e-5)
  assert.ok(y.square().mean([2, 3, 4]).sub(1).abs().amax().item() < 1e-3)
})

test('batch norm updates running statistics in train mode and uses them in eval mode', () => {
  const bn = new nn.BatchNorm(2)
  bn.forward(randn([8, 2, 4, 4]).add(5))
  assert.ok(bn.runningMean.amin().item() > 0.3)
  bn.eval()
  const y = bn.forward(tensor(new Float32Array(32).fill(5), [1, 2, 4, 4]))
  assert.ok(y.abs().amax().item() < 5)
})

test('dropout zeroes elements in train mode only', () => {
  const d = new nn.Dropout(0.5)
  const x = randn([1000]).abs().add(1)
  assert.ok(d.forward(x).eq(0).sum().item() > 300)
  d.eval()
  assert.equal(d.forward(x).eq(0).sum().item(), 0)
})

test('stateDict names nest like PyTorch and loadStateDict copies values', () => {
  const a = new nn.Sequential(new nn.Conv3d(1, 2, 3), new nn.BatchNorm(2))
  const names = [...a.stateDict().keys()]
  assert.deepEqual(names, ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var'])
  const b = new nn.Sequential(new nn.Conv3d(1, 2, 3), new nn.BatchNorm(2))
  b.loadStateDict(a.stateDict())
  assert.equal(b.stateDict().get('0.weight')!.sub(a.stateDict().get('0.weight')!).abs().amax().item(), 0)
  assert.throws(() => b.loadStateDict(new Map([['x', randn([1])]])), /missing/)
})

test('safetensors round-trip, and Python reads the file', async () => {
  manualSeed(3)
  const model = new nn.Sequential(new nn.Conv3d(2, 3, [1, 3, 3]), new nn.BatchNorm(3))
  const dir = mkdtempSync(join(tmpdir(), 'nodal-st-'))
  const path = join(dir, 'w.safetensors')
  await saveModule(model, path, { format: 'pt' })
  const copy = new nn.Sequential(new nn.Conv3d(2, 3, [1, 3, 3]), new nn.BatchNorm(3))
  const metadata = await loadModule(copy, path)
  assert.deepEqual(metadata, { format: 'pt' })
  for (const [name, t] of model.stateDict()) assert.equal(copy.stateDict().get(name)!.sub(t).abs().amax().item(), 0, name)

  const fromPython = runPython<Record<string, { shape: number[]; sum: number }>>(`
import json, struct, sys, torch
raw = open(${JSON.stringify(path)}, 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
out = {}
for name, e in header.items():
    if name == '__metadata__': continue
    b, end = e['data_offsets']
    t = torch.frombuffer(bytearray(data[b:end]), dtype=torch.float32).reshape(e['shape'])
    out[name] = {'shape': list(t.shape), 'sum': float(t.double().sum())}
print(json.dumps(out))`)
  for (const [name, t] of model.stateDict()) {
    assert.deepEqual(fromPython[name]!.shape, t.shape)
    assert.ok(Math.abs(fromPython[name]!.sum - t.double().sum().item()) < 1e-6, name)
  }
  assert.ok(readFileSync(path).length > 8)
})

const optimizerCases = [
  { name: 'sgd', make: (p: Tensor[]) => new SGD(p, { lr: 0.1 }), py: 'torch.optim.SGD(p, lr=0.1)' },
  {
    name: 'sgd-nesterov-wd',
    make: (p: Tensor[]) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
    py: 'torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)',
  },
  { name: 'sgd-momentum', make: (p: Tensor[]) => new SGD(p, { lr: 0.05, momentum: 0.9 }), py: 'torch.optim.SGD(p, lr=0.05, momentum=0.9)' },
  {
    name: 'adam',
    make: (p: Tensor[]) => new Adam(p, { lr: 0.1, weightDecay: 0.01 }),
    py: 'torch.optim.Adam(p, lr=0.1, weight_decay=0.01)',
  },
  { name: 'adamw', make: (p: Tensor[]) => new AdamW(p, { lr: 0.1 }), py: 'torch.optim.AdamW(p, lr=0.1)' },
]

test('optimizers follow torch.optim step for step', () => {
  const init = [0.5, -1, 2, 0.25]
  const target = [1, 1, -1, 0]
  const pyCode = optimizerCases.map((c) => `
p = [torch.tensor(${JSON.stringify(init)}, dtype=torch.float64, requires_grad=True)]
o = ${c.py}
for _ in range(6):
    o.zero_grad()
    ((p[0] - torch.tensor(${JSON.stringify(target)}, dtype=torch.float64)) ** 2 * torch.arange(1, 5)).sum().backward()
    o.step()
out[${JSON.stringify(c.name)}] = p[0].tolist()`).join('\n')
  const expected = runPython<Record<string, number[]>>(`import json, torch\nout = {}\n${pyCode}\nprint(json.dumps(out))`)
  for (const c of optimizerCases) {
    const p = tensor(init, [4], { dtype: 'float64', requiresGrad: true })
    const optimizer = c.make([p])
    const t = tensor(target, [4], { dtype: 'float64' })
    const weights = tensor([1, 2, 3, 4], [4], { dtype: 'float64' })
    for (let i = 0; i < 6; i++) {
      optimizer.zeroGrad()
      tidy(() => p.sub(t).square().mul(weights).sum().backward())
      optimizer.step()
    }
    const got = p.toNumbers()
    expected[c.name]!.forEach((v, i) => assert.ok(Math.abs(got[i]! - v) < 1e-9, `${c.name}[${i}]: ${got[i]} vs ${v}`))
  }
})

test('clipGradNorm scales gradients to the maximum norm', () => {
  const p = tensor([3, 4], [2], { requiresGrad: true })
  p.mul(1).sum().backward()
  noGrad(() => p.grad!.mul_(tensor([3, 4], [2])))
  const before = clipGradNorm([p], 1)
  assert.ok(Math.abs(before - 5) < 1e-5)
  assert.ok(Math.abs(p.grad!.norm().item() - 1) < 1e-4)
})

test('learning-rate schedules', () => {
  const poly = polySchedule(0.01, 100)
  assert.equal(poly(0), 0.01)
  assert.ok(Math.abs(poly(50) - 0.01 * 0.5 ** 0.9) < 1e-12)
  assert.equal(poly(100), 0)
  const cosine = cosineSchedule(1, 10, 0.1)
  assert.ok(Math.abs(cosine(0) - 1) < 1e-12 && Math.abs(cosine(10) - 0.1) < 1e-12 && Math.abs(cosine(5) - 0.55) < 1e-12)
  const warm = linearWarmup(4, cosine)
  assert.deepEqual([0, 1, 2, 3].map(warm), [0.25, 0.5, 0.75, 1])
  assert.equal(warm(4), 1)
})
