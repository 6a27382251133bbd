/** `nodal bench torch`: one training step of the default 3D U-Net through nodal vs Python PyTorch on the same libtorch. */
import { NodalError } from '../errors.js'
import { benchTorch, formatTorchBench, parseTorchBenchArgs } from '../../bench/torch.js'
import type { Command } from './command.js'

export async function runBench(argv: string[]): Promise<number> {
  const [what, ...rest] = argv
  if (what !== 'torch') throw new NodalError('bad-arguments', `bench: unknown benchmark '${what ?? ''}' (available: torch)`)
  const args = parseTorchBenchArgs(rest)
  const result = await benchTorch(args)
  console.log(args.json ? JSON.stringify(result) : formatTorchBench(result))
  return 0
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'time a training step through nodal vs Python PyTorch on the same libtorch',
  help: `usage: nodal bench torch [--json] [--patch 96|64] [--threads N] [--steps N] [--warmup N]

Runs one training step (forward, backward, SGD) of the default 3D U-Net on a 1x1xPxPxP patch through
nodal's libtorch addon and through the same network in Python PyTorch (Debian's python3-torch, same
libtorch, same threads), alternating step by step, and prints both times, their ratio, GFLOP/s, and
ONNX Runtime vs libtorch inference time with the largest output difference.

options:
  --json        one JSON object (nodal_step_ms, pytorch_step_ms, ratio, gflops, onnx_max_abs_diff, ...)
  --patch P     patch edge, 96 (default) or 64
  --threads N   intra-op threads for both sides (default: all cores)
  --steps N     timed steps per side (default 3 at 96, 5 at 64)
  --warmup N    untimed steps first (default 2)

example:
  nodal bench torch --patch 64 --json`,
  run: runBench,
}
