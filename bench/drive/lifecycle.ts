import { Agent, request as httpRequest } from 'node:http'
import type { Histogram } from 'hdr-histogram-js'
import { newHistogram } from '../../servers/metrics.ts'
import { seededRandom } from '../stats.ts'
import { loginBody } from '../strategies/login.ts'
import type { Answer, Held, LifecycleClient } from '../contracts/client.ts'
import type { LatencySummary, LifecycleResult, TimelineBucket } from '../contracts/results.ts'

/**
 * Virtual users over a whole credential lifetime, open loop: each logs in, calls GET `path` on its
 * own schedule whatever the server does (latency counted from the due time), refreshes its access
 * token when it is due (a margin before `exp`, minus a random jitter), and some log out. After a
 * logout a thief keeps presenting a copy of the logged-out credential until it is refused: the
 * revocation lag, measured. Everything runs in real time on a millisecond timer.
 */

export interface LifecycleOptions {
  /** http://host:port of each instance; user u uses urls[u mod n] throughout. */
  urls: string[]
  client: LifecycleClient
  /** `/me` or `/profile`. */
  path: string
  users: number
  requestsPerUserPerSecond: number
  /** Measured seconds. */
  durationSeconds: number
  logoutsPerSecond: number
  /** Seconds before `exp` a refresh is due. */
  refreshMarginSeconds: number
  /** Up to this many seconds more, uniformly at random per refresh, so refreshes do not bunch. */
  refreshJitterSeconds: number
  /** Share of refreshes two tabs of one user send at the same moment with the same refresh token. */
  concurrentRefreshShare: number
  /**
   * Log every user in at once at the start of the measured window (a mass login, a deploy, a clock
   * step: their tokens then expire together); otherwise logins are spread over the warm-up so
   * the measured window is in steady state.
   */
  synchronized: boolean
  /** Seconds over which the warm-up spreads the logins (about one refresh interval). */
  warmupSeconds: number
  /** How often a thief presents a logged-out credential again. */
  probeIntervalMs: number
  /** After the measured window, thieves keep probing at most this long (longer lags are censored). */
  drainSeconds: number
  seed?: number
  signal?: AbortSignal
  /** Called (awaited, while the load goes on) when the measured window starts and when it ends. */
  onWindow?(edge: 'start' | 'end'): Promise<void>
}

export const BUCKET_MS = 100
/** A 100 ms bucket with this many times the window's mean refresh rate is a refresh storm. */
export const STORM_FACTOR = 5
const MAX_SEND_LAG_P99_US = 10_000
const BACKOFF_START_MS = 100
const BACKOFF_MAX_MS = 2000

type Phase = 'out' | 'in' | 'logging-in' | 'logging-out'

interface User {
  index: number
  url: string
  phase: Phase
  held: Held | null
  /** Bumped at every login, so timers and answers of an earlier credential are ignored. */
  generation: number
  refreshing: boolean
  backoffMs: number
  /** The refresh under way is a retry after a 503. */
  retrying: boolean
}

