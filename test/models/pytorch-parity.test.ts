import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type UNet, buildModel, type UNetConfig } from '../../src/models/index.js'
import { manualSeed, noGrad, randn, saveModule } from '../../src/torch/index.js'
import { runPython } from '../torch/python.js'

const benchDir = fileURLToPath(new URL('../../../bench/', import.meta.url))

test('the U-Net equals the PyTorch network of bench/torch_reference.py, weight for weight (via safetensors)', async () => {
  manualSeed(30)
  const config: UNetConfig = {
    dims: 3, inChannels: 1, numClasses: 2, features: [4, 8, 16], kernelSizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]],
    strides: [[1, 1, 1], [1, 2, 2], [2, 2, 2]], deepSupervision: true,
  }
  const model = buildModel('unet', config) as UNet
  const path = join(mkdtempSync(join(tmpdir(), 'nodal-parity-')), 'unet.safetensors')
  await saveModule(model, path)
  const x = randn([1, 1, 4, 16, 16])
  const outputs = noGrad(() => model.forwardDeep(x))
  const python = runPython<{ outputs: number[][]; missing: string[]; unexpected: string[] }>(`
import json, struct, sys, torch
sys.path.insert(0, ${JSON.stringify(benchDir)})
from torch_reference import UNet
d = json.load(sys.stdin)
raw = open(d['path'], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
state = {k: torch.frombuffer(bytearray(raw[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]]), dtype=torch.float32).reshape(v['shape'])
         for k, v in header.items() if k != '__metadata__'}
model = UNet(d['config'])
result = model.load_state_dict(state, strict=False)
with torch.no_grad():
    outs = model(torch.tensor(d['x']).reshape(1, 1, 4, 16, 16))
print(json.dumps({'outputs': [o.flatten().tolist() for o in outs], 'missing': result.missing_keys, 'unexpected': result.unexpected_keys}))`,
  { path, config, x: x.toNumbers() })
  assert.deepEqual(python.missing, [])
  assert.deepEqual(python.unexpected, [])
  assert.equal(python.outputs.length, outputs.length)
  outputs.forEach((out, k) => {
    const mine = out.toNumbers()
    const theirs = python.outputs[k]!
    assert.equal(mine.length, theirs.length)
    const maxDiff = Math.max(...mine.map((v, i) => Math.abs(v - theirs[i]!)))
    assert.ok(maxDiff < 1e-4, `output ${k}: max |nodal - PyTorch| = ${maxDiff}`)
  })
})
