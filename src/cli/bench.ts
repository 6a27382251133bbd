/** `nodal bench torch`: one training step of the default 3D U-Net through nodal vs Python PyTorch on the same libtorch. */
import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { usageError } from './command.js'
import { defineCommand } from './options.js'

export const benchCommand = defineCommand({
  name: 'bench',
  usage: 'nodal bench torch [--json] [--patch 96|64] [--threads N] [--steps N] [--warmup N]',
  description: `Runs one training step (forward, backward, SGD) of the default 3D U-Net on a 1x1xPxPxP patch through
nodal's libtorch addon and through the same network in Python PyTorch (Debian's python3-torch, same
libtorch, same threads), alternating step by step, and prints both times, their ratio, GFLOP/s, and
ONNX Runtime vs libtorch inference time with the largest output difference.`,
  positionals: { name: 'benchmark (torch)', min: 1, max: 1 },
  options: {
    json: { type: 'boolean', help: 'one JSON object (nodal_step_ms, pytorch_step_ms, ratio, gflops, onnx_max_abs_diff, ...)' },
    patch: { type: 'integer', choices: [96, 64], default: 96, help: 'patch edge' },
    threads: { type: 'integer', min: 1, help: 'intra-op threads for both sides (default: all cores)' },
    steps: { type: 'integer', min: 1, help: 'timed steps per side (default 3 at 96, 5 at 64)' },
    warmup: { type: 'integer', min: 0, default: 2, help: 'untimed steps first' },
  },
  examples: ['nodal bench torch --patch 64 --json'],
  async run({ values, positionals: [what] }) {
    if (what !== 'torch') throw usageError('bench', `unknown benchmark '${what}' (available: torch)`)
    // bench/ is a leaf that nothing in src/ imports: the benchmark runs as its own script
    const { patch, warmup } = values
    const args = ['--patch', String(patch), '--warmup', String(warmup), '--threads', String(values.threads ?? availableParallelism()), '--steps', String(values.steps ?? (patch === 96 ? 3 : 5))]
    if (values.json) args.push('--json')
    const script = fileURLToPath(new URL('../../bench/torch.js', import.meta.url))
    const child = spawnSync(process.execPath, [script, ...args], { stdio: 'inherit' })
    return child.status ?? 1
  },
})

/** Runs `nodal bench` with these arguments (kept for callers of the old entry point). */
export function runBench(argv: string[]): Promise<number> {
  return benchCommand.run(argv)
}
