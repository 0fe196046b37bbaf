import { parseArgs } from 'node:util'
import { ConfigError } from '../common/errors.ts'
import { DEFAULT_CONFIG, type ServerConfig } from './server.ts'
import { POSTGRES_URL_PATTERN } from './stores/postgres.ts'
import { REDIS_CLUSTER_URL_PATTERN, REDIS_URL_PATTERN } from './stores/redis.ts'
import { ALGS, ENGINES, REVOCATIONS, STORES, STRATEGIES } from './types.ts'

export interface CliConfig extends ServerConfig {
  port: number
  host: string
  /** Port of the Prometheus listener (0: any free one); none when absent. */
  metricsPort: number | null
}

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
            'store',
            'alg',
            'engine',
            'revocation',
            'port',
            'host',
            'metrics-port',
            'redis-url',
            'redis-cluster-url',
            'postgres-url',
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
    store: oneOf('store', values.store, STORES, d.store),
    alg: oneOf('alg', values.alg, ALGS, d.alg),
    engine: oneOf('engine', values.engine, ENGINES, d.engine),
    revocation: oneOf('revocation', values.revocation, REVOCATIONS, d.revocation),
    port: integer('port', values.port, 0, 0, 65535),
    host: values.host ?? '127.0.0.1',
    metricsPort: values['metrics-port'] === undefined ? null : integer('metrics-port', values['metrics-port'], 0, 0, 65535),
    redisUrl: values['redis-url'] ?? env.REDIS_URL,
    redisClusterUrl: values['redis-cluster-url'] ?? env.REDIS_CLUSTER_URL,
    postgresUrl: values['postgres-url'] ?? env.POSTGRES_URL,
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
  }
  if (config.redisClusterUrl && !REDIS_CLUSTER_URL_PATTERN.test(config.redisClusterUrl)) {
    throw new ConfigError(`--redis-cluster-url must look like host:port,host:port; got "${config.redisClusterUrl}"`)
  }
  if (config.postgresUrl && !POSTGRES_URL_PATTERN.test(config.postgresUrl)) {
    throw new ConfigError(`--postgres-url must look like postgres://user@host:port/database; got "${config.postgresUrl}"`)
  }
  if (config.redisUrl && !REDIS_URL_PATTERN.test(config.redisUrl)) {
    throw new ConfigError(`--redis-url must look like redis://host:port; got "${config.redisUrl}"`)
  }
  if (config.strategy !== 'jwt' && (values.alg || values.engine || values.revocation === 'denylist')) {
    throw new ConfigError('--alg, --engine and --revocation apply to --strategy jwt only')
  }
  if (config.strategy !== 'jwt' && values['refresh-grace']) throw new ConfigError('--refresh-grace applies to --strategy jwt only')
  if (config.strategy !== 'cookie' && values['cookie-key']) throw new ConfigError('--cookie-key applies to --strategy cookie only')
  return config
}
