import { newCounters } from '../../servers/counters.ts'
import { newSessionId } from '../../servers/credentials.ts'
import { openDatabase } from '../../servers/db.ts'
import { seedUsers, Users } from '../../servers/users.ts'
import type { StoreKind } from '../../common/kinds.ts'
import type { MicroTask } from '../contracts/results.ts'
import { storeProvisioners } from '../stores/run/index.ts'
import type { MicroSessions } from '../stores/run/provisioner.ts'
import { strategyRunners } from '../strategies/run/index.ts'

export interface MicroContext {
  tasks: MicroTask[]
  /** Tasks that could not be set up, with the reason (e.g. no redis-server). */
  skipped: { id: string; name: string; group: MicroTask['group']; reason: string }[]
  close(): Promise<void>
}

/** How many sessions the store holds while being read, so lookups hit a realistically sized index. */
const STORED_SESSIONS = 100_000

/**
 * Builds every task of the micro-benchmarks: each strategy's and each store's own (a store reached
 * at an address needs its URL in `urls`). A store that is absent, or whose tasks cannot be set up,
 * has its tasks skipped with the reason.
 */
export async function buildTasks(options: {
  /** Addresses of the stores whose tasks need one (the micro-benchmarks' own, or the user's). */
  urls: Partial<Record<StoreKind, string>>
  /** Why a store absent from `urls` could not be had (its cells' skip reason); absent: the store's own "not installed". */
  unavailable?: Partial<Record<StoreKind, string>>
  sessions?: number
}): Promise<MicroContext> {
  const tasks: MicroTask[] = []
  const skipped: MicroContext['skipped'] = []
  const closers: (() => unknown)[] = []
  // Each strategy's own primitives (signature checks, cookie unsealing, ...).
  for (const d of Object.values(strategyRunners)) {
    if (!d.micro) continue
    const own = await d.micro()
    tasks.push(...own.tasks)
    closers.push(() => own.close())
  }

  // Each store holds the same sessions; reads pick ids at random.
  const count = options.sessions ?? STORED_SESSIONS
  const ids = Array.from({ length: count }, newSessionId)
  const t0 = Date.now()
  const sessions: MicroSessions = {
    ids,
    record: (i) => ({ id: ids[i]!, userId: i + 1, username: `user${i + 1}`, createdAt: t0, lastSeenAt: t0 }),
    pick: () => ids[(Math.random() * count) | 0]!,
  }
  for (const p of Object.values(storeProvisioners)) {
    if (!p.micro) continue
    const url = options.urls[p.kind] ?? null
    let reason = p.address && !url ? (options.unavailable?.[p.kind] ?? p.micro.notInstalled ?? `no ${p.kind} store`) : null
    if (!reason) {
      try {
        tasks.push(...(await p.micro.tasks(url, sessions, closers)))
      } catch (err) {
        reason = `could not set up the ${p.kind} tasks${url ? ` on ${url}` : ''}: ${(err as Error).message}`
      }
    }
    if (reason) for (const [id, name] of p.micro.listed) skipped.push({ id, name, group: 'store', reason })
  }

  // The users table, which every cell reads on /profile whatever its store (users always live in the server's SQLite file).
  const database = openDatabase()
  closers.push(() => database.close())
  await seedUsers(database.db, 1000, 4)
  const users = new Users(database.db, newCounters(), 4)
  tasks.push({
    id: 'user-read:sqlite',
    name: 'user record read, SQLite (1,000 users)',
    group: 'store',
    batch: 1,
    fn: () => users.getProfile(1 + ((Math.random() * 1000) | 0)),
  })

  return {
    tasks,
    skipped,
    async close() {
      for (const c of closers.reverse()) await c()
    },
  }
}
