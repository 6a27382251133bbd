import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AttentionGate, NodeClassifier, ResidualBlock, UNet, buildModel, defaultUNetConfig, type UNetConfig } from '../../src/models/index.js'
import { Adam, F, gradcheck, manualSeed, randint, randn, tidy, type Tensor } from '../../src/torch/index.js'

const anisotropic: UNetConfig = {
  dims: 3, inChannels: 2, numClasses: 3, features: [4, 8, 16], kernelSizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]],
  strides: [[1, 1, 1], [1, 2, 2], [2, 2, 2]], deepSupervision: true,
}

test('3D U-Net with anisotropic strides: output and deep-supervision shapes', () => {
  for (const name of ['unet', 'resenc_unet', 'attention_unet'] as const) {
    const net = buildModel(name, anisotropic) as UNet
    const x = randn([2, 2, 4, 16, 16])
    assert.deepEqual(net.forward(x).shape, [2, 3, 4, 16, 16], name)
    assert.deepEqual(net.forwardDeep(x).map((t) => t.shape), [[2, 3, 4, 16, 16], [2, 3, 4, 8, 8]], name)
  }
})

test('2D U-Net', () => {
  const net = buildModel('unet', { ...defaultUNetConfig([32, 32], 1, 2), features: [4, 8, 8, 8] , kernelSizes: [[3, 3], [3, 3], [3, 3], [3, 3]], strides: [[1, 1], [2, 2], [2, 2], [2, 2]] })
  assert.deepEqual(net.forward(randn([1, 1, 32, 32])).shape, [1, 2, 32, 32])
})

test('default configuration follows nnU-Net: stages down to 4 voxels, features capped at 320', () => {
  const c = defaultUNetConfig([96, 96, 96])
  assert.deepEqual(c.features, [32, 64, 128, 256, 320])
  assert.deepEqual(c.strides.map((s) => s[0]), [1, 2, 2, 2, 2])
  const an = defaultUNetConfig([16, 128, 128])
  assert.deepEqual(an.strides[3], [1, 2, 2])
  assert.throws(() => new UNet({ ...anisotropic, strides: [[1, 1, 1]] }), /strides/)
  assert.throws(() => buildModel('vnet' as 'unet', anisotropic), /unknown network/)
})

test('a U-Net learns to segment a bright cube in a few steps', () => {
  manualSeed(1)
  const net = buildModel('unet', { ...anisotropic, inChannels: 1, numClasses: 2, kernelSizes: [[3, 3, 3], [3, 3, 3], [3, 3, 3]], strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2]] })
  const x = randn([1, 1, 16, 16, 16]).mul(0.1)
  const label = randint(0, 1, [1, 16, 16, 16])
  tidy(() => {
    const cube = x.slice(2, 4, 12).slice(3, 4, 12).slice(4, 4, 12)
    cube.add_(1)
    label.slice(1, 4, 12).slice(2, 4, 12).slice(3, 4, 12).fill_(1)
  })
  const optimizer = new Adam(net.parameters(), { lr: 3e-3 })
  const lossOf = () => tidy(() => net.forward(x).logSoftmax(1).gather(1, label.unsqueeze(1)).mean().neg())
  const first = lossOf().item()
  for (let i = 0; i < 25; i++) {
    optimizer.zeroGrad()
    tidy(() => lossOf().backward())
    optimizer.step()
  }
  const last = lossOf().item()
  assert.ok(last < first * 0.5, `loss ${first} -> ${last}`)
})

function checkModuleGradients(name: string, fn: (inputs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const result = gradcheck(fn, inputs, 1e-6, 24)
  assert.ok(result.maxRelError < 1e-5, `${name}: gradient error ${result.maxRelError} over ${result.checked} elements`)
}

test('finite-difference gradient check: residual block (input and weights)', () => {
  manualSeed(2)
  for (const stride of [[1, 1, 1], [1, 2, 2]]) {
    const block = new ResidualBlock({ dims: 3, kernel: [3, 3, 3] }, 2, 3, stride).to({ dtype: 'float64' })
    const x = randn([1, 2, 4, 4, 4], { dtype: 'float64' })
    const probe = randn(block.forward(x).shape, { dtype: 'float64' })
    const weight = block.conv1.layers[0]!.parameters()[0]!
    const skipWeight = block.skip.parameters()[0] ?? weight
    checkModuleGradients(`residual block stride ${stride}`, ([input]) => block.forward(input!).mul(probe).sum(), [x, weight, skipWeight])
  }
})

test('finite-difference gradient check: attention gate (skip, gating signal and weights)', () => {
  manualSeed(3)
  const gate = new AttentionGate(3, 3, 4, 2).to({ dtype: 'float64' })
  const x = randn([1, 3, 3, 4, 4], { dtype: 'float64' })
  const g = randn([1, 4, 3, 4, 4], { dtype: 'float64' })
  const probe = randn([1, 3, 3, 4, 4], { dtype: 'float64' })
  const psiWeight = gate.psi.weight
  const wgWeight = gate.wg.parameters()[0]!
  checkModuleGradients('attention gate', ([a, b]) => gate.forward(a!, b!).mul(probe).sum(), [x, g, psiWeight, wgWeight])
  const alpha = gate.coefficients(x, g)
  assert.deepEqual(alpha.shape, [1, 1, 3, 4, 4])
  assert.ok(alpha.amin().item() > 0 && alpha.amax().item() < 1)
})

test('node classifier: logits, class-activation map in [0, 1] at patch size, gradients reach the first layer', () => {
  manualSeed(4)
  const net = buildModel('node_classifier', { inChannels: 2, numClasses: 2, features: [4, 8] }) as NodeClassifier
  const x = randn([3, 2, 16, 16, 16])
  const logits = net.forward(x)
  assert.deepEqual(logits.shape, [3, 2])
  net.eval()
  const cam = net.classActivationMap(x, 1)
  assert.deepEqual(cam.shape, [3, 1, 16, 16, 16])
  assert.ok(cam.amin().item() >= 0 && cam.amax().item() <= 1 + 1e-6)
  assert.ok(cam.amax().item() > 0.99)
  net.train()
  net.forward(x).sum().backward()
  assert.ok(net.parameters()[0]!.grad!.abs().sum().item() > 0)
})

test('class-activation map is ReLU(Σ_k w_ck F_k) resampled and scaled to [0, 1]', () => {
  manualSeed(6)
  const net = buildModel('node_classifier', { inChannels: 1, numClasses: 3, features: [4, 6] }) as NodeClassifier
  net.eval()
  const x = randn([1, 1, 8, 8, 8])
  const cls = 2
  const cam = net.classActivationMap(x, cls)
  const expected = tidy(() => {
    const maps = net.features(x) // [1, 6, 4, 4, 4]
    const weights = net.fc.weight.slice(0, cls, cls + 1).reshape([1, 6, 1, 1, 1])
    const raw = maps.mul(weights).sum(1, true).relu()
    const up = F.interpolate(raw, [8, 8, 8], 'linear')
    const low = up.amin()
    return up.sub(low).div(up.amax().sub(low))
  })
  assert.ok(cam.sub(expected).abs().amax().item() < 1e-5)
})
