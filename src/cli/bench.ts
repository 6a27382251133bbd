/** `nodal bench torch [--json] [--patch 96|64] [--threads N]`: libtorch-from-TypeScript vs PyTorch step time. */
import { NodalError } from '../errors.js'
import { benchTorch, formatTorchBench, parseTorchBenchArgs } from '../../bench/torch.js'

export async function runBench(argv: string[]): Promise<number> {
  const [what, ...rest] = argv
  if (what !== 'torch') throw new NodalError('bad-arguments', `bench: unknown benchmark '${what ?? ''}' (available: torch)`)
  const args = parseTorchBenchArgs(rest)
  const result = await benchTorch(args)
  console.log(args.json ? JSON.stringify(result) : formatTorchBench(result))
  return 0
}
