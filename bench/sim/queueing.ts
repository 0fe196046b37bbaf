// Queueing formulas the fleet model is built from (docs/architecture.md, "The fleet model").
// Pure functions; times in µs, rates per µs unless a name says otherwise.
import * as hdr from 'hdr-histogram-js'
import { newHistogram } from '../../common/histogram.ts'

/** A distribution given as equally likely points, sorted ascending (its quantile function sampled at (i + 0.5) / n). */
export type Points = Float64Array

/** Measured quantiles of a time, µs, as results.json holds them. */
export interface MeasuredQuantiles {
  p50: number
  p90: number
  p99: number
  max: number
  mean?: number
}

/**
 * Equally likely points whose quantiles are the measured ones: the quantile function is taken as
 * linear between (0.5, p50), (0.9, p90), (0.99, p99) and (1, max), and from (0, lo) to the median,
 * lo chosen so that the points' mean is the measured mean where one is given (clamped to [0, p50]);
 * without a mean, lo = p50 (nothing below the median is known).
 */
export function pointsFromQuantiles(q: MeasuredQuantiles, n = 1000): Points {
  const { p50, p90, p99, max } = q
  const upper = (0.4 * (p50 + p90)) / 2 + (0.09 * (p90 + p99)) / 2 + (0.01 * (p99 + max)) / 2
  const lo = q.mean === undefined ? p50 : Math.min(p50, Math.max(0, 4 * (q.mean - upper) - p50))
  const knots: [number, number][] = [
    [0, lo],
    [0.5, p50],
    [0.9, p90],
    [0.99, p99],
    [1, max],
  ]
  const out = new Float64Array(n)
  let k = 0
  for (let i = 0; i < n; i++) {
    const u = (i + 0.5) / n
    while (u > knots[k + 1]![0]) k++
    const [u0, v0] = knots[k]!
    const [u1, v1] = knots[k + 1]!
    out[i] = v0 + ((v1 - v0) * (u - u0)) / (u1 - u0)
  }
  // Medians over rounds taken quantile by quantile need not be in order (a p99 above the max): sorted, it is a distribution again.
  return out.sort()
}

export function moments(p: Points): { mean: number; m2: number; scv: number } {
  let s = 0
  let s2 = 0
  for (const x of p) {
    s += x
    s2 += x * x
  }
  const mean = s / p.length
  const m2 = s2 / p.length
  return { mean, m2, scv: mean > 0 ? (m2 - mean * mean) / (mean * mean) : 0 }
}

/** The points scaled so that their mean is `mean` (the shape kept). */
export function scaledTo(p: Points, mean: number): Points {
  const m = moments(p).mean
  return m > 0 ? p.map((x) => (x * mean) / m) : p.map(() => mean)
}

export function quantileOf(p: Points, q: number): number {
  return p[Math.min(p.length - 1, Math.max(0, Math.ceil(q * p.length) - 1))]!
}

/** M/M/1, arrival rate λ, service rate μ (λ < μ): exact. */
export const mm1 = {
  meanWait: (lambda: number, mu: number) => lambda / mu / (mu - lambda),
  meanSojourn: (lambda: number, mu: number) => 1 / (mu - lambda),
  /** The sojourn time is exponential with rate μ - λ. */
  sojournQuantile: (lambda: number, mu: number, q: number) => -Math.log(1 - q) / (mu - lambda),
}

/** M/D/1, arrival rate λ, service time d (λd < 1): exact. */
export const md1 = {
  meanWait: (lambda: number, d: number) => (lambda * d * d) / (2 * (1 - lambda * d)),
  /** Erlang's formula: P(W <= t) = (1 - ρ) Σ_{k=0}^{⌊t/d⌋} (λ(kd - t))^k / k! e^{-λ(kd - t)}. Exact; loses precision past some 30 service times. */
  waitCdf: (lambda: number, d: number, t: number) => {
    const rho = lambda * d
    let sum = 0
    for (let k = 0; k <= Math.floor(t / d + 1e-12); k++) {
      const x = lambda * (k * d - t)
      let term = Math.exp(-x)
      for (let j = 1; j <= k; j++) term *= x / j
      sum += term
    }
    return (1 - rho) * sum
  },
}

/** M/G/1, arrival rate λ, service time moments: Pollaczek-Khinchine, exact for the mean. */
export function mg1MeanWait(lambda: number, s: { mean: number; m2: number }): number {
  const rho = lambda * s.mean
  return rho >= 1 ? Infinity : (lambda * s.m2) / (2 * (1 - rho))
}

