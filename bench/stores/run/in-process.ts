import { newCounters } from '../../../servers/counters.ts'
import { openDatabase } from '../../../servers/db.ts'
import { openStore } from '../../../servers/stores/index.ts'
import type { StoreKind } from '../../../common/kinds.ts'
import { repeat } from '../../repeat.ts'
import type { StoreProvisioner } from './provisioner.ts'

/**
 * A store inside each server's process (SQLite's file, process memory): nothing to start, count
 * from outside, fault or stop. Its micro task reads sessions through the servers' own store:
 * `batch` reads a timed call (a read far under a microsecond is timed ten at a time), named `name`.
 */
export const inProcessProvisioner = (kind: StoreKind, micro: { name: string; batch: number }): StoreProvisioner => ({
  kind,
  provision: async () => ({
    description: null,
    serverArgs: [],
    counts: async () => null,
    cpuUs: async () => null,
    faults: null,
    stop: async () => {},
  }),
  micro: {
    listed: [[`store-read:${kind}`, `session read, ${micro.name}`]],
    async tasks(_url, { ids, record, pick }, closers) {
      const database = openDatabase()
      closers.push(() => database.close())
      const store = await openStore(kind, { db: database.db, counters: newCounters() })
      closers.push(() => store.close())
      // One transaction for the whole seeding (a store in the server's SQLite file writes there).
      database.db.transaction(() => {
        for (let i = 0; i < ids.length; i++) void store.createSession(record(i), 3_600_000)
      })()
      return [
        {
          id: `store-read:${kind}`,
          name: `session read, ${micro.name} (${ids.length.toLocaleString('en-US')} sessions)`,
          group: 'store',
          batch: micro.batch,
          fn: micro.batch === 1 ? () => store.getSession(pick()) : repeat(micro.batch, () => store.getSession(pick())),
        },
      ]
    },
  },
})
