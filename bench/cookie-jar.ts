/**
 * What a browser does with the cookies it sends when an answer carries `Set-Cookie` (RFC 6265,
 * reduced to what a load client needs: one origin, one path, names and values). Every driver
 * applies it to the virtual client that got the answer, so a server that renews by `Set-Cookie`
 * (a re-sealed cookie, a rotated session id) is measured with the cookie a real client would send.
 */

/** One `Set-Cookie` line: the cookie's name, and its new value or null when the server removes it. */
export function parseSetCookie(line: string): { name: string; value: string | null } | null {
  const semi = line.indexOf(';')
  const pair = semi === -1 ? line : line.slice(0, semi)
  const eq = pair.indexOf('=')
  if (eq <= 0) return null
  const name = pair.slice(0, eq).trim()
  const value = pair.slice(eq + 1).trim()
  const attrs = semi === -1 ? '' : line.slice(semi + 1)
  const maxAge = /(?:^|;)\s*max-age\s*=\s*(-?\d+)/i.exec(attrs)?.[1]
  const expires = /(?:^|;)\s*expires\s*=\s*([^;]+)/i.exec(attrs)?.[1]
  const gone =
    value === '' ||
    (maxAge !== undefined && Number(maxAge) <= 0) ||
    (maxAge === undefined && expires !== undefined && Date.parse(expires) <= Date.now())
  return { name, value: gone ? null : value }
}

/**
 * The `Cookie` header a client sends after it stored `setCookie` (the lines of one answer, in
 * order): a cookie set replaces the one of that name or joins the others, a removed one leaves.
 * Returns the header unchanged (the same string) when nothing in it changed; undefined when no
 * cookie is left.
 */
export function applySetCookie(cookie: string | undefined, setCookie: readonly string[]): string | undefined {
  if (setCookie.length === 0) return cookie
  const jar = new Map<string, string>()
  for (const part of (cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  let changed = false
  for (const line of setCookie) {
    const c = parseSetCookie(line)
    if (!c) continue
    if (c.value === null) changed = jar.delete(c.name) || changed
    else if (jar.get(c.name) !== c.value) {
      jar.set(c.name, c.value)
      changed = true
    }
  }
  if (!changed) return cookie
  if (jar.size === 0) return undefined
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
}

/**
 * Applies an answer's `Set-Cookie` lines to a request's headers in place; true when the cookie
 * changed (the caller rebuilds the bytes it sends).
 */
export function keepCookies(headers: Record<string, string>, setCookie: readonly string[] | string | undefined): boolean {
  if (setCookie === undefined) return false
  const lines = typeof setCookie === 'string' ? [setCookie] : setCookie
  const next = applySetCookie(headers.cookie, lines)
  if (next === headers.cookie) return false
  if (next === undefined) delete headers.cookie
  else headers.cookie = next
  return true
}
