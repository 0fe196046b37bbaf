/** Store operations performed by one server process, cumulative since start. */
export interface Counters {
  reads: number
  writes: number
  deletes: number
}

export function newCounters(): Counters {
  return { reads: 0, writes: 0, deletes: 0 }
}
