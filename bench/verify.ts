import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { VerificationError } from './contracts/errors.ts'
import { cachedReadBound, expected401Share, expectedOps, renewalWriteBound } from './expected.ts'
import { startServer, type ProcessGroup, type ServerHandle, type ServerRuntime } from './processes.ts'
import { storeDescriptors } from './stores/index.ts'
import { storeProvisioners, type ExternalCounts, type ProvisionedStore } from './stores/run/index.ts'
import { pingRoundTripUs, startDelayProxy, type DelayProxy } from './stores/delay-proxy.ts'
import { descriptorOf } from './strategies/index.ts'
import { runnerOf } from './strategies/run/index.ts'
import { loginBody } from './strategies/run/login.ts'
import type { Credential, CredentialInfo, LoadRequest } from './contracts/client.ts'
import { CROSS_CHECK_REQUESTS, type ExpectedOps, type RevocationProbe, type StoreRtt } from './contracts/results.ts'
import type { CellPlan } from './contracts/plan.ts'
import type { RemoteInstance } from './remote/instance.ts'
import { balancerProcessOf } from './fleet/balancer-processes.ts'
import { DEFAULT_BALANCE } from './fleet/balancers.ts'
import type { Balancer } from './fleet/haproxy.ts'
import { instanceFaults, type InstanceFaults } from './fleet/instance-faults.ts'
import type { Placement } from './fleet/placement.ts'
import { remoteInstance } from './remote/instance.ts'

/** A cell whose servers are up, verified, and holding a pool of logged-in credentials. */
export interface CellRuntime {
  plan: CellPlan
  servers: Pick<ServerHandle, 'url' | 'stats'>[]
  /** Each instance's own address (the balancer's backends when there is one). */
  instanceUrls: string[]
  /** Where the load goes: the instances themselves, or the balancer in front of them. */
  targets: string[]
  /** The balancer's CPU so far, µs; null without one. */
  balancerCpuUs(): number | null
  /** What a fault can do to the instances (kill one, start it again): instances the harness started behind a balancer; null
   * otherwise (remote mode). */
  instances: InstanceFaults | null
  requests: LoadRequest[]
  /** The store's own counts (Redis INFO commandstats), or null. */
  counts(): Promise<ExternalCounts | null>
  /** The store process's CPU µs so far (Redis INFO cpu), or null. */
  storeCpuUs(): Promise<number | null>
  /** CPUs the servers may use (their pinned set, or the machine's). */
  serverCpuCount: number
  expected: ExpectedOps
  expected401Share: number
  /** Session renewal writes a measured window may hold. */
  renewalBound: number
  /** State reads a measured window of a session-cached cell may hold (cachedReadBound); null: one a request, or not cached. */
  readBound: number | null
  credential: CredentialInfo
  revocationProbe: RevocationProbe | null
  /** The delay proxy between the servers and Redis, and the round trip it was measured to add; null without one. */
  storeRtt: StoreRtt | null
  /** The proxy's CPU and forwarded chunks so far, or null. */
  proxyStats(): Promise<{ cpuUs: number; forwarded: number } | null>
  close(): Promise<void>
}

export interface PrepareOptions {
  group: ProcessGroup
  /** The cell's store, made ready for the run; null for a strategy without a store. */
  store: ProvisionedStore | null
  /** CPUs the servers are pinned to, or null. */
  serverCpus: string | null
  /** CPUs the load generator (and a delay proxy) run on, or null. */
  clientCpus?: string | null
  /** How many CPUs the servers may use. */
  serverCpuCount: number
  /** A SQLite file with the users already seeded, copied for each cell so no server spends its start hashing passwords. */
  usersTemplate: string | null
  users: number
  /** Credentials logged in for the load to rotate through; default `users`. */
  poolSize?: number
  windowSeconds: number
  /** Remote mode: the running servers of this cell, read through their metrics; nothing is started. */
  remote?: RemoteInstance[] | null
  /** Check the servers' counts against the store's own and SQLite's trace on an extra, traced instance (every full run; not a smoke run). Default true. */
  crossCheck?: boolean
  /**
   * How long the servers wait for their store before failing closed (`--store-timeout-ms`); null keeps the servers' own
   * default. A smoke run, which checks the output's shape, gives a starved store longer, so a busy machine does not fail it.
   */
  storeTimeoutMs?: number | null
  /** A namespace topology: each instance on a host of its own (and read, as remote mode reads, through its metrics); null on loopback. */
  placement?: Placement | null
  /** The Node the cell's servers run on (`runtime`); absent, the harness's own. */
  runtime?: ServerRuntime
}

