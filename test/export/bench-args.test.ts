import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseTorchBenchArgs } from '../../bench/torch.js'
import { runBench } from '../../src/cli/bench.js'

test('bench torch arguments: defaults, --json, --patch, --threads, and errors', async () => {
  const defaults = parseTorchBenchArgs([])
  assert.equal(defaults.patch, 96)
  assert.equal(defaults.steps, 3)
  assert.equal(defaults.json, false)
  const small = parseTorchBenchArgs(['--json', '--patch', '64', '--threads', '1'])
  assert.deepEqual([small.json, small.patch, small.threads, small.steps], [true, 64, 1, 5])
  assert.throws(() => parseTorchBenchArgs(['--patch', '80']), /96 or 64/)
  assert.throws(() => parseTorchBenchArgs(['--threads', 'x']), /positive integer/)
  assert.throws(() => parseTorchBenchArgs(['--fast']), /unknown option/)
  await assert.rejects(runBench(['tf']), /unknown benchmark/)
})
