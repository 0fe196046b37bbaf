import { connect, createServer, type Socket } from 'node:net'
import { cpuUsage } from 'node:process'

/**
 * A TCP proxy that delays every chunk by half a round trip in each direction, in order, with
 * backpressure: the store at a distance. Run as its own process (forked by the harness, pinned
 * with the load generator): `delay-proxy-main.ts TARGET_HOST TARGET_PORT RTT_MS`. It prints
 * `listening on PORT` when ready and answers `{ type: 'stats' }` over IPC with its CPU time and
 * the chunks it forwarded.
 *
 * Timers fire about a millisecond late, so a chunk due within SPIN_MS is waited for by polling
 * every turn of the event loop (setImmediate): precise to tens of µs, at the price of a busy
 * core while anything is in flight. That cost is measured and reported.
 */
const SPIN_MS = 1.5
/** Bytes held per direction before the sending side is paused. */
const HIGH_WATER = 1 << 20

const [host, portText, rttText] = process.argv.slice(2)
const half = Number(rttText) / 2
if (!host || !Number.isInteger(Number(portText)) || !(half >= 0)) {
  process.stderr.write('usage: delay-proxy-main.ts TARGET_HOST TARGET_PORT RTT_MS\n')
  process.exit(2)
}

interface Lane {
  to: Socket
  from: Socket
  queue: { at: number; chunk: Buffer }[]
  bytes: number
  ended: boolean
}
const lanes = new Set<Lane>()
let forwarded = 0
let armed: 'timer' | 'spin' | null = null
let timer: NodeJS.Timeout | null = null

function flush(): void {
  armed = null
  timer = null
  const now = performance.now()
  let next = Infinity
  for (const lane of lanes) {
    while (lane.queue.length > 0 && lane.queue[0]!.at <= now) {
      const { chunk } = lane.queue.shift()!
      lane.bytes -= chunk.length
      forwarded++
      if (!lane.to.destroyed) lane.to.write(chunk)
    }
    if (lane.bytes < HIGH_WATER && lane.from.isPaused()) lane.from.resume()
    if (lane.queue.length > 0) next = Math.min(next, lane.queue[0]!.at)
    else if (lane.ended) {
      lane.to.end()
      lanes.delete(lane)
    }
  }
  arm(next)
}

function arm(next: number): void {
  if (next === Infinity) return
  const wait = next - performance.now()
  if (wait <= SPIN_MS) {
    if (armed === 'spin') return
    if (timer) clearTimeout(timer)
    armed = 'spin'
    setImmediate(flush)
  } else if (armed === null) {
    armed = 'timer'
    timer = setTimeout(flush, wait - SPIN_MS)
  }
}

function lane(from: Socket, to: Socket): void {
  const l: Lane = { from, to, queue: [], bytes: 0, ended: false }
  lanes.add(l)
  from.on('data', (chunk: Buffer) => {
    const at = performance.now() + half
    l.queue.push({ at, chunk })
    l.bytes += chunk.length
    if (l.bytes >= HIGH_WATER) from.pause()
    if (half === 0) flush()
    else arm(at)
  })
  from.on('end', () => {
    l.ended = true
    arm(performance.now())
  })
  // A peer gone for good: what was still in flight to it is dropped with it.
  from.on('close', () => {
    if (to.destroyed) lanes.delete(l)
  })
}

const server = createServer((client) => {
  client.setNoDelay(true)
  const upstream = connect({ host, port: Number(portText) })
  upstream.setNoDelay(true)
  const close = () => {
    client.destroy()
    upstream.destroy()
  }
  client.on('error', close)
  upstream.on('error', close)
  client.on('close', close)
  upstream.on('close', close)
  lane(client, upstream)
  lane(upstream, client)
})

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number }
  process.stdout.write(`listening on ${port}\n`)
  process.send?.({ port })
})

process.on('message', (m: { type?: string; id?: number }) => {
  if (m?.type !== 'stats') return
  const { user, system } = cpuUsage()
  process.send?.({ type: 'stats', id: m.id, cpuUs: user + system, forwarded })
})
const stop = () => {
  server.close()
  for (const l of lanes) {
    l.from.destroy()
    l.to.destroy()
  }
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.on('disconnect', stop)
