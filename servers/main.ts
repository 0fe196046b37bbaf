import { parseServerArgs } from './cli-config.ts'
import { ConfigError } from '../common/errors.ts'
import { ENGINE_SUPPORT, isLibrary } from '../common/kinds.ts'
import { serveStats } from './ipc.ts'
import { metricsRegistry, serveMetrics } from './prometheus.ts'
import { createServer, type Server } from './server.ts'

let config: ReturnType<typeof parseServerArgs>
try {
  config = parseServerArgs(process.argv.slice(2))
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`authbench server: ${err.message}\n`)
  process.exit(2)
}

let server: Server
try {
  server = await createServer(config, {
    metrics: true,
    exportMetrics: config.metricsPort !== null,
    ...(config.purgeIntervalMs === undefined ? {} : { purgeIntervalMs: config.purgeIntervalMs }),
  })
} catch (err) {
  process.stderr.write(`authbench server: ${err instanceof ConfigError ? '' : 'cannot start: '}${(err as Error).message}\n`)
  process.exit(err instanceof ConfigError ? 2 : 1)
}

let closeMetrics: (() => Promise<void>) | null = null
let stopping = false
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true
    // A close that hangs must not keep the process (and its port) alive.
    setTimeout(() => process.exit(code), 3000).unref()
    try {
      await closeMetrics?.()
      await server.close()
    } catch (err) {
      process.stderr.write(`authbench server: error while closing: ${(err as Error).message}\n`)
      code = code || 1
    }
    process.exit(code)
  }
  return new Promise<never>(() => {})
}

process.on('SIGTERM', () => void stop(0))
process.on('SIGINT', () => void stop(0))
process.on('disconnect', () => void stop(0))

let port = config.port
try {
  port = await server.app.listen({ host: config.host, port: config.port })
} catch (err) {
  process.stderr.write(`authbench server: cannot listen on ${config.host}:${config.port}: ${(err as Error).message}\n`)
  await stop(1)
}
process.stdout.write(`listening on http://${config.host}:${port}\n`)

let metricsPort: number | null = null
if (config.metricsPort !== null) {
  const jwt = config.strategy === 'jwt'
  const register = metricsRegistry(server.metrics!, {
    strategy: config.strategy,
    store: config.store,
    alg: jwt ? config.alg : 'none',
    engine: jwt ? config.engine : 'none',
    key_form: jwt && ENGINE_SUPPORT[config.engine].keyForms ? config.keyForm : 'none',
    verify_cache: jwt && ENGINE_SUPPORT[config.engine].verifyCache ? String(config.verifyCache) : 'none',
    session_cache:
      config.strategy !== 'session'
        ? 'none'
        : config.sessionCache
          ? `${config.sessionCache.entries}/${config.sessionCache.ttlSeconds}`
          : 'off',
    revocation: jwt ? config.revocation : 'none',
    framework: config.framework,
    session_library: config.strategy === 'session' ? config.sessionLibrary : 'none',
    preset: config.strategy === 'session' && isLibrary(config.sessionLibrary) ? config.preset : 'none',
  })
  try {
    const listener = await serveMetrics(register, config.host, config.metricsPort)
    metricsPort = listener.port
    closeMetrics = listener.close
  } catch (err) {
    process.stderr.write(`authbench server: cannot listen for metrics on ${config.host}:${config.metricsPort}: ${(err as Error).message}\n`)
    await stop(1)
  }
  process.stdout.write(`metrics on http://${config.host}:${metricsPort}/metrics\n`)
}

serveStats(port, server.metrics!, metricsPort)
