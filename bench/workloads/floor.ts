// The load driver's own latency floor: the open-loop driver against a server that answers at once
// (node:http, pinned where the app servers run), at a grid of rates, in every round of an open-loop
// run. The fleet model takes it as everything outside the app at each rate: the driver, the
// kernel's loopback, HTTP parsing on both sides, and a server that sleeps between requests waking
// up for each (docs/model.md, "What feeds the model").
import type { FloorMeasurement, FloorPoint } from '../contracts/results.ts'
import type { RunEvent } from '../contracts/events.ts'
import type { Scenario } from '../contracts/scenario.ts'
import { startKnownServer } from '../drive/known-servers.ts'
import { openLoop } from '../drive/open.ts'
import { openOptions } from '../collect.ts'
import { newHistogram } from '../../common/histogram.ts'
import { median } from '../stats.ts'
import type { TurnContext } from './turn.ts'

/** Rates the floor is measured at (with the scenario's own fixed rates); a smoke run takes two. */
const FLOOR_RATES = [500, 1000, 2000, 4000, 8000, 16000]
const SMOKE_FLOOR_RATES = [1000, 8000]

export function floorRates(s: Scenario, smoke: boolean): number[] {
  return [...new Set([...(smoke ? SMOKE_FLOOR_RATES : FLOOR_RATES), ...(s.load.rates ?? [])])].sort((a, b) => a - b)
}

/** Whether this run can measure the floor where its servers run: on this machine, with the harness's own driver. */
export const floorApplies = (ctx: TurnContext) => !ctx.opts.targets && !ctx.opts.openDriver && ctx.prepare(ctx.baseline).placement === null

const GET = [{ method: 'GET' as const, path: '/', headers: {} }]

/** One round's floor: a warm-up, then a window at each rate. */
export async function measureFloor(round: number, ctx: TurnContext): Promise<void> {
  const {
    scenario: { load },
    opts,
  } = ctx
  const server = await startKnownServer({ kind: 'delay', ms: 0 }, { cpus: ctx.prepare(ctx.baseline).serverCpus, group: opts.group })
  const times = async () => JSON.parse(await (await fetch(`${server.url}/__times`)).text()) as number[]
  try {
    const window = (rate: number, durationSeconds: number) =>
      openLoop(openOptions([server.url], GET, rate, durationSeconds, load, round, opts.signal))
    await window(1000, 0.5)
    await times()
    for (const rate of floorRates(ctx.scenario, opts.smoke)) {
      if (opts.signal.aborted) return
      const cpuBefore = server.cpuUs()
      const r = await window(rate, load.durationSeconds)
      const cpuAfter = server.cpuUs()
      const own = newHistogram()
      for (const us of await times()) own.recordValue(Math.max(1, us))
      const measurement: FloorMeasurement = {
        round,
        rate,
        achievedRate: r.achievedRate,
        latencyUs: r.latencyUs,
        sendLagUs: r.sendLagUs,
        serverTimeUs: { p50: own.getValueAtPercentile(50), p99: own.getValueAtPercentile(99) },
        latencyHistogram: r.histograms.latency,
        held: r.held,
        cpuUsPerRequest: cpuBefore === null || cpuAfter === null || r.completed === 0 ? null : (cpuAfter - cpuBefore) / r.completed,
      }
      ctx.emit({ type: 'floor-measured', round, measurement })
    }
  } finally {
    await server.close()
  }
}

type FloorMeasured = Extract<RunEvent, { type: 'floor-measured' }>

/** The floor's points, one per rate: each figure the median over its rounds, the histogram the typical round's. */
export function floorPoints(events: RunEvent[]): FloorPoint[] {
  const by = new Map<number, FloorMeasurement[]>()
  for (const e of events)
    if (e.type === 'floor-measured') by.set(e.measurement.rate, [...(by.get(e.measurement.rate) ?? []), (e as FloorMeasured).measurement])
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([rate, ms]) => {
      // The round whose p99 is the median's (the lower middle of an even count): its distribution reads as the cells' points do, medians over rounds.
      const typical = [...ms].sort((a, b) => a.latencyUs.p99 - b.latencyUs.p99)[Math.floor((ms.length - 1) / 2)]!
      const med = (pick: (m: FloorMeasurement) => number) => median(ms.map(pick))
      return {
        rate,
        achievedRate: med((m) => m.achievedRate),
        latencyUs: {
          p50: med((m) => m.latencyUs.p50),
          p90: med((m) => m.latencyUs.p90),
          p99: med((m) => m.latencyUs.p99),
          max: Math.max(...ms.map((m) => m.latencyUs.max)),
        },
        serverTimeUs: { p50: med((m) => m.serverTimeUs.p50), p99: med((m) => m.serverTimeUs.p99) },
        sendLagP99Us: med((m) => m.sendLagUs.p99),
        cpuUsPerRequest: ms.every((m) => m.cpuUsPerRequest !== null) ? med((m) => m.cpuUsPerRequest!) : null,
        heldRounds: ms.filter((m) => m.held).length,
        rounds: ms.length,
        latencyHistogram: typical.latencyHistogram,
      }
    })
}
