// A load driver in a process of its own (a host of a namespace topology): it runs closed-loop or
// open-loop windows when its parent asks, over IPC, and answers what the parent needs to merge
// them exactly: autocannon's raw result (histograms encoded) with the cookies its clients hold
// afterwards, or the open loop's result with its histograms.
import type { LoadRequest } from '../contracts/client.ts'
import { driveRaw } from './closed.ts'
import { openLoop, type OpenLoopOptions, type OpenLoopResult } from './open.ts'

export interface DriveAsk {
  type: 'drive'
  id: number
  urls: string[]
  requests: LoadRequest[]
  connections: number
  durationSeconds: number
}
export interface OpenAsk {
  type: 'open'
  id: number
  opts: Omit<OpenLoopOptions, 'signal'>
}
export type DriverAnswer =
  | { type: 'result'; id: number; raw: unknown; cookies: (string | null)[] }
  | { type: 'open-result'; id: number; result: OpenLoopResult }

let current: AbortController | null = null

process.on('message', (m: DriveAsk | OpenAsk | { type: 'stop' }) => {
  if (m.type === 'stop') {
    current?.abort()
    return
  }
  current = new AbortController()
  const signal = current.signal
  if (m.type === 'open') {
    void openLoop({ ...m.opts, signal }).then((result) => process.send!({ type: 'open-result', id: m.id, result } satisfies DriverAnswer))
    return
  }
  void driveRaw(m.urls, m.requests, m.connections, m.durationSeconds, signal, true).then((raw) => {
    process.send!({ type: 'result', id: m.id, raw, cookies: m.requests.map((r) => r.headers.cookie ?? null) } satisfies DriverAnswer)
  })
})
process.on('disconnect', () => process.exit(0))
process.send!({ type: 'ready' })