/**
 * A queue's waiting time as the model takes it: zero with probability 1 - ρ (exact for any M/G/1),
 * else exponential with the mean that makes the whole mean Pollaczek-Khinchine's (exact for M/M/1,
 * an approximation otherwise: it has the right mean and the right share of requests that wait).
 */
export interface Wait {
  rho: number
  meanWait: number
}

export function mg1Wait(lambda: number, s: { mean: number; m2: number }): Wait {
  return { rho: Math.min(1, lambda * s.mean), meanWait: mg1MeanWait(lambda, s) }
}

/** P(W1 + W2 + ... <= t) for up to two independent waits (atom at zero plus exponential). */
export function waitCdf(waits: Wait[], t: number): number {
  if (t < 0) return 0
  const parts = waits.filter((w) => w.rho > 0 && w.meanWait > 0)
  if (parts.some((w) => !Number.isFinite(w.meanWait) || w.rho >= 1)) return 0
  if (parts.length === 0) return 1
  if (parts.length > 2) throw new RangeError('waitCdf: at most two queues')
  const exp = (w: Wait, x: number) => 1 - Math.exp((-x * w.rho) / w.meanWait)
  if (parts.length === 1) {
    const w = parts[0]!
    return 1 - w.rho + w.rho * exp(w, t)
  }
  const [a, b] = parts as [Wait, Wait]
  const ra = a.rho / a.meanWait
  const rb = b.rho / b.meanWait
  const both =
    Math.abs(ra - rb) < 1e-12 * Math.max(ra, rb)
      ? 1 - Math.exp(-ra * t) * (1 + ra * t)
      : 1 - (rb * Math.exp(-ra * t) - ra * Math.exp(-rb * t)) / (rb - ra)
  return (1 - a.rho) * (1 - b.rho) + (1 - a.rho) * b.rho * exp(b, t) + a.rho * (1 - b.rho) * exp(a, t) + a.rho * b.rho * both
}

/** The q-quantile of X + W: X given as equally likely points (a measured delay), W the queues' waits, independent. */
export function quantileWithWaits(points: Points, waits: Wait[], q: number): number {
  if (waits.some((w) => w.rho >= 1 || !Number.isFinite(w.meanWait))) return Infinity
  // At most 250 points (every k-th of a sorted sample keeps its quantiles to 1/250).
  const step = Math.ceil(points.length / 250)
  const base = step === 1 ? points : points.filter((_, i) => i % step === Math.floor(step / 2))
  const cdf = (t: number) => {
    let s = 0
    for (const x of base) s += waitCdf(waits, t - x)
    return s / base.length
  }
  let lo = base[0]!
  let hi = base[base.length - 1]! + waits.reduce((s, w) => s + (w.meanWait / Math.max(w.rho, 1e-12)) * 50, 1)
  for (let i = 0; i < 48; i++) {
    const mid = (lo + hi) / 2
    if (cdf(mid) >= q) hi = mid
    else lo = mid
  }
  return hi
}

/** One station of a network of queues: `servers` identical servers, `demandUs` of work per request at it. */
export interface Station {
  name: string
  servers: number
  demandUs: number
}

/** The bottleneck law: the highest rate (per second) the stations allow, and the station that sets it. */
export function bottleneck<T extends Station>(stations: T[]): { maxRps: number; at: T } {
  let best: { maxRps: number; at: T } | null = null
  for (const s of stations) {
    const maxRps = s.demandUs > 0 ? (s.servers * 1e6) / s.demandUs : Infinity
    if (!best || maxRps < best.maxRps) best = { maxRps, at: s }
  }
  if (!best) throw new RangeError('bottleneck: no station')
  return best
}

/**
 * A recorded distribution (an HdrHistogram, compressed base64, as results.json keeps it; several
 * merged) as `n` equally likely points: its quantile function at (i + 0.5) / n, so a sample drawn
 * from the points is a sample of what was measured, its rare values at their measured frequency.
 */
export function pointsFromHistograms(encoded: string[], n = 2000): Points | null {
  const merged = newHistogram()
  for (const e of encoded) merged.add(hdr.decodeFromCompressedBase64(e))
  if (merged.totalCount === 0) return null
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = merged.getValueAtPercentile(((i + 0.5) / n) * 100)
  return out.sort()
}
