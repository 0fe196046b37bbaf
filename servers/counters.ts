/** Reads, writes and deletes: of one table, or summed over a process's tables. */
export interface OpCounts {
  reads: number
  writes: number
  deletes: number
}

/** The tables (key spaces, for Redis) a store operation touches; the label `table` of the metrics. */
export const TABLES = ['sessions', 'refresh_tokens', 'denylist', 'users'] as const

const ops = (): OpCounts => ({ reads: 0, writes: 0, deletes: 0 })

/**
 * Store operations performed by one server process, cumulative since start, by table. A store
 * method counts one increment on its table; the totals are summed when read (a snapshot or a
 * scrape), never on the request's path.
 */
export class Counters implements OpCounts {
  readonly sessions = ops()
  readonly refresh_tokens = ops()
  readonly denylist = ops()
  readonly users = ops()

  #sum(k: keyof OpCounts): number {
    return this.sessions[k] + this.refresh_tokens[k] + this.denylist[k] + this.users[k]
  }

  get reads(): number {
    return this.#sum('reads')
  }
  get writes(): number {
    return this.#sum('writes')
  }
  get deletes(): number {
    return this.#sum('deletes')
  }

  /** The totals as a plain object (a spread of the counters would copy the tables, not the sums). */
  totals(): OpCounts {
    return { reads: this.reads, writes: this.writes, deletes: this.deletes }
  }
}

export function newCounters(): Counters {
  return new Counters()
}
