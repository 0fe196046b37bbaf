// The open loop's comparisons at equal offered load: p99 and CPU per request, each token or sealed cookie against each session.
import type { CellResult, ResultsFile } from '../contracts/results.ts'
import { times, us } from '../format.ts'
import { descriptorOf } from '../strategies/index.ts'
import { bandVerdict, comparisonFields, EQUIVALENCE, label, okCells, scopeOf, WHERE, type Finding } from './verdict.ts'

/**
 * At each fixed rate (equal load), each client-state cell against each server-side session:
 * p99 and CPU per request, paired round by round, stated as ahead only where the interval of the
 * per-round ratios excludes ±5%.
 */
export function openLoopFindings(results: ResultsFile): Finding[] {
  const ok = okCells(results)
  const out: Finding[] = []
  const rates = [...new Set(ok.flatMap((c) => (c.openLoop ?? []).filter((o) => o.fraction === null).map((o) => o.rate)))].sort(
    (a, b) => a - b,
  )
  const at = (c: CellResult, rate: number) => c.openLoop?.find((o) => o.fraction === null && o.rate === rate)
  const ms = (v: number) => `${(v / 1000).toFixed(2)} ms`
  const servers = ok.filter((c) => descriptorOf(c).state === 'server' && c.instances === 1)
  const clients = ok.filter((c) => descriptorOf(c).state === 'client' && c.instances === 1)
  for (const rate of rates) {
    for (const s of servers.filter((x) => at(x, rate))) {
      for (const j of clients.filter((x) => at(x, rate))) {
        const a = at(j, rate)!
        const b = at(s, rate)!
        const pair = (pick: (r: (typeof a.rounds)[number]) => number) =>
          a.rounds.flatMap((r) => {
            const y = b.rounds.find((x) => x.round === r.round)
            return y && pick(y) > 0 && r.held && y.held ? [pick(r) / pick(y)] : []
          })
        const p99 = pair((r) => r.latencyUs.p99)
        const cpu = pair((r) => r.cpuUsPerRequest + (r.storeCpuUsPerRequest ?? 0))
        const scope = scopeOf(s, 'open')
        const r = `${rate.toLocaleString('en-US')} requests/s`
        for (const [kind, values, what] of [
          ['latency', p99, 'p99 latency'],
          ['cpu-equal-load', cpu, 'CPU per request (servers and store)'],
        ] as const) {
          if (values.length === 0) continue
          const p = bandVerdict(values)
          const ahead = p.verdict === 'higher' || p.verdict === 'lower'
          out.push({
            id: `${kind}-${rate}-${j.id}-vs-${s.id}`,
            kind,
            cells: [j.id, s.id],
            sentence: ahead
              ? `At ${r} (open loop, equal load), ${label(j)} had ${times(p.median)} the ${what} of ${label(s)} (${WHERE[scope.store]}).`
              : p.verdict === 'equal'
                ? `At ${r} (open loop, equal load), ${label(j)} and ${label(s)} had the same ${what} within ${EQUIVALENCE * 100}% ` +
                  `(${times(p.median)}, interval ${times(p.interval[0])}–${times(p.interval[1])}).`
                : `At ${r} (open loop, equal load), this run could not tell the ${what} of ${label(j)} and of ${label(s)} apart ` +
                  `or call them equal (${times(p.median)}, interval ${times(p.interval[0])}–${times(p.interval[1])}).`,
            figures:
              kind === 'latency'
                ? { [`${j.id}.p99Us`]: a.latencyUs.p99, [`${s.id}.p99Us`]: b.latencyUs.p99, rounds: values.length }
                : { [`${j.id}.cpuUs`]: a.cpuUsPerRequest, [`${s.id}.cpuUs`]: b.cpuUsPerRequest, rounds: values.length },
            detail:
              kind === 'latency'
                ? `p99 per round: ${j.id} ${a.rounds.map((x) => ms(x.latencyUs.p99)).join(', ')}; ${s.id} ${b.rounds
                    .map((x) => ms(x.latencyUs.p99))
                    .join(', ')}; p50 ${ms(a.latencyUs.p50)} vs ${ms(b.latencyUs.p50)}; rounds where the driver held both rates only`
                : `servers' CPU per request at this rate ${us(a.cpuUsPerRequest)} vs ${us(b.cpuUsPerRequest)} (medians; the ` +
                  `session's store process added per round)`,
            ...comparisonFields(p, kind === 'latency' ? 'p99' : 'cpu'),
            scope,
          })
        }
      }
    }
  }
  return out
}
