// A load driver in a process of its own (a host of a namespace topology): it runs closed-loop
// windows when its parent asks, over IPC, and answers autocannon's raw result (histograms encoded)
// with the cookies its clients hold afterwards, so the parent merges results and keeps the jar.
import type { LoadRequest } from '../contracts/client.ts'
import { driveRaw } from './closed.ts'

export interface DriveAsk { type: 'drive'; id: number; urls: string[]; requests: LoadRequest[]; connections: number; durationSeconds: number }
export interface DriveAnswer { type: 'result'; id: number; raw: unknown; cookies: (string | null)[] }

let current: AbortController | null = null

process.on('message', (m: DriveAsk | { type: 'stop' }) => {
  if (m.type === 'stop') {
    current?.abort()
    return
  }
  current = new AbortController()
  void driveRaw(m.urls, m.requests, m.connections, m.durationSeconds, current.signal, true).then((raw) => {
    process.send!({ type: 'result', id: m.id, raw, cookies: m.requests.map((r) => r.headers.cookie ?? null) } satisfies DriveAnswer)
  })
})
process.on('disconnect', () => process.exit(0))
process.send!({ type: 'ready' })
