// What a client holds, sends and gets back: the credential a strategy issues, the request a
// driver sends, and the lifecycle client a strategy's descriptor supplies.

/** What a client holds after logging in: the headers it sends, and the raw credential. */
export interface Credential {
  headers: Record<string, string>
  raw: string | null
}

/** What a client holds and sends, from a real credential issued during verification. */
export interface CredentialInfo {
  kind: 'none' | 'cookie' | 'bearer'
  /** The header carrying it, e.g. `cookie` or `authorization`. */
  header: string | null
  /** The header value's length in bytes. */
  bytes: number
  /** Whether the client can read anything from it without the server. */
  clientReadable: boolean
  /** Decoded JWT header and claims; null for opaque session ids. */
  decoded: { header: Record<string, unknown>; claims: Record<string, unknown> } | null
}

export interface LoadRequest {
  method: 'GET' | 'POST'
  path: string
  headers: Record<string, string>
  body?: string
  /**
   * The virtual client keeps what answers set (`Set-Cookie`), as a browser does. Default true;
   * false for a client that stands for a new visitor each time (the login workload: a user who
   * holds a session does not log in again).
   */
  keepCookies?: boolean
}

/** One HTTP answer, as the lifecycle needs it. */
export interface Answer {
  /** 0 when the request failed without an answer. */
  status: number
  setCookie: string[]
  body: string
}

/** A user's credential, opaque to the driver. */
export interface Held {
  headers: Record<string, string>
  access?: string
  refresh?: string
  /** The access token's `exp` in ms, when it has one. */
  expMs?: number
}

/** How a strategy's client logs in, presents, refreshes and ends its credential. */
export interface LifecycleClient {
  /** Headers a login sends besides its body's (a library session behind a TLS-terminating proxy: `x-forwarded-proto`); absent: none. */
  loginHeaders?: Record<string, string>
  /** What a user holds after this login answer, or null when the login failed. */
  fromLogin(a: Answer): Held | null
  /** Headers a request presents. */
  headers(h: Held): Record<string, string>
  /** What the user holds after an answer to one of its requests (a re-sealed cookie), or the same. */
  update?(h: Held, a: Answer): Held
  /** When the access token expires (ms since the epoch), for strategies that refresh; else null. */
  expiresAt(h: Held): number | null
  /** The refresh request's body, for strategies that refresh. */
  refreshBody?(h: Held): string
  /** The logout request. */
  logout(h: Held): { headers: Record<string, string>; body?: string }
}
