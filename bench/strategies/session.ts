import { DEFAULT_STORE } from '../../common/kinds.ts'
import { libraryOps } from './session-libraries.ts'
import { SERVER_DEFAULTS } from '../server-defaults.ts'
import type { CellSpec } from '../contracts/plan.ts'
import type { StrategyDescriptor } from './descriptor.ts'

const libraryName = (c: CellSpec) =>
  `${c.sessionLibrary === 'fastify-session' ? '@fastify/session' : c.sessionLibrary} (${c.preset === 'defaults' ? 'its defaults' : 'tuned'})`

/** Opaque server-side sessions: a random id in a cookie, the state in the cell's store. */
export const sessionStrategy: StrategyDescriptor = {
  kind: 'session',
  axes: { store: DEFAULT_STORE, storeRttMs: 0 },
  cachesSessions: true,
  instanceCache: (c) =>
    c.sessionCache
      ? {
          name: `a ${c.sessionCache.entries}-entry session cache`,
          keepsSeconds: c.sessionCache.ttlSeconds,
          why: 'an entry is served until its TTL from the read that filled it; a logout evicts on its own instance only',
        }
      : null,
  // A library session names its library before the store and its preset after: session-express-session-redis-defaults;
  // a cache names its entries and TTL: `scache1000-t5s` beside a JWT cell's `cache1000`.
  idParts: (c) => [
    ...(c.sessionLibrary ? [c.sessionLibrary] : []),
    c.store!,
    ...(c.sessionLibrary ? [c.preset!] : []),
    ...(c.storeRttMs ? [`rtt${c.storeRttMs}ms`] : []),
    ...(c.sessionCache ? [`scache${c.sessionCache.entries}-t${c.sessionCache.ttlSeconds}s`] : []),
  ],
  state: 'server',
  identifyReads: () => 1,
  loginWrites: 1,
  renews: true,
  libraryOps: (c) => (c.sessionLibrary ? libraryOps(c.sessionLibrary, c.preset!, c.store!) : null),
  refreshes: false,
  anonymousStatus: 401,
  describeCredential: (c) => ({
    kind: 'cookie',
    header: 'cookie',
    bytes: Buffer.byteLength(c.headers.cookie!),
    clientReadable: false,
    decoded: null,
  }),
  lifetimeSeconds: () => null,
  breakdown: (c) => [
    { label: 'cookie parsing', task: 'parse:cookie' },
    { label: `session read (${c.store})`, task: `store-read:${c.store}` },
  ],
  label: {
    family: 'sessions',
    cell: (c) =>
      `a ${c.store} session${c.sessionLibrary ? ` in ${libraryName(c)}` : ''}${c.storeRttMs ? ` ${c.storeRttMs} ms away` : ''}` +
      `${c.sessionCache ? ` (a ${c.sessionCache.entries}-entry, ${c.sessionCache.ttlSeconds} s session cache)` : ''}`,
    column: (c) => `session (${c.sessionLibrary ? `${libraryName(c)}, ` : ''}${c.store})`,
    stateLives: (c) => `server side, in ${c.store}; the client holds only an id`,
    clientReads: () => 'no: a random 256-bit id, nothing inside',
    copyLives: (c) =>
      c.sessionCache
        ? `on an instance that had it cached, until that entry expired (its ${c.sessionCache.ttlSeconds} s cache TTL)`
        : `until the session times out server-side (its configured idle timeout, ${c.accessTtlSeconds ?? SERVER_DEFAULTS.sessionIdleTtlSeconds} s)`,
  },
  colorName: 'blue',
  colors: ['#1f77b4', '#4f9fd6', '#17507f', '#7fbce6', '#0d3a5c', '#a9d2f0'],
}