/** A min-heap of timed callbacks; `onEarlier` is told when an item goes before every other. */
class Agenda {
  private items: { at: number; seq: number; run: () => void }[] = []
  private seq = 0
  onEarlier: (at: number) => void = () => {}
  get size(): number { return this.items.length }
  peek(): number { return this.items[0]?.at ?? Infinity }
  add(at: number, run: () => void): void {
    const items = this.items
    if (at < this.peek()) this.onEarlier(at)
    items.push({ at, seq: this.seq++, run })
    for (let i = items.length - 1; i > 0;) {
      const parent = (i - 1) >> 1
      if (this.less(parent, i)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }
  pop(): { at: number; run: () => void } {
    const items = this.items
    const top = items[0]!
    const last = items.pop()!
    if (items.length > 0) {
      items[0] = last
      for (let i = 0; ;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < items.length && this.less(l, m)) m = l
        if (r < items.length && this.less(r, m)) m = r
        if (m === i) break
        ;[items[i], items[m]] = [items[m]!, items[i]!]
        i = m
      }
    }
    return top
  }
  private less(a: number, b: number): boolean {
    const x = this.items[a]!
    const y = this.items[b]!
    return x.at < y.at || (x.at === y.at && x.seq < y.seq)
  }
}

function summary(h: Histogram): LatencySummary {
  return h.totalCount === 0
    ? { p50: 0, p90: 0, p99: 0, max: 0, count: 0 }
    : { p50: h.getValueAtPercentile(50), p90: h.getValueAtPercentile(90), p99: h.getValueAtPercentile(99), max: h.maxValue, count: h.totalCount }
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** Runs the lifecycle workload and resolves when the measured window and the thieves' drain are over. */
export async function runLifecycle(o: LifecycleOptions): Promise<LifecycleResult> {
  const random = seededRandom(o.seed ?? 1)
  const agents = new Map(o.urls.map((u) => [u, new Agent({ keepAlive: true, maxSockets: 256 })]))
  const epochOffset = Date.now() - performance.now()
  const now = () => performance.now()

  /** One request; resolves with the answer (status 0 on a transport failure) and its send time. */
  const send = (url: string, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string) =>
    new Promise<Answer & { sentAt: number }>((resolve) => {
      const sentAt = now()
      const target = new URL(path, url)
      const req = httpRequest(target, {
        method, agent: agents.get(url)!, timeout: 10_000,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) },
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const sc = res.headers['set-cookie']
          resolve({ status: res.statusCode ?? 0, setCookie: sc ?? [], body: Buffer.concat(chunks).toString('utf8'), sentAt })
        })
        res.on('error', () => resolve({ status: 0, setCookie: [], body: '', sentAt }))
      })
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', () => resolve({ status: 0, setCookie: [], body: '', sentAt }))
      req.end(body)
    })

  const agenda = new Agenda()
  const warmupMs = o.synchronized ? 0 : o.warmupSeconds * 1000
  const t0 = now() + 20
  const windowStart = t0 + warmupMs
  const windowEnd = windowStart + o.durationSeconds * 1000
  const drainEnd = windowEnd + o.drainSeconds * 1000
  const inWindow = (t: number) => t >= windowStart && t < windowEnd

  const requestLatency = newHistogram()
  const refreshLatency = newHistogram()
  const sendLag = newHistogram()
  const buckets: (TimelineBucket & { h: Histogram })[] = Array.from({ length: Math.ceil(o.durationSeconds * 1000 / BUCKET_MS) }, (_, i) => ({
    tMs: i * BUCKET_MS, requests: 0, ok: 0, status401: 0, status503: 0, status5xx: 0, errors: 0, refreshes: 0, logins: 0, forcedLogins: 0,
    latencyUsP50: 0, latencyUsP99: 0, h: newHistogram(),
  }))
  const bucketOf = (t: number) => (inWindow(t) ? buckets[Math.floor((t - windowStart) / BUCKET_MS)] : undefined)
  const dueTimes: { due: number; latencyUs: number }[] = []

  const r = {
    requests: 0, completed: 0, statusCounts: {} as Record<string, number>, unexpected401: 0, status503: 0, errors: 0,
    logins: 0, forcedLogins: 0, refreshes: 0, refreshFailures: { invalidGrant: 0, invalidGrantAfterUnavailable: 0, unavailable: 0, errors: 0 }, logouts: 0,
    races: { attempted: 0, familyRevoked: 0 }, probes: 0,
  }
  const forcedUsers = new Set<number>()
  /** When the last of the users' first logins was answered (a mass login keeps the servers busy until then). */
  let firstLoginsDoneAt = 0
  const lags: number[] = []
  /** Thieves still presenting a logged-out credential that has not been refused yet. */
  let thieves = 0
  let outstanding = 0
  let stopped = false

  const users: User[] = Array.from({ length: o.users }, (_, index) => ({
    index, url: o.urls[index % o.urls.length]!, phase: 'out', held: null, generation: 0, refreshing: false, backoffMs: BACKOFF_START_MS, retrying: false,
  }))
  const interval = 1000 / o.requestsPerUserPerSecond

  let wake: () => void = () => {}
  const track = <T>(p: Promise<T>): Promise<T> => {
    outstanding++
    return p.finally(() => {
      outstanding--
      // After the window, the last answer may be what the run was waiting for.
      if (outstanding === 0) wake()
    })
  }

  // --- logins ---
  const login = (u: User, forced: boolean, due: number) => {
    if (u.phase === 'logging-in' || stopped || due >= windowEnd) return
    u.phase = 'logging-in'
    u.generation++
    u.refreshing = false
    if (inWindow(due)) {
      r.logins++
      if (forced) {
        r.forcedLogins++
        forcedUsers.add(u.index)
      }
      const b = bucketOf(due)
      if (b) {
        b.logins++
        if (forced) b.forcedLogins++
      }
    }
    void track(send(u.url, 'POST', '/login', {}, loginBody(u.index + 1))).then((a) => {
      const held = a.status === 200 || a.status === 204 ? o.client.fromLogin(a) : null
      if (!held) {
        // The store or the server could not log the user in: try again after a back-off.
        u.phase = 'out'
        agenda.add(now() + u.backoffMs, () => login(u, forced, now()))
        u.backoffMs = Math.min(BACKOFF_MAX_MS, u.backoffMs * 2)
        return
      }
      u.backoffMs = BACKOFF_START_MS
      u.held = held
      u.phase = 'in'
      if (!forced && due <= windowStart) firstLoginsDoneAt = Math.max(firstLoginsDoneAt, now())
      scheduleRefresh(u)
    })
  }

  // --- the users' GETs, each on its own fixed schedule (open loop) ---
  const get = (u: User, due: number) => {
    if (stopped) return
    const next = due + interval
    if (next < windowEnd) agenda.add(next, () => get(u, next))
    if (u.phase !== 'in') return
    const held = u.held!
    const generation = u.generation
    const counted = inWindow(due)
    if (counted) r.requests++
    const started = now()
    sendLag.recordValue(Math.max(0, Math.round((started - due) * 1000)))
    void track(send(u.url, 'GET', o.path, o.client.headers(held))).then((a) => {
      const latencyUs = Math.max(1, Math.round((now() - due) * 1000))
      if (counted) {
        const b = bucketOf(due)!
        b.requests++
        if (a.status === 0) {
          r.errors++
          b.errors++
        } else {
          r.completed++
          r.statusCounts[a.status] = (r.statusCounts[a.status] ?? 0) + 1
          requestLatency.recordValue(latencyUs)
          b.h.recordValue(latencyUs)
          dueTimes.push({ due, latencyUs })
          if (a.status >= 200 && a.status < 300) b.ok++
          if (a.status === 401) b.status401++
          if (a.status === 503) { r.status503++; b.status503++ } else if (a.status >= 500) b.status5xx++
        }
      }
      if (generation !== u.generation || u.phase !== 'in') return
      if (a.status === 200 && o.client.update) u.held = o.client.update(u.held!, a)
      if (a.status === 401) {
        if (counted) r.unexpected401++
        // Sent with a token the user has since replaced (it expired in flight): nothing more to do.
        if (held !== u.held && o.client.refreshBody) return
        if (o.client.refreshBody && !u.refreshing) refresh(u, now())
        else if (!o.client.refreshBody) login(u, true, now())
      }
    })
  }

  // --- refreshes ---
  const scheduleRefresh = (u: User) => {
    const exp = o.client.expiresAt(u.held!)
    if (exp === null || !o.client.refreshBody) return
    const generation = u.generation
    const at = exp - epochOffset - o.refreshMarginSeconds * 1000 - random() * o.refreshJitterSeconds * 1000
    agenda.add(Math.max(now(), at), () => {
      if (u.generation === generation && u.phase === 'in' && !u.refreshing) refresh(u, Math.max(now(), at))
    })
  }

  const refresh = (u: User, due: number) => {
    if (stopped || due >= windowEnd) return
    u.refreshing = true
    const generation = u.generation
    const held = u.held!
    const counted = inWindow(due)
    if (counted) {
      r.refreshes++
      const b = bucketOf(due)
      if (b) b.refreshes++
    }
    const race = random() < o.concurrentRefreshShare
    const one = () => track(send(u.url, 'POST', '/refresh', {}, o.client.refreshBody!(held)))
    const sent = race ? [one(), one()] : [one()]
    if (race && counted) r.races.attempted++
    void Promise.all(sent).then((answers) => {
      const latencyUs = Math.max(1, Math.round((now() - due) * 1000))
      if (counted) refreshLatency.recordValue(latencyUs)
      if (generation !== u.generation || u.phase !== 'in') return
      u.refreshing = false
      const ok = answers.filter((a) => a.status === 200)
      const refused = answers.some((a) => a.status === 400)
      if (refused) {
        // invalid_grant: the family is revoked (reuse detected, here by the user's own other tab). Log in again.
        if (counted) {
          r.refreshFailures.invalidGrant++
          if (u.retrying) r.refreshFailures.invalidGrantAfterUnavailable++
          if (race) r.races.familyRevoked++
        }
        u.retrying = false
        login(u, true, now())
        return
      }
      if (ok.length > 0) {
        const next = o.client.fromLogin(ok[ok.length - 1]!)
        if (next) {
          u.held = next
          u.retrying = false
          u.backoffMs = BACKOFF_START_MS
          scheduleRefresh(u)
          return
        }
      }
      // 503 (store down) or no answer: not a revocation; retry after a back-off while the access token lasts.
      if (counted) {
        if (answers.some((a) => a.status === 503)) r.refreshFailures.unavailable++
        else r.refreshFailures.errors++
      }
      u.refreshing = true
      u.retrying = true
      agenda.add(now() + u.backoffMs, () => {
        if (u.generation === generation && u.phase === 'in') refresh(u, now())
      })
      u.backoffMs = Math.min(BACKOFF_MAX_MS, u.backoffMs * 2)
    })
  }

  // --- logouts, and the thief who kept a copy ---
  /** Users who have logged out in this window: a fresh login's young token would skew the lags. */
  const loggedOut = new Set<number>()
  const logout = (due: number) => {
    if (stopped) return
    // A user who is logged in, not mid-refresh and not yet logged out in this window, chosen at random (bounded tries).
    let u: User | undefined
    const fresh = loggedOut.size < users.length / 2
    for (let tries = 0; tries < 50 && !u; tries++) {
      const c = users[Math.floor(random() * users.length)]!
      if (c.phase === 'in' && !c.refreshing && !(fresh && loggedOut.has(c.index))) u = c
    }
    if (!u) return
    const user = u
    loggedOut.add(user.index)
    user.phase = 'logging-out'
    const held = user.held!
    const request = o.client.logout(held)
    if (inWindow(due)) r.logouts++
    void track(send(user.url, 'POST', '/logout', request.headers, request.body)).then((a) => {
      const answeredAt = now()
      if (a.status === 204 && inWindow(due)) {
        thieves++
        probe(user.url, held, answeredAt, answeredAt)
      }
      user.phase = 'out'
      // The user comes back at once with a fresh login.
      login(user, false, answeredAt)
    })
  }

  const probe = (url: string, held: Held, loggedOutAt: number, due: number) => {
    if (due >= drainEnd || stopped) return
    r.probes++
    void track(send(url, 'GET', o.path, o.client.headers(held))).then((a) => {
      if (a.status === 401) {
        thieves--
        lags.push(Math.max(0, a.sentAt - loggedOutAt))
        return
      }
      const next = Math.max(now(), due + o.probeIntervalMs)
      agenda.add(next, () => probe(url, held, loggedOutAt, next))
    })
  }

  // --- the plan ---
  for (const u of users) {
    const loginAt = o.synchronized ? windowStart : t0 + (u.index / o.users) * warmupMs
    agenda.add(loginAt, () => login(u, false, loginAt))
    const first = loginAt + 50 + random() * interval
    agenda.add(first, () => get(u, first))
  }
  if (o.logoutsPerSecond > 0) {
    const every = 1000 / o.logoutsPerSecond
    for (let t = windowStart + every / 2; t < windowEnd; t += every) {
      const due = t
      agenda.add(due, () => logout(due))
    }
  }
  let windowEdges: Promise<void> = Promise.resolve()
  if (o.onWindow) {
    agenda.add(windowStart, () => { windowEdges = windowEdges.then(() => o.onWindow!('start')) })
    agenda.add(windowEnd, () => { windowEdges = windowEdges.then(() => o.onWindow!('end')) })
  }

  const interrupted = await new Promise<boolean>((resolve) => {
    const onAbort = () => finish(true)
    let timer: NodeJS.Timeout | null = null
    const finish = (aborted: boolean) => {
      if (stopped) return
      stopped = true
      if (timer) clearTimeout(timer)
      o.signal?.removeEventListener('abort', onAbort)
      resolve(aborted)
    }
    o.signal?.addEventListener('abort', onAbort, { once: true })
    if (o.signal?.aborted) return finish(true)
    let armedAt = Infinity
    const arm = (at: number) => {
      if (stopped) return
      if (timer) clearTimeout(timer)
      armedAt = at
      timer = setTimeout(tick, Math.max(0, at - now()))
    }
    const tick = () => {
      timer = null
      armedAt = Infinity
      const t = now()
      while (agenda.peek() <= t) agenda.pop().run()
      if (t >= drainEnd || (t >= windowEnd && agenda.size === 0 && outstanding === 0)) return finish(false)
      arm(Math.min(agenda.peek(), drainEnd))
    }
    // Whatever an answer schedules (a thief's next probe, a refresh) may be due before the armed timer.
    agenda.onEarlier = (at) => { if (at < armedAt) arm(at) }
    wake = () => { if (now() >= windowEnd) arm(now()) }
    tick()
  })
  while (agenda.size > 0) agenda.pop()
  await windowEdges
  const settleUntil = now() + 2000
  while (outstanding > 0 && now() < settleUntil) await new Promise((res) => setTimeout(res, 10))
  for (const a of agents.values()) a.destroy()
  // Thieves still presenting their copy when the drain ended are censored: their lag is longer than the run could see.
  const lagCensored = thieves

  lags.sort((a, b) => a - b)
  const peak = buckets.reduce((best, b) => (b.refreshes > best.refreshes ? b : best), buckets[0] ?? { refreshes: 0, tMs: 0 })
  const peakAt = peak && peak.refreshes > 0 ? windowStart + peak.tMs + BUCKET_MS / 2 : null
  const during = newHistogram()
  const other = newHistogram()
  // Refresh storms: 100 ms holding at least STORM_FACTOR times the window's mean refresh rate; GETs due in
  // one or the half second after it, against the others due once the users' first logins were all
  // answered (a mass login is a storm of its own).
  const meanPerBucket = buckets.length ? r.refreshes / buckets.length : 0
  const storms = buckets.filter((b) => meanPerBucket > 0 && b.refreshes >= STORM_FACTOR * meanPerBucket).map((b) => windowStart + b.tMs)
  const inStorm = (due: number) => storms.some((s) => due >= s && due < s + BUCKET_MS + 500)
  for (const d of dueTimes) {
    if (inStorm(d.due)) during.recordValue(d.latencyUs)
    else if (d.due > firstLoginsDoneAt) other.recordValue(d.latencyUs)
  }
  const send99 = sendLag.totalCount ? sendLag.getValueAtPercentile(99) : 0
  const reason = send99 > MAX_SEND_LAG_P99_US
    ? `the driver sent requests late (send lag p99 ${(send99 / 1000).toFixed(1)} ms > ${MAX_SEND_LAG_P99_US / 1000} ms): the schedule was not held`
    : null
  return {
    durationSeconds: o.durationSeconds,
    ...r,
    usersForcedToLogIn: forcedUsers.size,
    revocationLagMs: {
      p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags.length ? lags[lags.length - 1]! : null,
      samples: lags.length, censored: lagCensored, probeIntervalMs: o.probeIntervalMs,
    },
    lagSamplesMs: lags.map((x) => Math.round(x * 1000) / 1000),
    latencyUs: { requests: summary(requestLatency), refreshes: summary(refreshLatency) },
    sendLagUs: sendLag.totalCount ? { p50: sendLag.getValueAtPercentile(50), p99: send99, max: sendLag.maxValue } : { p50: 0, p99: 0, max: 0 },
    refreshRate: {
      meanPerSecond: r.refreshes / o.durationSeconds,
      peakPerSecond: (peak?.refreshes ?? 0) * (1000 / BUCKET_MS),
      peakAtMs: peakAt === null ? null : peak!.tMs,
    },
    duringPeak: {
      latencyUsP99: during.totalCount ? during.getValueAtPercentile(99) : null,
      otherLatencyUsP99: other.totalCount ? other.getValueAtPercentile(99) : null,
    },
    timeline: buckets.map(({ h, ...b }) => ({
      ...b, latencyUsP50: h.totalCount ? h.getValueAtPercentile(50) : 0, latencyUsP99: h.totalCount ? h.getValueAtPercentile(99) : 0,
    })),
    held: reason === null,
    reason,
    interrupted,
  }
}
