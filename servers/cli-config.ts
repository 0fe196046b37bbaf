import { parseArgs } from 'node:util'
import { ConfigError } from '../common/errors.ts'
import { DEFAULT_CONFIG, type ServerConfig } from './server.ts'
import { stores } from './stores/index.ts'
import {
  ENGINE_SUPPORT,
  engineRunsOn,
  FASTIFY_ONLY,
  isLibrary,
  libraryHasStore,
  libraryRunsOn,
  PRESETS,
  SESSION_LIBRARIES,
  SESSION_LIBRARY_SUPPORT,
} from '../common/kinds.ts'
import { ALGS, ENGINES, FRAMEWORKS, KEY_FORMS, REVOCATIONS, STORES, STRATEGIES } from './types.ts'

export interface CliConfig extends ServerConfig {
  port: number
  host: string
  /** Port of the Prometheus listener (0: any free one); none when absent. */
  metricsPort: number | null
  /** How often expired state is purged (`--purge-interval-ms`); the server's default when absent. */
  purgeIntervalMs?: number
}

/** Every store's address flag (`--redis-url`, ...), with the store it belongs to. */
const ADDRESSES = STORES.flatMap((kind) => {
  const address = stores[kind].address
  return address ? [{ kind, ...address }] : []
})

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback?: T): T {
  if (value === undefined) {
    if (fallback === undefined) throw new ConfigError(`--${flag} is required (one of ${allowed.join(', ')})`)
    return fallback
  }
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`--${flag} must be one of ${allowed.join(', ')}; got "${value}"`)
  }
  return value as T
}

function integer(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`--${flag} must be an integer from ${min} to ${max}; got "${value}"`)
  }
  return n
}

