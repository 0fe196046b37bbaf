import { Agent, request as httpRequest } from 'node:http'
import type { Histogram } from 'hdr-histogram-js'
import { newHistogram } from '../../common/histogram.ts'
import { seededRandom } from '../stats.ts'
import { loginBody } from '../strategies/run/login.ts'
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
  /**
   * Each instance's own address, past any balancer in `urls`. With more than one, after each logout a second thief
   * presents the copy to every instance directly, each until it is refused: the lag on every instance.
   */
  instanceUrls?: string[]
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

const BUCKET_MS = 100
/** A 100 ms bucket with this many times the window's mean refresh rate is a refresh storm. */
const STORM_FACTOR = 5
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
  get size(): number {
    return this.items.length
  }
  peek(): number {
    return this.items[0]?.at ?? Infinity
  }
  add(at: number, run: () => void): void {
    const items = this.items
    if (at < this.peek()) this.onEarlier(at)
    items.push({ at, seq: this.seq++, run })
    for (let i = items.length - 1; i > 0; ) {
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
      for (let i = 0; ; ) {
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
    : {
        p50: h.getValueAtPercentile(50),
        p90: h.getValueAtPercentile(90),
        p99: h.getValueAtPercentile(99),
        max: h.maxValue,
        count: h.totalCount,
      }
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

type Tallies = Pick<
  LifecycleResult,
  | 'requests'
  | 'completed'
  | 'statusCounts'
  | 'unexpected401'
  | 'status503'
  | 'errors'
  | 'logins'
  | 'forcedLogins'
  | 'refreshes'
  | 'refreshFailures'
  | 'logouts'
  | 'races'
  | 'probes'
>
type Bucket = TimelineBucket & { h: Histogram }

/**
 * One run of the lifecycle workload: the schedule (window edges, buckets), the users' state
 * machines (log in, GET on schedule, refresh, log out), the thieves, and the tallies they keep.
 * Each step is a method; `runLifecycle` plans, runs the agenda and summarizes.
 */
class LifecycleRun {
  readonly agenda = new Agenda()
  readonly random: () => number
  readonly agents: Map<string, Agent>
  readonly epochOffset = Date.now() - performance.now()
  readonly t0: number
  readonly warmupMs: number
  readonly windowStart: number
  readonly windowEnd: number
  readonly drainEnd: number
  readonly interval: number
  readonly requestLatency = newHistogram()
  readonly refreshLatency = newHistogram()
  readonly sendLag = newHistogram()
  readonly buckets: Bucket[]
  readonly dueTimes: { due: number; latencyUs: number }[] = []
  readonly r: Tallies = {
    requests: 0,
    completed: 0,
    statusCounts: {},
    unexpected401: 0,
    status503: 0,
    errors: 0,
    logins: 0,
    forcedLogins: 0,
    refreshes: 0,
    refreshFailures: { invalidGrant: 0, invalidGrantAfterUnavailable: 0, unavailable: 0, errors: 0 },
    logouts: 0,
    races: { attempted: 0, familyRevoked: 0 },
    probes: 0,
  }
  readonly forcedUsers = new Set<number>()
  /** When the last of the users' first logins was answered (a mass login keeps the servers busy until then). */
  firstLoginsDoneAt = 0
  readonly lags: number[] = []
  /** Thieves still presenting a logged-out credential that has not been refused yet. */
  thieves = 0
  /** Instances a copy is presented to directly after each logout; none with one instance. */
  get instanceUrls(): string[] {
    return (this.o.instanceUrls?.length ?? 0) > 1 ? this.o.instanceUrls! : []
  }
  readonly everyLags: number[] = []
  /** Thieves presenting a copy to every instance, some of which still take it. */
  everyThieves = 0
  /** Copies every instance refused the first time they were presented. */
  refusedAtFirst = 0
  outstanding = 0
  stopped = false
  readonly users: User[]
  /** Users who have logged out in this window: a fresh login's young token would skew the lags. */
  readonly loggedOut = new Set<number>()
  wake: () => void = () => {}
  readonly o: LifecycleOptions

  constructor(o: LifecycleOptions) {
    this.o = o
    this.random = seededRandom(o.seed ?? 1)
    this.agents = new Map([...new Set([...o.urls, ...this.instanceUrls])].map((u) => [u, new Agent({ keepAlive: true, maxSockets: 256 })]))
    this.warmupMs = o.synchronized ? 0 : o.warmupSeconds * 1000
    this.t0 = performance.now() + 20
    this.windowStart = this.t0 + this.warmupMs
    this.windowEnd = this.windowStart + o.durationSeconds * 1000
    this.drainEnd = this.windowEnd + o.drainSeconds * 1000
    this.interval = 1000 / o.requestsPerUserPerSecond
    this.buckets = Array.from({ length: Math.ceil((o.durationSeconds * 1000) / BUCKET_MS) }, (_, i) => ({
      tMs: i * BUCKET_MS,
      requests: 0,
      ok: 0,
      status401: 0,
      status502: 0,
      status503: 0,
      status5xx: 0,
      errors: 0,
      refreshes: 0,
      logins: 0,
      forcedLogins: 0,
      latencyUsP50: 0,
      latencyUsP99: 0,
      latencyUsMax: 0,
      h: newHistogram(),
    }))
    this.users = Array.from({ length: o.users }, (_, index) => ({
      index,
      url: o.urls[index % o.urls.length]!,
      phase: 'out',
      held: null,
      generation: 0,
      refreshing: false,
      backoffMs: BACKOFF_START_MS,
      retrying: false,
    }))
  }

  now = () => performance.now()
  inWindow = (t: number) => t >= this.windowStart && t < this.windowEnd
  bucketOf = (t: number) => (this.inWindow(t) ? this.buckets[Math.floor((t - this.windowStart) / BUCKET_MS)] : undefined)

  /** One request; resolves with the answer (status 0 on a transport failure) and its send time, counted while outstanding. */
  send(
    url: string,
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<Answer & { sentAt: number }> {
    this.outstanding++
    return new Promise<Answer & { sentAt: number }>((resolve) => {
      const sentAt = this.now()
      const req = httpRequest(
        new URL(path, url),
        {
          method,
          agent: this.agents.get(url)!,
          timeout: 10_000,
          headers: {
            ...headers,
            ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              setCookie: res.headers['set-cookie'] ?? [],
              body: Buffer.concat(chunks).toString('utf8'),
              sentAt,
            }),
          )
          res.on('error', () => resolve({ status: 0, setCookie: [], body: '', sentAt }))
        },
      )
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', () => resolve({ status: 0, setCookie: [], body: '', sentAt }))
      req.end(body)
    }).finally(() => {
      this.outstanding--
      // After the window, the last answer may be what the run was waiting for.
      if (this.outstanding === 0) this.wake()
    })
  }

  login(u: User, forced: boolean, due: number): void {
    if (u.phase === 'logging-in' || this.stopped || due >= this.windowEnd) return
    u.phase = 'logging-in'
    u.generation++
    u.refreshing = false
    if (this.inWindow(due)) {
      this.r.logins++
      if (forced) {
        this.r.forcedLogins++
        this.forcedUsers.add(u.index)
      }
      const b = this.bucketOf(due)
      if (b) {
        b.logins++
        if (forced) b.forcedLogins++
      }
    }
    void this.send(u.url, 'POST', '/login', this.o.client.loginHeaders ?? {}, loginBody(u.index + 1)).then((a) => {
      const held = a.status === 200 || a.status === 204 ? this.o.client.fromLogin(a) : null
      if (!held) {
        // The store or the server could not log the user in: try again after a back-off.
        u.phase = 'out'
        this.agenda.add(this.now() + u.backoffMs, () => this.login(u, forced, this.now()))
        u.backoffMs = Math.min(BACKOFF_MAX_MS, u.backoffMs * 2)
        return
      }
      u.backoffMs = BACKOFF_START_MS
      u.held = held
      u.phase = 'in'
      if (!forced && due <= this.windowStart) this.firstLoginsDoneAt = Math.max(this.firstLoginsDoneAt, this.now())
      this.scheduleRefresh(u)
    })
  }

  /** A user's GET, each on its own fixed schedule (open loop): the next is planned before this one is sent. */
  get(u: User, due: number): void {
    if (this.stopped) return
    const next = due + this.interval
    if (next < this.windowEnd) this.agenda.add(next, () => this.get(u, next))
    if (u.phase !== 'in') return
    const held = u.held!
    const generation = u.generation
    const counted = this.inWindow(due)
    if (counted) this.r.requests++
    this.sendLag.recordValue(Math.max(0, Math.round((this.now() - due) * 1000)))
    void this.send(u.url, 'GET', this.o.path, this.o.client.headers(held)).then((a) => {
      if (counted) this.countGet(due, a)
      if (generation !== u.generation || u.phase !== 'in') return
      // The client keeps what the server set (a re-sealed cookie), as a browser would.
      if (a.status === 200 && this.o.client.update) u.held = this.o.client.update(u.held!, a)
      if (a.status !== 401) return
      if (counted) this.r.unexpected401++
      // Sent with a token the user has since replaced (it expired in flight): nothing more to do.
      if (held !== u.held && this.o.client.refreshBody) return
      if (this.o.client.refreshBody && !u.refreshing) this.refresh(u, this.now())
      else if (!this.o.client.refreshBody) this.login(u, true, this.now())
    })
  }

  countGet(due: number, a: Answer): void {
    const latencyUs = Math.max(1, Math.round((this.now() - due) * 1000))
    const b = this.bucketOf(due)!
    b.requests++
    if (a.status === 0) {
      this.r.errors++
      b.errors++
      return
    }
    this.r.completed++
    this.r.statusCounts[a.status] = (this.r.statusCounts[a.status] ?? 0) + 1
    this.requestLatency.recordValue(latencyUs)
    b.h.recordValue(latencyUs)
    this.dueTimes.push({ due, latencyUs })
    if (a.status >= 200 && a.status < 300) b.ok++
    if (a.status === 401) b.status401++
    if (a.status === 503) {
      this.r.status503++
      b.status503++
    } else if (a.status === 502) b.status502++
    else if (a.status >= 500) b.status5xx++
  }

  scheduleRefresh(u: User): void {
    const exp = this.o.client.expiresAt(u.held!)
    if (exp === null || !this.o.client.refreshBody) return
    const generation = u.generation
    const at = exp - this.epochOffset - this.o.refreshMarginSeconds * 1000 - this.random() * this.o.refreshJitterSeconds * 1000
    this.agenda.add(Math.max(this.now(), at), () => {
      if (u.generation === generation && u.phase === 'in' && !u.refreshing) this.refresh(u, Math.max(this.now(), at))
    })
  }

  refresh(u: User, due: number): void {
    if (this.stopped || due >= this.windowEnd) return
    u.refreshing = true
    const generation = u.generation
    const held = u.held!
    const counted = this.inWindow(due)
    if (counted) {
      this.r.refreshes++
      const b = this.bucketOf(due)
      if (b) b.refreshes++
    }
    const race = this.random() < this.o.concurrentRefreshShare
    const one = () => this.send(u.url, 'POST', '/refresh', {}, this.o.client.refreshBody!(held))
    if (race && counted) this.r.races.attempted++
    void Promise.all(race ? [one(), one()] : [one()]).then((answers) => {
      if (counted) this.refreshLatency.recordValue(Math.max(1, Math.round((this.now() - due) * 1000)))
      if (generation !== u.generation || u.phase !== 'in') return
      u.refreshing = false
      this.refreshAnswered(u, answers, counted, race)
    })
  }

  /** What the answers to a refresh (two, when two tabs raced) do to the user. */
  refreshAnswered(u: User, answers: Answer[], counted: boolean, race: boolean): void {
    const generation = u.generation
    if (answers.some((a) => a.status === 400)) {
      // invalid_grant: the family is revoked (reuse detected, here by the user's own other tab). Log in again.
      if (counted) {
        this.r.refreshFailures.invalidGrant++
        if (u.retrying) this.r.refreshFailures.invalidGrantAfterUnavailable++
        if (race) this.r.races.familyRevoked++
      }
      u.retrying = false
      this.login(u, true, this.now())
      return
    }
    const ok = answers.filter((a) => a.status === 200)
    const next = ok.length > 0 ? this.o.client.fromLogin(ok[ok.length - 1]!) : null
    if (next) {
      u.held = next
      u.retrying = false
      u.backoffMs = BACKOFF_START_MS
      this.scheduleRefresh(u)
      return
    }
    // 503 (store down) or no answer: not a revocation; retry after a back-off while the access token lasts.
    if (counted) {
      if (answers.some((a) => a.status === 503)) this.r.refreshFailures.unavailable++
      else this.r.refreshFailures.errors++
    }
    u.refreshing = true
    u.retrying = true
    this.agenda.add(this.now() + u.backoffMs, () => {
      if (u.generation === generation && u.phase === 'in') this.refresh(u, this.now())
    })
    u.backoffMs = Math.min(BACKOFF_MAX_MS, u.backoffMs * 2)
  }

  /** A user who is logged in, not mid-refresh and not yet logged out in this window, chosen at random (bounded tries), logs out. */
  logout(due: number): void {
    if (this.stopped) return
    let u: User | undefined
    const fresh = this.loggedOut.size < this.users.length / 2
    for (let tries = 0; tries < 50 && !u; tries++) {
      const c = this.users[Math.floor(this.random() * this.users.length)]!
      if (c.phase === 'in' && !c.refreshing && !(fresh && this.loggedOut.has(c.index))) u = c
    }
    if (!u) return
    const user = u
    this.loggedOut.add(user.index)
    user.phase = 'logging-out'
    const held = user.held!
    const request = this.o.client.logout(held)
    if (this.inWindow(due)) this.r.logouts++
    void this.send(user.url, 'POST', '/logout', request.headers, request.body).then((a) => {
      const answeredAt = this.now()
      if (a.status === 204 && this.inWindow(due)) {
        this.thieves++
        this.probe(user.url, held, answeredAt, answeredAt)
        if (this.instanceUrls.length) this.probeEvery(held, answeredAt)
      }
      user.phase = 'out'
      // The user comes back at once with a fresh login.
      this.login(user, false, answeredAt)
    })
  }

  /** The thief who kept a copy of a logged-out credential presents it until it is refused: the revocation lag. */
  probe(url: string, held: Held, loggedOutAt: number, due: number): void {
    if (due >= this.drainEnd || this.stopped) return
    this.r.probes++
    void this.send(url, 'GET', this.o.path, this.o.client.headers(held)).then((a) => {
      if (a.status === 401) {
        this.thieves--
        this.lags.push(Math.max(0, a.sentAt - loggedOutAt))
        return
      }
      const next = Math.max(this.now(), due + this.o.probeIntervalMs)
      this.agenda.add(next, () => this.probe(url, held, loggedOutAt, next))
    })
  }

  /** The second thief: the copy presented to each instance directly until each refuses it; the lag is the last refusal's. */
  probeEvery(held: Held, loggedOutAt: number): void {
    this.everyThieves++
    let open = this.instanceUrls.length
    let last = 0
    let atFirst = true
    const one = (url: string, due: number): void => {
      if (due >= this.drainEnd || this.stopped) return
      this.r.probes++
      void this.send(url, 'GET', this.o.path, this.o.client.headers(held)).then((a) => {
        if (a.status === 401) {
          last = Math.max(last, a.sentAt - loggedOutAt)
          if (--open === 0) {
            this.everyThieves--
            this.everyLags.push(Math.max(0, last))
            if (atFirst) this.refusedAtFirst++
          }
          return
        }
        atFirst = false
        const next = Math.max(this.now(), due + this.o.probeIntervalMs)
        this.agenda.add(next, () => one(url, next))
      })
    }
    for (const url of this.instanceUrls) one(url, loggedOutAt)
  }

  /** Everything due from the start: logins spread over the warm-up (or all at once), each user's first GET, the logouts, the window's edges. */
  plan(): { done: Promise<void> } {
    const { o, agenda } = this
    for (const u of this.users) {
      const loginAt = o.synchronized ? this.windowStart : this.t0 + (u.index / o.users) * this.warmupMs
      agenda.add(loginAt, () => this.login(u, false, loginAt))
      const first = loginAt + 50 + this.random() * this.interval
      agenda.add(first, () => this.get(u, first))
    }
    if (o.logoutsPerSecond > 0) {
      const every = 1000 / o.logoutsPerSecond
      for (let t = this.windowStart + every / 2; t < this.windowEnd; t += every) {
        const due = t
        agenda.add(due, () => this.logout(due))
      }
    }
    // The window's edges in turn: the end's reading waits for the start's.
    const edges = { done: Promise.resolve() }
    if (o.onWindow) {
      agenda.add(this.windowStart, () => {
        edges.done = edges.done.then(() => o.onWindow!('start'))
      })
      agenda.add(this.windowEnd, () => {
        edges.done = edges.done.then(() => o.onWindow!('end'))
      })
    }
    return edges
  }

  /** Runs the agenda on a timer until the drain ends (or nothing is left after the window); true when aborted. */
  loop(): Promise<boolean> {
    const { o, agenda } = this
    return new Promise<boolean>((resolve) => {
      const onAbort = () => finish(true)
      let timer: NodeJS.Timeout | null = null
      const finish = (aborted: boolean) => {
        if (this.stopped) return
        this.stopped = true
        if (timer) clearTimeout(timer)
        o.signal?.removeEventListener('abort', onAbort)
        resolve(aborted)
      }
      o.signal?.addEventListener('abort', onAbort, { once: true })
      if (o.signal?.aborted) return finish(true)
      let armedAt = Infinity
      const arm = (at: number) => {
        if (this.stopped) return
        if (timer) clearTimeout(timer)
        armedAt = at
        timer = setTimeout(tick, Math.max(0, at - this.now()))
      }
      const tick = () => {
        timer = null
        armedAt = Infinity
        const t = this.now()
        while (agenda.peek() <= t) agenda.pop().run()
        if (t >= this.drainEnd || (t >= this.windowEnd && agenda.size === 0 && this.outstanding === 0)) return finish(false)
        arm(Math.min(agenda.peek(), this.drainEnd))
      }
      // Whatever an answer schedules (a thief's next probe, a refresh) may be due before the armed timer.
      agenda.onEarlier = (at) => {
        if (at < armedAt) arm(at)
      }
      this.wake = () => {
        if (this.now() >= this.windowEnd) arm(this.now())
      }
      tick()
    })
  }

  /** The result, from the tallies, the histograms and the buckets. */
  summarize(interrupted: boolean): LifecycleResult {
    const { o, r, buckets, lags } = this
    lags.sort((a, b) => a - b)
    const peak = buckets.reduce((best, b) => (b.refreshes > best.refreshes ? b : best), buckets[0] ?? { refreshes: 0, tMs: 0 })
    const peakAt = peak && peak.refreshes > 0 ? this.windowStart + peak.tMs + BUCKET_MS / 2 : null
    const storm = this.stormLatency()
    const send99 = this.sendLag.totalCount ? this.sendLag.getValueAtPercentile(99) : 0
    const reason =
      send99 > MAX_SEND_LAG_P99_US
        ? `the driver sent requests late (send lag p99 ${(send99 / 1000).toFixed(1)} ms > ${MAX_SEND_LAG_P99_US / 1000} ms): the schedule was not held`
        : null
    return {
      durationSeconds: o.durationSeconds,
      ...r,
      usersForcedToLogIn: this.forcedUsers.size,
      revocationLagMs: {
        p50: percentile(lags, 50),
        p99: percentile(lags, 99),
        max: lags.length ? lags[lags.length - 1]! : null,
        // Thieves still presenting their copy when the drain ended are censored: their lag is longer than the run could see.
        samples: lags.length,
        censored: this.thieves,
        probeIntervalMs: o.probeIntervalMs,
      },
      lagSamplesMs: lags.map((x) => Math.round(x * 1000) / 1000),
      ...this.everyInstance(),
      latencyUs: { requests: summary(this.requestLatency), refreshes: summary(this.refreshLatency) },
      sendLagUs: this.sendLag.totalCount
        ? { p50: this.sendLag.getValueAtPercentile(50), p99: send99, max: this.sendLag.maxValue }
        : { p50: 0, p99: 0, max: 0 },
      refreshRate: {
        meanPerSecond: r.refreshes / o.durationSeconds,
        peakPerSecond: (peak?.refreshes ?? 0) * (1000 / BUCKET_MS),
        peakAtMs: peakAt === null ? null : peak!.tMs,
      },
      duringPeak: storm,
      timeline: buckets.map(({ h, ...b }) => ({
        ...b,
        latencyUsP50: h.totalCount ? h.getValueAtPercentile(50) : 0,
        latencyUsP99: h.totalCount ? h.getValueAtPercentile(99) : 0,
        latencyUsMax: h.totalCount ? h.maxValue : 0,
      })),
      held: reason === null,
      reason,
      interrupted,
    }
  }

  /** The lag on every instance, from the second thieves; null with one instance. */
  everyInstance(): Pick<LifecycleResult, 'everyInstanceLagMs' | 'everyInstanceLagSamplesMs'> {
    const lags = this.everyLags.sort((a, b) => a - b)
    if (!this.instanceUrls.length) return { everyInstanceLagMs: null, everyInstanceLagSamplesMs: [] }
    return {
      everyInstanceLagMs: {
        p50: percentile(lags, 50),
        p99: percentile(lags, 99),
        max: lags.length ? lags[lags.length - 1]! : null,
        samples: lags.length,
        refusedAtFirst: this.refusedAtFirst,
        censored: this.everyThieves,
        instances: this.instanceUrls.length,
        probeIntervalMs: this.o.probeIntervalMs,
      },
      everyInstanceLagSamplesMs: lags.map((x) => Math.round(x * 1000) / 1000),
    }
  }

  /**
   * Refresh storms: 100 ms holding at least STORM_FACTOR times the window's mean refresh rate; GETs
   * due in one or the half second after it, against the others due once the users' first logins
   * were all answered (a mass login is a storm of its own).
   */
  stormLatency(): LifecycleResult['duringPeak'] {
    const during = newHistogram()
    const other = newHistogram()
    const meanPerBucket = this.buckets.length ? this.r.refreshes / this.buckets.length : 0
    const storms = this.buckets
      .filter((b) => meanPerBucket > 0 && b.refreshes >= STORM_FACTOR * meanPerBucket)
      .map((b) => this.windowStart + b.tMs)
    const inStorm = (due: number) => storms.some((s) => due >= s && due < s + BUCKET_MS + 500)
    for (const d of this.dueTimes) {
      if (inStorm(d.due)) during.recordValue(d.latencyUs)
      else if (d.due > this.firstLoginsDoneAt) other.recordValue(d.latencyUs)
    }
    return {
      latencyUsP99: during.totalCount ? during.getValueAtPercentile(99) : null,
      otherLatencyUsP99: other.totalCount ? other.getValueAtPercentile(99) : null,
    }
  }
}

/** Runs the lifecycle workload and resolves when the measured window and the thieves' drain are over. */
export async function runLifecycle(o: LifecycleOptions): Promise<LifecycleResult> {
  const run = new LifecycleRun(o)
  const edges = run.plan()
  const interrupted = await run.loop()
  while (run.agenda.size > 0) run.agenda.pop()
  await edges.done
  const settleUntil = run.now() + 2000
  while (run.outstanding > 0 && run.now() < settleUntil) await new Promise((res) => setTimeout(res, 10))
  for (const a of run.agents.values()) a.destroy()
  return run.summarize(interrupted)
}
