/**
 * One primitive to time. `fn` performs `batch` operations per call (tiny operations are repeated
 * so the timer's own cost does not dominate); setup happens before, outside the timed region.
 */
export interface MicroTask {
  /** Stable key the cost breakdown looks up, e.g. `verify:HS256:jose`, `store-read:sqlite`. */
  id: string
  name: string
  group: 'jwt-verify' | 'jwt-sign' | 'floor' | 'jose-key' | 'session' | 'cookie' | 'store' | 'parsing'
  batch: number
  fn: () => unknown
}

let sink = 0
/** Runs a synchronous operation `n` times per call, keeping its results alive so none is optimized away. */
export function repeat(n: number, op: () => unknown): () => number {
  return () => {
    for (let i = 0; i < n; i++) if (op()) sink++
    return sink
  }
}

