import { nativeTorch } from './native.js'

/** Seeds libtorch's generator (randn, rand, dropout, weight initialisation). */
export function manualSeed(seed: number): void {
  nativeTorch().manualSeed(seed)
}

/** Threads used by libtorch's intra-op parallelism (as torch.set_num_threads). */
export function setNumThreads(threads: number): void {
  nativeTorch().setNumThreads(threads)
}

export function getNumThreads(): number {
  return nativeTorch().getNumThreads()
}

export function cudaAvailable(): boolean {
  return nativeTorch().cudaAvailable()
}

export function cudaDeviceCount(): number {
  return nativeTorch().cudaDeviceCount()
}

export function torchVersion(): string {
  return nativeTorch().torchVersion
}

/** Runs fn with autograd recording switched off (as `with torch.no_grad():`), restoring the previous mode. */
export function noGrad<T>(fn: () => T): T {
  const previous: boolean = nativeTorch().setGradEnabled(false)
  try {
    return fn()
  } finally {
    nativeTorch().setGradEnabled(previous)
  }
}

/** Runs fn with autograd recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const previous: boolean = nativeTorch().setGradEnabled(true)
  try {
    return fn()
  } finally {
    nativeTorch().setGradEnabled(previous)
  }
}

export function isGradEnabled(): boolean {
  return nativeTorch().isGradEnabled()
}