const getRoute = (plan: CellPlan) => (plan.workload === 'GET /profile' ? '/profile' : '/me')

async function status(url: string, path: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url + path, { headers })
  await res.arrayBuffer()
  return res.status
}

async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++
        out[i] = await task(i)
      }
    }),
  )
  return out
}

/** A cell's server flags, its SQLite file (a copy of the users' template) in `dir`: what every instance of it starts with. */
export function cellServerArgs(
  plan: CellPlan,
  dir: string,
  opts: Pick<PrepareOptions, 'usersTemplate' | 'users'>,
  storeArgs: string[],
): string[] {
  const db = join(dir, 'authbench.sqlite')
  if (opts.usersTemplate) copyFileSync(opts.usersTemplate, db)
  const run = runnerOf(plan)
  return [
    '--strategy',
    plan.strategy,
    ...(plan.framework ? ['--framework', plan.framework] : []),
    '--port',
    '0',
    '--db',
    db,
    '--users',
    String(opts.users),
    ...(plan.store ? ['--store', plan.store, ...storeArgs] : []),
    ...run.serverArgs(plan),
    ...run.sharedKeyArgs(plan, dir),
  ]
}

/** Starts the cell's instances, sharing one SQLite file, one store and one key; returns their flags. */
async function startInstances(
  plan: CellPlan,
  dir: string,
  opts: PrepareOptions,
  servers: ServerHandle[],
  storeArgs: string[],
): Promise<string[]> {
  const args = cellServerArgs(plan, dir, opts, storeArgs)
  const place = opts.placement
  const start = (i: number) =>
    startServer(opts.group, place ? [...args, '--metrics-port', '0'] : args, opts.serverCpus, 30_000, place?.instance(i), opts.runtime)
  // The first instance seeds the users (when no template did); the others then find them in the shared file.
  servers.push(await start(0))
  servers.push(...(await Promise.all(Array.from({ length: plan.instances - 1 }, (_, i) => start(i + 1)))))
  return args
}

/**
 * Checks the servers' own operation counts against observers outside them, in a short window on
 * an extra instance started with --trace-sql (the trace costs every statement a call, so measured
 * instances never carry it): every counted read, write and delete must show in SQLite's statement
 * trace or in the store's own counts (Redis INFO commandstats). A store nothing outside can see
 * (process memory) is held to the contract's figures instead.
 */
async function crossCheckCounts(plan: CellPlan, args: string[], opts: PrepareOptions): Promise<void> {
  const traced = await startServer(opts.group, [...args, '--trace-sql'], opts.serverCpus, 30_000, opts.placement?.instance(0), opts.runtime)
  try {
    const requests = await credentialPool(plan, [traced.url], Math.min(20, opts.users))
    const store = opts.store
    const [before, beforeStore] = [await traced.stats(false), (await store?.counts()) ?? null]
    for (let i = 0; i < CROSS_CHECK_REQUESTS; i++) {
      const r = requests[i % requests.length]!
      const res = await fetch(traced.url + r.path, { method: r.method, headers: r.headers, ...(r.body ? { body: r.body } : {}) })
      await res.arrayBuffer()
      if (res.status >= 300) throw new VerificationError(`count check on ${plan.id}: ${r.method} ${r.path} answered ${res.status}`)
    }
    const [after, afterStore] = [await traced.stats(false), (await store?.counts()) ?? null]
    const expected = expectedOps(plan)
    const unobservable = plan.store !== null && !storeDescriptors[plan.store].observable
    // A cached cell's state reads in an unobservable store depend on what its cache held: nothing outside can check them
    // (the users table's reads still are, by SQLite's trace).
    const sqlReads = after.sqlTrace!.reads - before.sqlTrace!.reads
    const cachedUnseen = unobservable && expected.cachedReads ? (after.reads - before.reads - sqlReads) / CROSS_CHECK_REQUESTS : null
    const unobserved = unobservable
      ? { reads: cachedUnseen ?? expected.stateReads, writes: expected.writes, deletes: expected.deletes }
      : { reads: 0, writes: 0, deletes: 0 }
    const problems: string[] = []
    for (const k of ['reads', 'writes', 'deletes'] as const) {
      const counted = after[k] - before[k]
      const sql = after.sqlTrace![k] - before.sqlTrace![k]
      const own = afterStore && beforeStore ? afterStore[k] - beforeStore[k] : 0
      const seen = sql + own + unobserved[k] * CROSS_CHECK_REQUESTS
      if (counted !== seen)
        problems.push(
          `${k}: counted ${counted}, seen ${seen} (SQLite ` +
            `trace ${sql}, ${plan.store ?? 'no'} store ${own}${
              unobserved[k] ? `, ${unobserved[k] * CROSS_CHECK_REQUESTS} unobservable ` + `in ${plan.store}` : ''
            })`,
        )
    }
    if (problems.length)
      throw new VerificationError(`count check on ${plan.id} over ${CROSS_CHECK_REQUESTS} requests: ${problems.join('; ')}`)
  } finally {
    await traced.stop()
  }
}

