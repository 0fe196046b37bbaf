import { UsageError } from './contracts/errors.ts'
import { loadTable, parseLoadArgs, type LoadArgs } from './drive/load-options.ts'
import { openLoop } from './drive/open.ts'
import type { LoadRequest } from './contracts/client.ts'

const USAGE = `usage: npm run load -- URL [--rate R] [--duration S] [--connections C] [--header "Name: value"]...
                     [--method GET|POST] [--body TEXT] [--arrivals constant|poisson] [--json]

  URL            http(s)://host:port/path to load (open loop: requests are sent on a schedule,
                 whatever the server does, and latency counts from each request's due time)
  --rate R       requests per second (default 1000)
  --duration S   seconds (default 10, at most 3600)
  --connections C  most keep-alive connections open at once (default 100)
  --header H     "Name: value", repeatable
  --method M     GET or POST (default GET)
  --body TEXT    request body (POST)
  --arrivals A   constant (request i due at i/R) or poisson (default constant)
  --json         print one JSON object instead of the table

exit codes: 0 the rate was held, 1 it was not (or requests failed), 2 bad arguments, 130 interrupted`

async function main(argv: string[]): Promise<number> {
  let args: LoadArgs
  try {
    args = parseLoadArgs(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`authbench load: ${err.message}\n${USAGE}\n`)
    return 2
  }
  const controller = new AbortController()
  process.once('SIGINT', () => controller.abort())
  process.once('SIGTERM', () => controller.abort())
  const url = new URL(args.url)
  const request: LoadRequest = {
    method: args.method,
    path: url.pathname + url.search,
    headers: {
      ...args.headers,
      ...(args.body !== undefined && !args.headers['content-type'] ? { 'content-type': 'application/json' } : {}),
    },
    ...(args.body !== undefined ? { body: args.body } : {}),
  }
  const result = await openLoop({
    urls: [url.origin],
    requests: [request],
    rate: args.rate,
    durationSeconds: args.durationSeconds,
    connections: args.connections,
    arrivals: args.arrivals,
    signal: controller.signal,
  })
  process.stdout.write(args.json ? `${JSON.stringify(result)}\n` : `${loadTable(result)}\n`)
  if (result.interrupted) return 130
  return result.held && result.errors === 0 ? 0 : 1
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`authbench load: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  },
)
