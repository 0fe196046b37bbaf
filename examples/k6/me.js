// GET /me at a fixed arrival rate, each virtual user logged in once: the credential a team's clients
// hold (a session cookie or a bearer token, whichever the server gives), then one GET /me per
// iteration with it. k6's constant-arrival-rate executor starts RATE iterations a second, whatever
// the answers' time, so the offered rate is RATE (k6's summary says whether it was held).
//
//   AUTHBENCH_URL=http://10.0.0.10:3000 RATE=500 DURATION=5m USERS=1000 k6 run examples/k6/me.js
//
// One base URL per k6 process: run one per server or per balancer.
import { check, fail } from 'k6'
import http from 'k6/http'
import { credentialOf, loginBody } from './credential.js'

const BASE = __ENV.AUTHBENCH_URL || 'http://127.0.0.1:3000'
const RATE = Number(__ENV.RATE || 500)
/** The server's users (its --users, default 1000): each virtual user logs in as one of them, at random. */
const USERS = Number(__ENV.USERS || 1000)

export const options = {
  scenarios: {
    me: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: __ENV.DURATION || '1m',
      // Enough virtual users that an answer of 100 ms still holds the rate; each logs in once.
      preAllocatedVUs: Math.max(10, Math.ceil(RATE / 10)),
      maxVUs: Math.max(50, RATE),
    },
  },
  thresholds: { checks: ['rate==1'] },
}

// Module scope is each virtual user's own: the login happens on its first iteration only.
let headers = null

export default function () {
  if (headers === null) {
    const user = 1 + Math.floor(Math.random() * USERS)
    // A jar of its own for the login: the cookie goes in the header below, as any client sends it, never twice.
    const jar = new http.CookieJar()
    const res = http.post(`${BASE}/login`, loginBody(user), { headers: { 'content-type': 'application/json' }, jar })
    headers = credentialOf(res.status, res.headers['Set-Cookie'], res.body)
    if (headers === null) fail(`login of user${user} at ${BASE}: status ${res.status}`)
  }
  const res = http.get(`${BASE}/me`, { headers })
  check(res, { 'GET /me 200': (r) => r.status === 200 })
}
