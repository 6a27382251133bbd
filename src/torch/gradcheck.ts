/**
 * Finite-difference gradient check, as torch.autograd.gradcheck: compares the autograd gradient of a scalar
 * function with central differences (f(x+h) − f(x−h)) / 2h for every element. Use float64 inputs.
 */
import { noGrad } from './runtime.js'
import { tidy } from './scope.js'
import { type Tensor, tensor } from './tensor.js'

export interface GradcheckResult {
  /** Largest |analytic − numeric| over all checked elements. */
  maxAbsError: number
  /** Largest |analytic − numeric| / max(1, |numeric|). */
  maxRelError: number
  checked: number
}

function analyticGradients(fn: (inputs: Tensor[]) => Tensor, inputs: Tensor[]): Float64Array[] {
  for (const x of inputs) {
    x.clearGrad()
    x.requiresGrad = true
  }
  tidy(() => fn(inputs).backward())
  return inputs.map((x) => {
    const g = x.grad
    const values = g ? Float64Array.from(g.toArray() as Float64Array) : new Float64Array(x.numel)
    g?.dispose()
    return values
  })
}

function evaluate(fn: (inputs: Tensor[]) => Tensor, inputs: Tensor[]): number {
  return noGrad(() => tidy(() => fn(inputs).item()))
}

/** Checks at most maxElements elements per input (evenly spread) to bound the cost on large inputs. */
export function gradcheck(fn: (inputs: Tensor[]) => Tensor, inputs: Tensor[], step = 1e-6, maxElements = 64): GradcheckResult {
  const analytic = analyticGradients(fn, inputs)
  let maxAbsError = 0
  let maxRelError = 0
  let checked = 0
  inputs.forEach((x, k) => {
    const base = Float64Array.from(x.toArray() as Float64Array)
    const stride = Math.max(1, Math.floor(base.length / maxElements))
    const perturbed = base.slice()
    const setValues = (values: Float64Array) => {
      const t = tensor(values, x.shape, { dtype: 'float64' })
      noGrad(() => x.copy_(t))
      t.dispose()
    }
    for (let i = 0; i < base.length; i += stride) {
      perturbed[i] = base[i]! + step
      setValues(perturbed)
      const plus = evaluate(fn, inputs)
      perturbed[i] = base[i]! - step
      setValues(perturbed)
      const minus = evaluate(fn, inputs)
      perturbed[i] = base[i]!
      const numeric = (plus - minus) / (2 * step)
      const error = Math.abs(numeric - analytic[k]![i]!)
      maxAbsError = Math.max(maxAbsError, error)
      maxRelError = Math.max(maxRelError, error / Math.max(1, Math.abs(numeric)))
      checked++
    }
    setValues(base)
  })
  return { maxAbsError, maxRelError, checked }
}
