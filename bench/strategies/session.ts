import { DEFAULT_CONFIG } from '../../servers/server.ts'
import { newSessionId, readCookie, SESSION_COOKIE } from '../../servers/credentials.ts'
import { repeat } from '../micro/task.ts'
import type { StrategyDescriptor } from './index.ts'
import { cookieLifecycle, cookieLogin } from './login.ts'

/** Opaque server-side sessions: a random id in a cookie, the state in the cell's store. */
export const sessionStrategy: StrategyDescriptor = {
  kind: 'session',
  axes: { store: 'sqlite', storeRttMs: 0 },
  idParts: (c) => [c.store!, ...(c.storeRttMs ? [`rtt${c.storeRttMs}ms`] : [])],
  state: 'server',
  identifyReads: () => 1,
  loginWrites: 1,
  renews: true,
  refreshes: false,
  anonymousStatus: 401,
  serverArgs: () => [],
  sharedKeyArgs: () => [],
  cookieName: SESSION_COOKIE,
  login: (url, user) => cookieLogin(url, user, SESSION_COOKIE),
  lifecycle: cookieLifecycle(SESSION_COOKIE),
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
  async micro() {
    const cookieHeader = `theme=dark; _ga=GA1.2.1234567890.1700000000; ${SESSION_COOKIE}=${newSessionId()}; lang=en`
    return {
      tasks: [
        {
          id: 'session-id',
          name: 'session id generation (32 random bytes, base64url)',
          group: 'session',
          batch: 10,
          fn: repeat(10, newSessionId),
        },
        {
          id: 'parse:cookie',
          name: 'cookie parsing (sid among 4 cookies)',
          group: 'parsing',
          batch: 100,
          fn: repeat(100, () => readCookie(cookieHeader, SESSION_COOKIE)),
        },
      ],
      close: async () => {},
    }
  },
  label: {
    family: 'sessions',
    cell: (c) => `a ${c.store} session${c.storeRttMs ? ` ${c.storeRttMs} ms away` : ''}`,
    column: (c) => `session (${c.store})`,
    stateLives: (c) => `server side, in ${c.store}; the client holds only an id`,
    clientReads: () => 'no: a random 256-bit id, nothing inside',
    copyLives: (c) => `until the session times out server-side (idle ${c.accessTtlSeconds ?? DEFAULT_CONFIG.sessionIdleTtlSeconds} s)`,
  },
  colorName: 'blue',
  colors: ['#1f77b4', '#4f9fd6', '#17507f', '#7fbce6', '#0d3a5c', '#a9d2f0'],
}
