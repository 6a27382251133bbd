import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NodalError } from '../errors.js'

/** The id of one libtorch tensor in the addon's tensor table (native/src/tensor.cc); freed by `release`. */
export type NativeHandle = number

/**
 * The addon's functions. They take and return handles, numbers, strings and arrays; argument order is
 * documented next to each function in native/src. Typed loosely on purpose: the typed API is Tensor.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NativeTorch = Record<string, (...args: any[]) => any> & {
  torchVersion: string
  builtWithCuda: boolean
}

const here = dirname(fileURLToPath(import.meta.url))

/** Walks up from this file to the folder holding package.json (works from src/ and from dist/src/). */
function repoRoot(): string {
  let dir = here
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) return resolve(here, '../../..')
    dir = parent
  }
  return dir
}

function addonPath(): string {
  return process.env.NODAL_TORCH_ADDON ?? join(repoRoot(), 'native/build/Release/nodal_torch.node')
}

let loaded: NativeTorch | null = null

/** The addon, loaded on first use so that prediction (ONNX Runtime only) never needs libtorch. */
export function nativeTorch(): NativeTorch {
  if (loaded) return loaded
  const path = addonPath()
  if (!existsSync(path)) {
    throw new NodalError('torch-missing', `libtorch addon not built (${path}); run: bash scripts/setup.sh`)
  }
  loaded = createRequire(import.meta.url)(path) as NativeTorch
  return loaded
}
