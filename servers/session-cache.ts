import type { SessionRecord } from './types.ts'

/** `--session-cache N --session-cache-ttl S`: an in-process LRU of N sessions in front of the store, each entry served S seconds. */
export interface SessionCacheConfig {
  entries: number
  ttlSeconds: number
}

interface Entry {
  record: SessionRecord
  /** When the store read that filled it started: the entry never serves state older than the TTL. */
  readAt: number
}

/**
 * The sessions this process read lately, least recently used first (a Map keeps insertion order, so a
 * hit is moved to the end by deleting and setting it again). An entry is served until `ttlMs` after
 * the read that filled it, however often it is hit: it is never renewed from the store, so a session
 * deleted elsewhere (a logout on another instance) keeps working here for up to `ttlMs`.
 */
export class SessionCache {
  readonly #entries = new Map<string, Entry>()
  readonly #max: number
  readonly #ttlMs: number
  /** Bumped by every eviction, so a read that was under way during one does not put back what was evicted. */
  generation = 0

  constructor({ entries, ttlSeconds }: SessionCacheConfig) {
    this.#max = entries
    this.#ttlMs = ttlSeconds * 1000
  }

  get size(): number {
    return this.#entries.size
  }

  /** The cached record while it is younger than the TTL (then the most recently used); null otherwise. */
  get(id: string, now: number): SessionRecord | null {
    const entry = this.#entries.get(id)
    if (entry === undefined) return null
    this.#entries.delete(id)
    if (now - entry.readAt >= this.#ttlMs) return null
    this.#entries.set(id, entry)
    return entry.record
  }

  /** Fills an entry from a store read that started at `readAt`, unless an eviction happened since `generation` was read. */
  fill(id: string, record: SessionRecord, readAt: number, generation: number): void {
    if (generation !== this.generation) return
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!)
    this.#entries.set(id, { record, readAt })
  }

  evict(id: string): void {
    this.generation++
    this.#entries.delete(id)
  }
}
