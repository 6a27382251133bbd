/**
 * Exact Euclidean distance transform (Felzenszwalb & Huttenlocher 2012, "Distance Transforms of Sampled
 * Functions", Theory of Computing): the 1-D lower envelope of parabolas applied along each axis in turn,
 * with voxel spacing, over typed arrays with precomputed strides.
 */

/** Squared distance transform of one line f of n samples at spacing h, written to out (v, z: work arrays). */
function transformLine(f: Float64Array, n: number, h: number, out: Float64Array, v: Int32Array, z: Float64Array): void {
  let first = 0
  while (first < n && f[first] === Infinity) first++
  if (first === n) {
    out.fill(Infinity, 0, n)
    return
  }
  // Where the parabolas rooted at p and q (heights f) intersect, in physical units.
  const meet = (q: number, p: number) => (f[q]! + (q * h) ** 2 - f[p]! - (p * h) ** 2) / (2 * h * (q - p))
  let k = 0
  v[0] = first
  z[0] = -Infinity
  z[1] = Infinity
  for (let q = first + 1; q < n; q++) {
    if (f[q] === Infinity) continue
    let s = meet(q, v[k]!)
    while (s <= z[k]!) s = meet(q, v[--k]!)
    k++
    v[k] = q
    z[k] = s
    z[k + 1] = Infinity
  }
  k = 0
  for (let q = 0; q < n; q++) {
    while (z[k + 1]! < q * h) k++
    const p = v[k]!
    out[q] = ((q - p) * h) ** 2 + f[p]!
  }
}

/**
 * Euclidean distance from every voxel to the nearest voxel where `inside` is true (0 there), in the units
 * of `spacing`. Infinity everywhere when no voxel is inside.
 */
export function distanceTo(inside: Uint8Array, shape: number[], spacing: number[] = shape.map(() => 1)): Float64Array {
  const total = inside.length
  const squared = new Float64Array(total)
  for (let i = 0; i < total; i++) squared[i] = inside[i] ? 0 : Infinity
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((x, y) => x * y, 1))
  const longest = Math.max(...shape)
  const line = new Float64Array(longest)
  const out = new Float64Array(longest)
  const v = new Int32Array(longest)
  const z = new Float64Array(longest + 1)
  shape.forEach((n, axis) => {
    const stride = strides[axis]!
    for (let start = 0; start < total; start++) {
      if (Math.floor(start / stride) % n !== 0) continue // visit each line once, from its first voxel
      for (let i = 0; i < n; i++) line[i] = squared[start + i * stride]!
      transformLine(line, n, spacing[axis]!, out, v, z)
      for (let i = 0; i < n; i++) squared[start + i * stride] = out[i]!
    }
  })
  for (let i = 0; i < total; i++) squared[i] = Math.sqrt(squared[i]!)
  return squared
}

/**
 * Signed distance map of a binary mask as Kervadec et al. compute it: outside the object the distance to it
 * (> 0), inside minus (distance to the background − 1) (≤ 0). An empty or full mask gives 0 everywhere.
 */
export function signedDistance(mask: Uint8Array, shape: number[], spacing?: number[]): Float32Array {
  const out = new Float32Array(mask.length)
  let count = 0
  for (const m of mask) count += m
  if (count === 0 || count === mask.length) return out
  const background = mask.map((m) => 1 - m)
  const toObject = distanceTo(mask, shape, spacing)
  const toBackground = distanceTo(background, shape, spacing)
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] ? 1 - toBackground[i]! : toObject[i]!
  return out
}
