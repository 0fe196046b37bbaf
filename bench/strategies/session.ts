import { DEFAULT_STORE } from '../../common/kinds.ts'
import { SERVER_DEFAULTS } from '../server-defaults.ts'
import type { StrategyDescriptor } from './descriptor.ts'

/** Opaque server-side sessions: a random id in a cookie, the state in the cell's store. */
export const sessionStrategy: StrategyDescriptor = {
  kind: 'session',
  axes: { store: DEFAULT_STORE, storeRttMs: 0 },
  idParts: (c) => [c.store!, ...(c.storeRttMs ? [`rtt${c.storeRttMs}ms`] : [])],
  state: 'server',
  identifyReads: () => 1,
  loginWrites: 1,
  renews: true,
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
    cell: (c) => `a ${c.store} session${c.storeRttMs ? ` ${c.storeRttMs} ms away` : ''}`,
    column: (c) => `session (${c.store})`,
    stateLives: (c) => `server side, in ${c.store}; the client holds only an id`,
    clientReads: () => 'no: a random 256-bit id, nothing inside',
    copyLives: (c) =>
      `until the session times out server-side (its configured idle timeout, ${c.accessTtlSeconds ?? SERVER_DEFAULTS.sessionIdleTtlSeconds} s)`,
  },
  colorName: 'blue',
  colors: ['#1f77b4', '#4f9fd6', '#17507f', '#7fbce6', '#0d3a5c', '#a9d2f0'],
}
