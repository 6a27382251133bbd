/**
 * Seeded pseudo-random numbers (mulberry32), so the same seed gives the same phantom bit for bit.
 * Math.random is never used in src/phantom.
 */
export class Rng {
  private state: number
  private spareNormal: number | null = null

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A generator for one case of a dataset, independent of how many numbers other cases drew. */
  static forCase(seed: number, caseIndex: number, stream = 0): Rng {
    return new Rng(hash32(hash32(seed) ^ hash32(caseIndex * 0x9e3779b1 + stream)))
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  uniform(lo: number, hi: number): number { return lo + (hi - lo) * this.next() }
  int(lo: number, hiInclusive: number): number { return lo + Math.floor(this.next() * (hiInclusive - lo + 1)) }
  chance(p: number): boolean { return this.next() < p }
  pick<T>(items: readonly T[]): T { return items[Math.floor(this.next() * items.length)] }
  sign(): number { return this.next() < 0.5 ? -1 : 1 }

  /** Standard normal (Marsaglia polar method, one spare kept). */
  normal(): number {
    if (this.spareNormal !== null) {
      const s = this.spareNormal
      this.spareNormal = null
      return s
    }
    let u: number, v: number, s: number
    do {
      u = 2 * this.next() - 1
      v = 2 * this.next() - 1
      s = u * u + v * v
    } while (s >= 1 || s === 0)
    const f = Math.sqrt((-2 * Math.log(s)) / s)
    this.spareNormal = v * f
    return u * f
  }

  gauss(mean: number, sd: number): number { return mean + sd * this.normal() }

  /** A random unit vector, uniform on the sphere. */
  direction(): [number, number, number] {
    const z = this.uniform(-1, 1), phi = this.uniform(0, 2 * Math.PI), r = Math.sqrt(1 - z * z)
    return [r * Math.cos(phi), r * Math.sin(phi), z]
  }
}

function hash32(x: number): number {
  x = Math.imul((x >>> 16) ^ x, 0x45d9f3b) >>> 0
  x = Math.imul((x >>> 16) ^ x, 0x45d9f3b) >>> 0
  return ((x >>> 16) ^ x) >>> 0
}
