import { DEFAULT_KEY_FORM, DEFAULT_STORE } from '../../common/kinds.ts'
import type { CellSpec } from '../contracts/plan.ts'
import { SERVER_DEFAULTS } from '../server-defaults.ts'
import type { StrategyDescriptor } from './descriptor.ts'

/** A JWT's base64url part, decoded (the client can: the claims are not encrypted). */
export const decodePart = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>

/** The JWT library as ids name it: its name, then its key form where that is an axis (jsonwebtoken). */
export const engineParts = (c: Pick<CellSpec, 'engine' | 'keyForm'>): string[] => [c.engine!, ...(c.keyForm ? [c.keyForm] : [])]

const KEY_FORM_LABELS = { string: 'a string key', keyobject: 'a KeyObject' } as const

/** The verified-token cache as ids name it (`cache1000`), nothing when it is off or the engine has none. */
const cacheParts = (c: Pick<CellSpec, 'verifyCache'>): string[] => (c.verifyCache ? [`cache${c.verifyCache}`] : [])

/** What the cell label and the breakdown add for the library's handling of the key and its cache. */
const engineNotes = (c: Pick<CellSpec, 'keyForm' | 'verifyCache'>): string[] => [
  ...(c.keyForm ? [KEY_FORM_LABELS[c.keyForm]] : []),
  ...(c.verifyCache ? [`a ${c.verifyCache}-entry verify cache`] : []),
]

/** Signed access tokens (identity from the token alone), rotated refresh tokens in the cell's store. */
export const jwtStrategy: StrategyDescriptor = {
  kind: 'jwt',
  axes: {
    store: DEFAULT_STORE,
    alg: 'HS256',
    engine: 'jose',
    keyForm: DEFAULT_KEY_FORM,
    verifyCache: 0,
    revocation: 'none',
    accessTtlSeconds: SERVER_DEFAULTS.accessTtlSeconds,
    refreshGraceSeconds: 0,
    refreshJitterSeconds: 0,
    storeRttMs: 0,
  },
  idParts: (c) => [
    c.alg!,
    ...engineParts(c),
    ...cacheParts(c),
    c.store!,
    ...(c.revocation === 'denylist' ? ['denylist'] : []),
    ...(c.accessTtlSeconds !== SERVER_DEFAULTS.accessTtlSeconds ? [`ttl${c.accessTtlSeconds}s`] : []),
    ...(c.refreshGraceSeconds ? [`grace${c.refreshGraceSeconds}s`] : []),
    ...(c.refreshJitterSeconds ? [`jitter${c.refreshJitterSeconds}s`] : []),
    ...(c.storeRttMs ? [`rtt${c.storeRttMs}ms`] : []),
  ],
  // fast-jwt's cache skips the signature and claims, not the denylist read that follows it (servers/strategies/jwt.ts).
  instanceCache: (c) =>
    c.verifyCache && c.revocation === 'denylist'
      ? { name: `a ${c.verifyCache}-entry verify cache`, keepsSeconds: 0, why: 'the denylist is read after the cached verify' }
      : null,
  state: 'client',
  identifyReads: (c) => (c.revocation === 'denylist' ? 1 : 0),
  loginWrites: 1,
  renews: false,
  refreshes: true,
  anonymousStatus: 401,
  describeCredential(c) {
    const [header, payload] = c.raw!.split('.')
    return {
      kind: 'bearer',
      header: 'authorization',
      bytes: Buffer.byteLength(c.headers.authorization!),
      clientReadable: true,
      decoded: { header: decodePart(header!), claims: decodePart(payload!) },
    }
  },
  lifetimeSeconds(info) {
    const exp = info.decoded?.claims.exp
    return typeof exp === 'number' ? Math.max(0, exp - Math.floor(Date.now() / 1000)) : null
  },
  breakdown: (c) => [
    { label: 'bearer extraction', task: 'parse:bearer' },
    // A client presents the same token until it expires, so with the cache on a verify is a cache hit.
    {
      label: `verify ${c.alg} (${[c.engine, ...engineNotes(c)].join(', ')})${c.verifyCache ? ', from the cache' : ''}`,
      task: `verify:${c.alg}:${engineParts(c).join(':')}${c.verifyCache ? ':cached' : ''}`,
    },
    ...(c.revocation === 'denylist' ? [{ label: `denylist read (${c.store})`, task: `store-read:${c.store}` }] : []),
  ],
  // jose verifies through WebCrypto, whose work runs on libuv's thread pool.
  awaits: (c) => (c.engine === 'jose' ? 'the thread pool (WebCrypto)' : null),
  label: {
    family: 'JWTs',
    cell: (c) =>
      `JWT ${c.alg} with ${c.engine}${engineNotes(c).length ? ` (${engineNotes(c).join(', ')})` : ''}` +
      `${c.revocation === 'denylist' ? ` with a ${c.store} denylist` : ''}`,
    column: (c) => `jwt (${c.store})`,
    stateLives: (c) => `in the token (signed claims); refresh-token state in ${c.store}`,
    copyLives: (c, seconds) =>
      `right after it, and its exp claim allows up to ${seconds ?? c.accessTtlSeconds ?? SERVER_DEFAULTS.accessTtlSeconds} s more ` +
      `(the access token's configured remaining lifetime, not waited out)`,
    clientReads: (info) =>
      info.decoded
        ? `yes, without any key: ${Object.keys(info.decoded.claims).join(', ')} (decoded from a real token)`
        : 'not measured in this run',
  },
  colorName: 'orange',
  colors: ['#e6780e', '#f39c3d', '#b35900', '#f7b56b', '#8a4500', '#fad09c', '#cc6a0c', '#5e2f00'],
}