/** Parses the server flags (docs/contracts.md, "Server flags"); throws ConfigError naming the flag. */
export function parseServerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliConfig {
  let values: Record<string, string | undefined>
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'trace-sql': { type: 'boolean' as const },
        ...Object.fromEntries(
          [
            'strategy',
            'framework',
            'store',
            'session-library',
            'preset',
            'session-secret',
            'alg',
            'engine',
            'key-form',
            'verify-cache',
            'revocation',
            'session-cache',
            'session-cache-ttl',
            'port',
            'host',
            'metrics-port',
            ...ADDRESSES.map((a) => a.flag),
            'db',
            'jwt-secret',
            'key-file',
            'cookie-key',
            'access-ttl',
            'refresh-ttl',
            'session-idle-ttl',
            'session-absolute-ttl',
            'refresh-grace',
            'users',
            'hash-cost',
            'calibrate-burn-us',
            'calibrate-wait-ms',
            'store-timeout-ms',
            'purge-interval-ms',
          ].map((name) => [name, { type: 'string' as const }]),
        ),
      },
    }).values as Record<string, string | undefined>
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  const d = DEFAULT_CONFIG
  const config: CliConfig = {
    strategy: oneOf('strategy', values.strategy, STRATEGIES),
    framework: oneOf('framework', values.framework, FRAMEWORKS, d.framework),
    store: oneOf('store', values.store, STORES, d.store),
    sessionLibrary: oneOf('session-library', values['session-library'], SESSION_LIBRARIES, d.sessionLibrary),
    preset: oneOf('preset', values.preset, PRESETS, d.preset),
    sessionSecret: values['session-secret'],
    alg: oneOf('alg', values.alg, ALGS, d.alg),
    engine: oneOf('engine', values.engine, ENGINES, d.engine),
    keyForm: oneOf('key-form', values['key-form'], KEY_FORMS, d.keyForm),
    verifyCache: integer('verify-cache', values['verify-cache'], d.verifyCache, 0, 1_000_000),
    revocation: oneOf('revocation', values.revocation, REVOCATIONS, d.revocation),
    port: integer('port', values.port, 0, 0, 65535),
    host: values.host ?? '127.0.0.1',
    metricsPort: values['metrics-port'] === undefined ? null : integer('metrics-port', values['metrics-port'], 0, 0, 65535),
    db: values.db,
    jwtSecret: values['jwt-secret'],
    keyFile: values['key-file'],
    cookieKey: values['cookie-key'],
    accessTtlSeconds: integer('access-ttl', values['access-ttl'], d.accessTtlSeconds, 1, 31_536_000),
    refreshTtlSeconds: integer('refresh-ttl', values['refresh-ttl'], d.refreshTtlSeconds, 1, 31_536_000),
    sessionIdleTtlSeconds: integer('session-idle-ttl', values['session-idle-ttl'], d.sessionIdleTtlSeconds, 1, 31_536_000),
    sessionAbsoluteTtlSeconds: integer('session-absolute-ttl', values['session-absolute-ttl'], d.sessionAbsoluteTtlSeconds, 1, 31_536_000),
    refreshGraceSeconds: integer('refresh-grace', values['refresh-grace'], d.refreshGraceSeconds, 0, 300),
    users: integer('users', values.users, d.users, 1, 10_000_000),
    hashCost: integer('hash-cost', values['hash-cost'], d.hashCost, 4, 20),
    traceSql: values['trace-sql'] !== undefined,
    sessionCache: null,
  }
  if (values['purge-interval-ms'] !== undefined)
    config.purgeIntervalMs = integer('purge-interval-ms', values['purge-interval-ms'], 0, 1000, 86_400_000)
  if (values['store-timeout-ms'] !== undefined)
    config.storeTimeoutMs = integer('store-timeout-ms', values['store-timeout-ms'], 0, 1, 600_000)
  if (values['calibrate-burn-us'] !== undefined || values['calibrate-wait-ms'] !== undefined) {
    config.calibrate = {
      burnUs: integer('calibrate-burn-us', values['calibrate-burn-us'], 0, 0, 1_000_000),
      waitMs: integer('calibrate-wait-ms', values['calibrate-wait-ms'], 0, 0, 60_000),
    }
  }
  // Every address given is checked, whichever store this server runs; the server's own store takes its one.
  for (const a of ADDRESSES) {
    const url = values[a.flag] ?? env[a.env]
    if (url && !a.pattern.test(url)) throw new ConfigError(`--${a.flag} must look like ${a.looksLike}; got "${url}"`)
    if (a.kind === config.store) config.storeUrl = url
  }
  if (config.strategy !== 'jwt' && (values.alg || values.engine || values['key-form'] || values.revocation === 'denylist')) {
    throw new ConfigError('--alg, --engine, --key-form and --revocation apply to --strategy jwt only')
  }
  const support = ENGINE_SUPPORT[config.engine]
  if (values['key-form'] && !support.keyForms) {
    const takers = ENGINES.filter((e) => ENGINE_SUPPORT[e].keyForms)
    throw new ConfigError(`--key-form applies to --engine ${takers.join(', ')} only; got --engine ${config.engine}`)
  }
  if (config.strategy !== 'jwt' && values['verify-cache']) throw new ConfigError('--verify-cache applies to --strategy jwt only')
  if (values['verify-cache'] && !support.verifyCache) {
    const takers = ENGINES.filter((e) => ENGINE_SUPPORT[e].verifyCache)
    throw new ConfigError(`--verify-cache applies to --engine ${takers.join(', ')} only; got --engine ${config.engine}`)
  }
  if (config.strategy === 'jwt' && !(support.algs as readonly string[]).includes(config.alg)) {
    throw new ConfigError(`--engine ${config.engine} signs ${support.algs.join(', ')}, not --alg ${config.alg}`)
  }
  if (config.strategy !== 'jwt' && values['refresh-grace']) throw new ConfigError('--refresh-grace applies to --strategy jwt only')
  if (config.framework !== 'fastify' && FASTIFY_ONLY.includes(config.strategy)) {
    throw new ConfigError(
      `--strategy ${config.strategy} runs on --framework fastify only (a Fastify plugin); got --framework ${config.framework}`,
    )
  }
  if (config.strategy === 'jwt' && !engineRunsOn(config.engine, config.framework)) {
    throw new ConfigError(
      `--engine ${config.engine} runs on --framework fastify only (a Fastify plugin); got --framework ${config.framework}`,
    )
  }
  sessionLibraryChecks(config, values)
  const cacheEntries = integer('session-cache', values['session-cache'], 0, 0, 1_000_000)
  if (cacheEntries > 0 || values['session-cache-ttl'] !== undefined) {
    if (config.strategy !== 'session') throw new ConfigError('--session-cache and --session-cache-ttl apply to --strategy session only')
    if (config.sessionLibrary !== 'authbench')
      throw new ConfigError(
        `--session-cache applies to the reference session (--session-library authbench) only; got ${config.sessionLibrary}`,
      )
    if (cacheEntries === 0) throw new ConfigError('--session-cache-ttl needs --session-cache N (entries, at least 1)')
    if (values['session-cache-ttl'] === undefined) throw new ConfigError('--session-cache N needs --session-cache-ttl S (seconds)')
    config.sessionCache = { entries: cacheEntries, ttlSeconds: integer('session-cache-ttl', values['session-cache-ttl'], 0, 1, 86_400) }
  }
  if (config.strategy !== 'cookie' && values['cookie-key']) throw new ConfigError('--cookie-key applies to --strategy cookie only')
  return config
}

/** A session library's flags: session strategy only, the preset and secret with a library only, on its framework and stores. */
function sessionLibraryChecks(config: CliConfig, values: Record<string, string | undefined>): void {
  if (config.strategy !== 'session' && values['session-library'])
    throw new ConfigError('--session-library applies to --strategy session only')
  const library = config.sessionLibrary
  if (!isLibrary(library)) {
    for (const flag of ['preset', 'session-secret'])
      if (values[flag])
        throw new ConfigError(`--${flag} applies to a library session only (--session-library fastify-session or express-session)`)
    return
  }
  if (!libraryRunsOn(library, config.framework))
    throw new ConfigError(
      `--session-library ${library} runs on --framework ${SESSION_LIBRARY_SUPPORT[library].frameworks.join(', ')} only; ` +
        `got --framework ${config.framework}`,
    )
  if (!libraryHasStore(library, config.store))
    throw new ConfigError(
      `--session-library ${library} has an adapter for --store ${SESSION_LIBRARY_SUPPORT[library].stores.join(', ')} only; ` +
        `got --store ${config.store}`,
    )
}
