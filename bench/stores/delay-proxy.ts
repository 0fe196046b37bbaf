import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { ServerStartError } from '../../common/errors.ts'
import { pinned } from '../affinity.ts'
import { runnable } from '../../common/compiled.ts'
import { stopChild, type ProcessGroup } from '../processes.ts'
import { median } from '../stats.ts'

const MAIN = fileURLToPath(new URL('./delay-proxy-main.ts', import.meta.url))

/** A running delay proxy in front of a Redis. */
export interface DelayProxy {
  /** `redis://127.0.0.1:PORT`: where the servers connect instead. */
  url: string
  rttMs: number
  /** Its CPU µs and the chunks it has forwarded so far. */
  stats(): Promise<{ cpuUs: number; forwarded: number }>
  stop(): Promise<void>
}

/** Starts a proxy adding `rttMs` (half each way) in front of the Redis at `target`, as its own process on `cpus`. */
export function startDelayProxy(target: string, rttMs: number, group: ProcessGroup, cpus: string | null = null): Promise<DelayProxy> {
  const { hostname, port } = new URL(target)
  const [command, argv] = pinned(cpus, process.execPath, [...runnable(MAIN), hostname, port, String(rttMs)])
  const child = group.track(spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }))
  let stderr = ''
  child.stderr!.on('data', (d) => {
    stderr = (stderr + d).slice(-2000)
  })
  child.stdout!.resume()
  let nextId = 0
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopChild(child)
      reject(new ServerStartError(`the delay proxy did not start within 15 s\n${stderr}`))
    }, 15_000)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new ServerStartError(`the delay proxy exited with ${signal ?? code}: ${stderr.trim()}`))
    })
    child.once('message', (m: { port?: number }) => {
      clearTimeout(timer)
      resolve({
        url: `redis://127.0.0.1:${m.port}`,
        rttMs,
        stats: () =>
          new Promise((res, rej) => {
            const id = ++nextId
            const onMessage = (msg: { type?: string; id?: number; cpuUs: number; forwarded: number }) => {
              if (msg?.type !== 'stats' || msg.id !== id) return
              child.off('message', onMessage)
              res({ cpuUs: msg.cpuUs, forwarded: msg.forwarded })
            }
            child.on('message', onMessage)
            if (!child.send({ type: 'stats', id })) rej(new Error('the delay proxy is gone'))
          }),
        stop: () => stopChild(child),
      })
    })
  })
}

/**
 * Median round trip of `count` sequential PINGs to a Redis at `url` over one connection, µs:
 * through a proxy and straight to Redis, their difference is the round trip the proxy adds.
 */
export function pingRoundTripUs(url: string, count = 200): Promise<number> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) })
    socket.setNoDelay(true)
    const times: number[] = []
    let sentAt = 0
    let buffered = ''
    const ping = () => {
      sentAt = performance.now()
      socket.write('PING\r\n')
    }
    socket.on('connect', ping)
    socket.on('data', (d) => {
      buffered += d.toString()
      if (!buffered.includes('+PONG\r\n')) return
      buffered = ''
      times.push((performance.now() - sentAt) * 1000)
      if (times.length < count) ping()
      else {
        socket.end()
        resolve(median(times))
      }
    })
    socket.on('error', reject)
  })
}
