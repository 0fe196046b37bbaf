// What an authbench server's POST /login gives, as the header a client sends with every later request:
// the session strategy answers 204 with a `sid` cookie, the JWT strategy 200 with a bearer access token.
// Plain JavaScript with no imports, so k6 (me.js) and Node (test/load-examples.test.ts) run the same code.

/** The login request for user N of the server's users (user1 ... userN, each with password pw-userN). */
export function loginBody(user) {
  return JSON.stringify({ username: `user${user}`, password: `pw-user${user}` })
}

/**
 * The headers that carry the credential a login answer gave, or null when it gave none.
 * `status` the answer's status, `setCookie` its Set-Cookie header (the first `name=value` is the session's), `body` its text.
 */
export function credentialOf(status, setCookie, body) {
  if (status === 204 && setCookie) {
    const pair = /^\s*([^=;\s]+)=([^;]*)/.exec(setCookie)
    return pair ? { cookie: `${pair[1]}=${pair[2]}` } : null
  }
  if (status === 200 && body) {
    const token = JSON.parse(body).access_token
    return typeof token === 'string' ? { authorization: `Bearer ${token}` } : null
  }
  return null
}
