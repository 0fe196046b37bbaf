import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { newCounters } from '../servers/counters.ts'
import { openDatabase } from '../servers/db.ts'
import { stores } from '../servers/stores/index.ts'
import type { StateStore, StoreKind } from '../servers/types.ts'
import { sharedRedis, uniquePrefix } from './helpers.ts'

async function open(t: TestContext, kind: StoreKind): Promise<StateStore> {
  const database = openDatabase()
  const redisUrl = kind === 'redis' ? (await sharedRedis()).url : undefined
  const store = await stores[kind]({ db: database.db, counters: newCounters(), redisUrl, keyPrefix: uniquePrefix() })
  t.after(async () => {
    await store.close()
    database.close()
  })
  return store
}

const ops = (s: StateStore) => [s.counters.reads, s.counters.writes, s.counters.deletes]
const NOW = Date.UTC(2026, 10, 1)

for (const kind of ['sqlite', 'redis', 'memory'] as const) {
  describe(`${kind} store`, () => {
    test('sessions: create, read, touch, delete, each counted once', async (t) => {
      const store = await open(t, kind)
      const session = { id: 's'.repeat(43), userId: 7, username: 'user7', createdAt: NOW, lastSeenAt: NOW }
      assert.equal(await store.getSession(session.id), null)
      await store.createSession(session, 60_000)
      assert.deepEqual(await store.getSession(session.id), session)
      await store.touchSession({ ...session, lastSeenAt: NOW + 5000 }, 60_000)
      assert.deepEqual(await store.getSession(session.id), { ...session, lastSeenAt: NOW + 5000 })
      await store.deleteSession(session.id)
      assert.equal(await store.getSession(session.id), null)
      assert.deepEqual(ops(store), [4, 2, 1])
    })

    test('refresh tokens: consumed once, then reused; unknown and expired ones', async (t) => {
      const store = await open(t, kind)
      const exp = Date.now() + 60_000
      await store.putRefresh('jti-1', 'fam-1', exp)
      assert.equal(await store.consumeRefresh('jti-1', Date.now()), 'ok')
      assert.equal(await store.consumeRefresh('jti-1', Date.now()), 'reused')
      assert.equal(await store.consumeRefresh('jti-x', Date.now()), 'unknown')
      if (kind !== 'redis') {
        // Redis expires keys by its own clock; the others compare against the caller's.
        await store.putRefresh('jti-old', 'fam-1', NOW)
        assert.equal(await store.consumeRefresh('jti-old', NOW + 1), 'unknown')
      }
    })

    test('revoking a family makes each of its tokens unknown and leaves others alone', async (t) => {
      const store = await open(t, kind)
      const exp = Date.now() + 60_000
      await store.putRefresh('a1', 'fam-a', exp)
      await store.putRefresh('a2', 'fam-a', exp)
      await store.putRefresh('b1', 'fam-b', exp)
      const before = store.counters.deletes
      await store.revokeFamily('fam-a')
      assert.equal(store.counters.deletes - before, 1)
      assert.equal(await store.consumeRefresh('a1', Date.now()), 'unknown')
      assert.equal(await store.consumeRefresh('a2', Date.now()), 'unknown')
      assert.equal(await store.consumeRefresh('b1', Date.now()), 'ok')
    })

    test('denylist: denied until its expiry, one read per check', async (t) => {
      const store = await open(t, kind)
      const exp = Date.now() + 60_000
      assert.equal(await store.isDenied('j1', Date.now()), false)
      await store.deny('j1', exp)
      assert.equal(await store.isDenied('j1', Date.now()), true)
      assert.equal(await store.isDenied('j2', Date.now()), false)
      if (kind !== 'redis') assert.equal(await store.isDenied('j1', exp), false)
      assert.equal(store.counters.writes, 1)
    })
  })
}