/** No credential: 401 (the baseline: 200); a fresh credential: 200; on every instance. */
async function verifyInstances(plan: CellPlan, urls: string[]): Promise<void> {
  const d = descriptorOf(plan)
  const route = getRoute(plan)
  const headers = runnerOf(plan).requestHeaders ?? {}
  for (const url of urls) {
    const anonymous = await status(url, route, headers)
    if (anonymous !== d.anonymousStatus)
      throw new VerificationError(`${url}${route} without a credential answered ${anonymous}, expected ${d.anonymousStatus}`)
    const fresh = await runnerOf(plan).login(url, 1)
    const ok = await status(url, route, fresh.headers)
    if (ok !== 200) throw new VerificationError(`${url}${route} with a fresh credential answered ${ok}, expected 200`)
  }
}

/** What a client holds, and what logout does to a copy of it on every instance. */
async function probeCredential(
  plan: CellPlan,
  urls: string[],
): Promise<{ credential: CredentialInfo; revocationProbe: RevocationProbe | null }> {
  const d = descriptorOf(plan)
  const sample = await runnerOf(plan).login(urls[0]!, 1)
  const credential = d.describeCredential(sample)
  if (d.state === 'none') return { credential, revocationProbe: null }
  // Used on every instance first, so an instance that caches what it read (a session cache, a verify cache) holds it at the logout.
  await Promise.all(urls.map((u) => status(u, getRoute(plan), sample.headers)))
  const res = await fetch(`${urls[0]}/logout`, { method: 'POST', headers: sample.headers })
  await res.arrayBuffer()
  if (res.status !== 204) throw new VerificationError(`${urls[0]}/logout answered ${res.status}, expected 204`)
  const statusAfterLogout = await Promise.all(urls.map((u) => status(u, '/me', sample.headers)))
  return {
    credential,
    revocationProbe: {
      statusAfterLogout,
      keepsWorkingSeconds: statusAfterLogout.every((s) => s === 401) ? 0 : d.lifetimeSeconds(credential),
    },
  }
}

/** The requests the load rotates through: one per user, credential i issued by instance i mod n. */
export async function credentialPool(plan: CellPlan, urls: string[], users: number): Promise<LoadRequest[]> {
  const run = runnerOf(plan)
  if (plan.workload === 'POST /login') {
    // Each login stands for a visitor without a session: it presents no cookie and keeps none.
    return Array.from({ length: users }, (_, i) => ({
      method: 'POST' as const,
      path: '/login',
      headers: { ...run.requestHeaders, 'content-type': 'application/json' },
      body: loginBody(i + 1),
      keepCookies: false,
    }))
  }
  const creds: Credential[] = await pool(users, 8, (i) => run.login(urls[i % urls.length]!, i + 1))
  return creds.map((c) => ({ method: 'GET' as const, path: getRoute(plan), headers: c.headers }))
}

