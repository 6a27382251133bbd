/**
 * Aggregation of per-case values. Nulls (undefined metrics, see each metric's empty-mask rule) are
 * skipped; `n` says how many cases a statistic rests on. No value at all → null statistics.
 */

export interface Summary {
  mean: number | null
  median: number | null
  /** Population standard deviation (ddof = 0, numpy's default). */
  std: number | null
  n: number
}

export function mean(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null)
  return v.length ? v.reduce((s, x) => s + x, 0) / v.length : null
}

export function median(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b)
  if (!v.length) return null
  const mid = v.length >> 1
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

export function std(values: (number | null)[]): number | null {
  const m = mean(values)
  if (m === null) return null
  const v = values.filter((x): x is number => x !== null)
  return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length)
}

export function summarize(values: (number | null)[]): Summary {
  return { mean: mean(values), median: median(values), std: std(values), n: values.filter((x) => x !== null).length }
}

/** Per-case volumes in mm³ that aggregated Dice needs. */
export interface DiceVolumes {
  tpMm3: number
  predMm3: number
  gtMm3: number
}

/**
 * Aggregated Dice (DSC_agg) over all cases: 2·Σ TP / Σ (|pred| + |gt|), each term a physical volume
 * in mm³, so a case weighs by the volume of its structures, not by its voxel count.
 * Reference: Andrearczyk et al., HECKTOR 2021 (LNCS 13209, 2022); HNTS-MRG 2024.
 * Empty cases: all masks empty in every case → 1 (agreement on absence), as per-case Dice.
 */
export function aggregatedDice(cases: DiceVolumes[]): number {
  let tp = 0, sizes = 0
  for (const c of cases) {
    tp += c.tpMm3
    sizes += c.predMm3 + c.gtMm3
  }
  return sizes > 0 ? (2 * tp) / sizes : 1
}
