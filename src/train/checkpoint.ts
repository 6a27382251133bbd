/**
 * Checkpoints: the network's weights, the optimizer's state and the loop's state in one safetensors file
 * (weights under `model.`, optimizer state under `optimizer.`, the loop state as JSON metadata), written
 * to a temporary name and renamed, so a kill at any moment leaves the previous checkpoint whole.
 * The batch sampler needs no state: batch i is a function of (seed, i).
 */
import { existsSync } from 'node:fs'
import { NodalError } from '../errors.js'
import type { Module, Optimizer, Tensor } from '../torch/index.js'
import { loadSafetensors, saveSafetensors } from '../torch/index.js'

export interface LoopState {
  /** Iterations completed. */
  iteration: number
  totalIterations: number
  seed: number
  /** Wall time spent training before this checkpoint (seconds), over all sessions. */
  elapsedSeconds: number
  bestMetric: number | null
  bestIteration: number | null
  /** The settings the run started with; a resume with other settings is refused. */
  settings: Record<string, unknown>
}

export async function saveCheckpoint(path: string, model: Module, optimizer: Optimizer, state: LoopState): Promise<void> {
  const tensors = new Map<string, Tensor>()
  for (const [name, t] of model.stateDict()) tensors.set(`model.${name}`, t)
  for (const [name, t] of optimizer.stateTensors()) tensors.set(`optimizer.${name}`, t)
  // saveSafetensors writes a temporary file and renames it
  await saveSafetensors(path, tensors, { nodal_loop_state: JSON.stringify(state), optimizer_steps: String(optimizer.stepCount) })
}

export async function loadCheckpoint(path: string, model: Module, optimizer: Optimizer | null): Promise<LoopState> {
  if (!existsSync(path)) throw new NodalError('not-found', `${path}: no checkpoint to resume from`)
  const { tensors, metadata } = await loadSafetensors(path)
  try {
    const weights = new Map<string, Tensor>()
    const optimizerState = new Map<string, Tensor>()
    for (const [name, t] of tensors) {
      if (name.startsWith('model.')) weights.set(name.slice(6), t)
      else if (name.startsWith('optimizer.')) optimizerState.set(name.slice(10), t)
    }
    model.loadStateDict(weights)
    if (optimizer) {
      optimizer.loadStateTensors(optimizerState)
      optimizer.stepCount = Number(metadata.optimizer_steps ?? 0)
    }
  } finally {
    for (const t of tensors.values()) t.dispose()
  }
  if (!metadata.nodal_loop_state) throw new NodalError('bad-checkpoint', `${path}: not a nodal training checkpoint`)
  return JSON.parse(metadata.nodal_loop_state) as LoopState
}

/** Just the weights of a checkpoint (for export or prediction with libtorch). */
export async function loadCheckpointWeights(path: string, model: Module): Promise<LoopState> {
  return loadCheckpoint(path, model, null)
}
