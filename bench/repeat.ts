let sink = 0
/** Runs a synchronous operation `n` times per call, keeping its results alive so none is optimized away. */
export function repeat(n: number, op: () => unknown): () => number {
  return () => {
    for (let i = 0; i < n; i++) if (op()) sink++
    return sink
  }
}
