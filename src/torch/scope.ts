/**
 * Memory ownership for tensors. libtorch memory is freed when a tensor is disposed; three ways lead there:
 * explicit `dispose()`, `tidy(fn)` (disposes every tensor created inside fn except what fn returns),
 * and, as a safety net, a FinalizationRegistry that frees tensors the program forgot once the GC collects them.
 */
import { nativeTorch, type NativeHandle } from './native.js'

export interface Disposable {
  dispose(): void
}

const scopes: Set<Disposable>[] = []
let collectedByGc = 0

// Tensors are unregistered when disposed, so a callback here means the tensor was forgotten.
const finalizer = new FinalizationRegistry<NativeHandle>((handle) => {
  collectedByGc++
  nativeTorch().release(handle)
})

/** Called by every new Tensor: enters the innermost tidy scope and the GC safety net. */
export function track(owner: Disposable, handle: NativeHandle): void {
  finalizer.register(owner, handle, owner)
  scopes[scopes.length - 1]?.add(owner)
}

/** Called by Tensor.dispose(). */
export function untrack(owner: Disposable): void {
  finalizer.unregister(owner)
  scopes[scopes.length - 1]?.delete(owner)
}

/** Removes a tensor from the enclosing tidy scope so that it outlives it. */
export function keep<T extends Disposable>(value: T): T {
  for (const scope of scopes) scope.delete(value)
  return value
}

/** Number of tensors alive in libtorch (created and neither disposed nor collected). */
export function liveTensors(): number {
  return nativeTorch().liveTensors()
}

/** Number of tensors that were freed by the GC rather than disposed (for leak diagnostics). */
export function tensorsCollectedByGc(): number {
  return collectedByGc
}

function collectReturned(value: unknown, into: Set<unknown>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 4) return
  into.add(value)
  if (Array.isArray(value)) for (const v of value) collectReturned(v, into, depth + 1)
  else if (value instanceof Map) for (const v of value.values()) collectReturned(v, into, depth + 1)
  else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectReturned(v, into, depth + 1)
  }
}

/**
 * Runs fn and disposes every tensor created during it, except those reachable from its return value
 * (directly, or inside arrays, maps and plain objects), which move to the enclosing scope.
 * Synchronous only: an async fn would let other code's tensors into the scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>()
  scopes.push(scope)
  let result: T
  try {
    result = fn()
  } catch (error) {
    scopes.pop()
    for (const t of scope) t.dispose()
    throw error
  }
  scopes.pop()
  if (result instanceof Promise) throw new TypeError('tidy() takes a synchronous function')
  const returned = new Set<unknown>()
  collectReturned(result, returned)
  const parent = scopes[scopes.length - 1]
  for (const t of scope) {
    if (returned.has(t)) parent?.add(t)
    else t.dispose()
  }
  return result
}

/** Disposes every tensor in a value (a tensor, an array, a map or a plain object of them). */
export function disposeAll(value: unknown): void {
  const found = new Set<unknown>()
  collectReturned(value, found)
  for (const v of found) if (typeof (v as Disposable).dispose === 'function') (v as Disposable).dispose()
}
