/** Pure statistics over per-round figures. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

function binomialCdf(k: number, n: number): number {
  // P(X <= k) for X ~ Binomial(n, 1/2)
  let sum = 0
  let c = 1
  for (let i = 0; i <= k; i++) {
    sum += c
    c = (c * (n - i)) / (i + 1)
  }
  return sum / 2 ** n
}

/** How many order statistics to leave out on each side for an interval of the median missing it with at most `alpha`. */
function excluded(n: number, alpha: number): number {
  let k = 0
  while (k + 1 <= n && binomialCdf(k, n) <= alpha / 2) k++
  return Math.max(0, k - 1)
}

/**
 * A distribution-free interval for the median from order statistics: the widest k with
 * P(Binomial(n, 1/2) < k) <= alpha/2 gives [x(k), x(n-k+1)]. With too few values for any such k
 * the interval is the range, whose coverage is lower (75% for 3 rounds, 94% for 5); the report says so.
 */
export function medianInterval(values: readonly number[], alpha: number): [number, number] {
  const n = values.length
  if (n === 0) return [Number.NaN, Number.NaN]
  const s = [...values].sort((a, b) => a - b)
  const lo = excluded(n, alpha)
  return [s[lo]!, s[n - 1 - lo]!]
}

/** The 95% interval (`medianInterval` with alpha 0.05). */
export const medianCi95 = (values: readonly number[]): [number, number] => medianInterval(values, 0.05)

/**
 * The coverage of medianInterval's interval for n values: the probability that the true median lies
 * between the chosen order statistics (1 - 2^(1-n) when the interval is the range, e.g. 75% for 3).
 */
export function medianIntervalCoverage(n: number, alpha = 0.05): number {
  if (n === 0) return 0
  const lo = excluded(n, alpha)
  return lo === 0 ? 1 - 2 ** (1 - n) : 1 - 2 * binomialCdf(lo - 1, n)
}

export function ratio(a: number, b: number): number | null {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : null
}

/** A small seeded PRNG (mulberry32): the same seed gives the same cell orders on any machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A shuffled copy (Fisher-Yates) drawing from `random`. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
