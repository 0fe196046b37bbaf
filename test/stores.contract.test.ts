import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { newCounters } from '../servers/counters.ts'
import { openDatabase } from '../servers/db.ts'
import { openStore } from '../servers/stores/index.ts'
import { STORES, type StateStore, type StoreKind } from '../servers/types.ts'
import { sharedStoreUrl, uniquePrefix } from './helpers.ts'

async function open(t: TestContext, kind: StoreKind): Promise<StateStore> {
  const database = openDatabase()
  const store = await openStore(kind, {
    db: database.db,
    counters: newCounters(),
    url: await sharedStoreUrl(kind),
    keyPrefix: uniquePrefix(),
  })
  t.after(async () => {
    await store.close()
    database.close()
  })
  return store
}

const ops = (s: StateStore) => [s.counters.reads, s.counters.writes, s.counters.deletes]
const NOW = Date.UTC(2026, 10, 1)

/** The [reads, writes, deletes] one call counts, and its result. */
async function counted<T>(store: StateStore, call: () => T | Promise<T>): Promise<[T, number[]]> {
  const before = ops(store)
  const result = await call()
  return [result, ops(store).map((n, i) => n - before[i]!)]
}

// Every store in the servers' registry: a new one is covered by adding it there.
for (const kind of STORES) {
  describe(`${kind} store`, () => {
    test('sessions: create, read, touch, delete, each counted once', async (t) => {
      const store = await open(t, kind)
      const session = { id: 's'.repeat(43), userId: 7, username: 'user7', createdAt: NOW, lastSeenAt: NOW }
      assert.deepEqual(await counted(store, () => store.getSession(session.id)), [null, [1, 0, 0]])
      assert.deepEqual(await counted(store, () => store.createSession(session, 60_000)), [undefined, [0, 1, 0]])
      assert.deepEqual(await counted(store, () => store.getSession(session.id)), [session, [1, 0, 0]])
      assert.deepEqual(await counted(store, () => store.touchSession({ ...session, lastSeenAt: NOW + 5000 }, 60_000)), [
        undefined,
        [0, 1, 0],
      ])
      assert.deepEqual(await store.getSession(session.id), { ...session, lastSeenAt: NOW + 5000 })
      assert.deepEqual(await counted(store, () => store.deleteSession(session.id)), [undefined, [0, 0, 1]])
      assert.equal(await store.getSession(session.id), null)
      assert.deepEqual(ops(store), [4, 2, 1])
    })

    test('refresh tokens: consumed once (one write), then reused; unknown and expired ones', async (t) => {
      const store = await open(t, kind)
      const exp = Date.now() + 60_000
      // A failed consume costs SQLite a second statement (which row, and was it used?); the others answer in one.
      const failed = kind === 'sqlite' ? [1, 1, 0] : [0, 1, 0]
      assert.deepEqual(await counted(store, () => store.putRefresh('jti-1', 'fam-1', exp)), [true, [0, 1, 0]])
      assert.deepEqual(await counted(store, () => store.consumeRefresh('jti-1', 'fam-1', Date.now(), 0)), ['ok', [0, 1, 0]])
      assert.deepEqual(await counted(store, () => store.consumeRefresh('jti-1', 'fam-1', Date.now(), 0)), ['reused', failed])
      assert.deepEqual(await counted(store, () => store.consumeRefresh('jti-x', 'fam-1', Date.now(), 0)), ['unknown', failed])
      if (!kind.startsWith('redis')) {
        // Redis expires keys by its own clock; the others compare against the caller's.
        await store.putRefresh('jti-old', 'fam-1', NOW)
        assert.equal(await store.consumeRefresh('jti-old', 'fam-1', NOW + 1, 0), 'unknown')
      }
    })

    test('grace window: a used token presented again within it is "grace" (first use kept), after it "reused"', async (t) => {
      const store = await open(t, kind)
      const now = Date.now()
      await store.putRefresh('g1', 'fam-g', now + 60_000)
      assert.equal(await store.consumeRefresh('g1', 'fam-g', now, 2000), 'ok')
      // SQLite reads the row to tell why the update changed nothing; Redis puts the first use's time back.
      const graced = kind === 'sqlite' ? [1, 1, 0] : kind.startsWith('redis') ? [0, 2, 0] : [0, 1, 0]
      assert.deepEqual(await counted(store, () => store.consumeRefresh('g1', 'fam-g', now + 1500, 2000)), ['grace', graced])
      assert.equal(await store.consumeRefresh('g1', 'fam-g', now + 2000, 2000), 'grace')
      // Presentations inside the window do not slide it: 2001 ms after the first use is reuse.
      assert.equal(await store.consumeRefresh('g1', 'fam-g', now + 2001, 2000), 'reused')
      assert.equal(await store.consumeRefresh('g1', 'fam-g', now + 100, 0), 'reused')
    })

    test('revoking a family (one delete) makes each of its tokens unknown and leaves others alone', async (t) => {
      const store = await open(t, kind)
      const exp = Date.now() + 60_000
      await store.putRefresh('a1', 'fam-a', exp)
      await store.putRefresh('a2', 'fam-a', exp)
      await store.putRefresh('b1', 'fam-b', exp)
      assert.deepEqual(await counted(store, () => store.revokeFamily('fam-a')), [undefined, [0, 0, 1]])
      assert.equal(await store.consumeRefresh('a1', 'fam-a', Date.now(), 0), 'unknown')
      assert.equal(await store.consumeRefresh('a2', 'fam-a', Date.now(), 0), 'unknown')
      assert.equal(await store.consumeRefresh('b1', 'fam-b', Date.now(), 0), 'ok')
    })

    test('denylist: one write to deny, one read per check, denied until its expiry', async (t) => {
      const store = await open(t, kind)
      const exp = Date.now() + 60_000
      assert.deepEqual(await counted(store, () => store.isDenied('j1', Date.now())), [false, [1, 0, 0]])
      assert.deepEqual(await counted(store, () => store.deny('j1', exp)), [undefined, [0, 1, 0]])
      assert.deepEqual(await counted(store, () => store.isDenied('j1', Date.now())), [true, [1, 0, 0]])
      assert.deepEqual(await counted(store, () => store.isDenied('j2', Date.now())), [false, [1, 0, 0]])
      if (!kind.startsWith('redis')) assert.equal(await store.isDenied('j1', exp), false)
    })
  })
}
