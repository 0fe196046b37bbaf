import { VerificationError } from '../../contracts/errors.ts'
import { parseSetCookie } from '../../cookie-jar.ts'
import type { Answer, Credential, Held, LifecycleClient } from '../../contracts/client.ts'

export const loginBody = (user: number) => JSON.stringify({ username: `user${user}`, password: `pw-user${user}` })

export function postLogin(url: string, user: number, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/login`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: loginBody(user) })
}

/** Logs in and keeps the cookie `name` the server sets (204 expected); `headers` go with the login and every later request. */
export async function cookieLogin(url: string, user: number, name: string, headers: Record<string, string> = {}): Promise<Credential> {
  const res = await postLogin(url, user, headers)
  await res.arrayBuffer()
  const value = new RegExp(`^${name.replaceAll('.', '\\.')}=([^;]+)`).exec(res.headers.get('set-cookie') ?? '')?.[1]
  if (res.status !== 204 || !value) throw new VerificationError(`login of user${user} at ${url}: status ${res.status}, no ${name} cookie`)
  return { headers: { ...headers, cookie: `${name}=${value}` }, raw: value }
}

/** The value of cookie `name` among Set-Cookie headers, or null (also when the server clears it). */
function setCookieValue(setCookie: string[], name: string): string | null {
  for (const line of setCookie) {
    const c = parseSetCookie(line)
    if (c?.name === name) return c.value
  }
  return null
}

/**
 * A lifecycle client for a credential carried in cookie `name`: logged in by the cookie the login
 * sets, kept up to date when a response re-seals it, never refreshed, logged out by presenting it.
 */
export function cookieLifecycle(name: string, headers: Record<string, string> = {}): LifecycleClient {
  const held = (value: string): Held => ({ headers: { ...headers, cookie: `${name}=${value}` } })
  return {
    ...(Object.keys(headers).length ? { loginHeaders: headers } : {}),
    fromLogin: (a: Answer) => {
      const value = setCookieValue(a.setCookie, name)
      return value === null ? null : held(value)
    },
    headers: (h) => h.headers,
    update: (h, a) => {
      const value = setCookieValue(a.setCookie, name)
      return value === null ? h : held(value)
    },
    expiresAt: () => null,
    logout: (h) => ({ headers: h.headers }),
  }
}
