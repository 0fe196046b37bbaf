import { SERVER_DEFAULTS } from '../server-defaults.ts'
import type { StrategyDescriptor } from './descriptor.ts'

/** A stateless session sealed in an encrypted, authenticated cookie: no store read, no revocation. */
export const cookieStrategy: StrategyDescriptor = {
  kind: 'cookie',
  // The sealed cookie's lifetime is its idle timeout (re-sealed by use, never refreshed).
  axes: { accessTtlSeconds: SERVER_DEFAULTS.sessionIdleTtlSeconds },
  idParts: (c) => (c.accessTtlSeconds !== SERVER_DEFAULTS.sessionIdleTtlSeconds ? [`ttl${c.accessTtlSeconds}s`] : []),
  state: 'client',
  identifyReads: () => 0,
  loginWrites: 0,
  renews: false,
  refreshes: false,
  anonymousStatus: 401,
  describeCredential: (c) => ({
    kind: 'cookie',
    header: 'cookie',
    bytes: Buffer.byteLength(c.headers.cookie!),
    clientReadable: false,
    decoded: null,
  }),
  // A copy keeps working until the sealed idle or absolute deadline, which only the server checks.
  lifetimeSeconds: () => null,
  breakdown: () => [{ label: 'cookie parsing and unsealing (@fastify/secure-session)', task: 'unseal:cookie' }],
  label: {
    family: 'sealed cookies',
    cell: () => 'a sealed-cookie session',
    column: () => 'cookie (sealed, no store)',
    stateLives: () => "in the cookie, sealed (encrypted and authenticated) with the server's key; no store",
    clientReads: () => "no: encrypted; only the server's key opens it",
    copyLives: (c) =>
      `right after it, and by its configured deadlines until ${c.accessTtlSeconds ?? SERVER_DEFAULTS.sessionIdleTtlSeconds} s after ` +
      `its last re-seal (idle) and, kept in use, ${SERVER_DEFAULTS.sessionAbsoluteTtlSeconds} s after login (absolute): only the sealed ` +
      `timestamps end it (not waited out)`,
  },
  colorName: 'green',
  colors: ['#27ae60', '#58d68d', '#1e8449', '#82e0aa'],
}