/** Starts, verifies, probes and logs in a cell; on any failure everything it started is stopped. */
export async function prepareCell(plan: CellPlan, opts: PrepareOptions): Promise<CellRuntime> {
  const dir = opts.group.tempDir(`authbench-${plan.id}-`)
  const servers: ServerHandle[] = []
  let proxy: DelayProxy | null = null
  let balancer: Balancer | null = null
  const close = async () => {
    await balancer?.stop()
    await Promise.all(servers.map((s) => s.stop()))
    await proxy?.stop()
    opts.group.removeDir(dir)
  }
  try {
    let storeArgs = [
      ...(opts.store?.serverArgs ?? []),
      ...(plan.store && opts.storeTimeoutMs ? ['--store-timeout-ms', String(opts.storeTimeoutMs)] : []),
    ]
    let storeRtt: StoreRtt | null = null
    if (plan.storeRttMs) {
      // The servers reach the store through the proxy (its URL flag's value swapped); the harness's own counts still read the store itself.
      const at = storeArgs.indexOf(`--${storeProvisioners[plan.store!].address!.option.flag}`) + 1
      const direct = storeArgs[at]!
      proxy = await startDelayProxy(direct, plan.storeRttMs, opts.group, opts.clientCpus ?? null)
      const via = proxy.url
      storeArgs = storeArgs.map((a, i) => (i === at ? via : a))
      const directUs = await pingRoundTripUs(direct)
      storeRtt = { askedMs: plan.storeRttMs, directUs, addedUs: (await pingRoundTripUs(proxy.url)) - directUs }
    }
    const remote = opts.remote ?? null
    // Remote mode starts nothing: the servers are the targets, and the cross-check's traced
    // instance cannot be had (the store's own counts, where it has them, check each window instead).
    const args = remote ? [] : await startInstances(plan, dir, opts, servers, storeArgs)
    const urls = remote ? remote.map((r) => r.url) : servers.map((s) => s.url)
    await verifyInstances(plan, urls)
    if (!remote && opts.crossCheck !== false) await crossCheckCounts(plan, args, opts)
    const balancerProcess = balancerProcessOf(plan)
    if (balancerProcess) {
      const host = opts.placement?.balancer()
      balancer = await balancerProcess.start(opts.group, {
        backends: urls,
        balance: plan.balance ?? DEFAULT_BALANCE,
        stickyCookie: runnerOf(plan).cookieName,
        cpus: opts.clientCpus ?? null,
        ...(host ? { host: host.address, wrap: host.wrap } : {}),
      })
    }
    // On a topology the servers are read as remote mode reads a fleet: through their metrics, by address.
    const place = opts.placement
    const readers = place ? await Promise.all(servers.map((s) => remoteInstance(s.url, s.metricsUrl!))) : servers
    // Instances the harness started behind a balancer can be killed and started again (on their host); read across a restart.
    const killable =
      !remote && balancer
        ? instanceFaults({
            servers,
            args: place ? [...args, '--metrics-port', '0'] : args,
            start: (a, i) => startServer(opts.group, a, opts.serverCpus, 30_000, place?.instance(i), opts.runtime),
            balancer,
            readers,
            reader: async (h) => (place ? remoteInstance(h.url, h.metricsUrl!) : h),
          })
        : null
    const measured = remote ?? killable?.measured ?? readers
    const targets = balancer ? [balancer.url] : urls
    const { credential, revocationProbe } = await probeCredential(plan, urls)
    // Through the balancer when there is one, so a sticky balancer marks each credential as a client's would be.
    const requests = await credentialPool(plan, targets, opts.poolSize ?? opts.users)
    const expected = expectedOps(plan)
    return {
      plan,
      servers: measured,
      instanceUrls: urls,
      targets,
      balancerCpuUs: () => (balancer ? balancer.cpuUs() : null),
      instances: killable?.faults ?? null,
      requests,
      expected,
      credential,
      revocationProbe,
      close,
      storeRtt,
      proxyStats: async () => (proxy ? proxy.stats() : null),
      counts: async () => (opts.store ? opts.store.counts() : null),
      storeCpuUs: async () => (opts.store ? opts.store.cpuUs() : null),
      serverCpuCount: opts.serverCpuCount,
      expected401Share: expected401Share(plan),
      renewalBound: expected.renewals ? renewalWriteBound(opts.users + 1, plan.instances, opts.windowSeconds) : 0,
      readBound: plan.sessionCache ? cachedReadBound(opts.users + 1, plan.instances, opts.windowSeconds, plan.sessionCache) : null,
    }
  } catch (err) {
    await close()
    throw err
  }
}
