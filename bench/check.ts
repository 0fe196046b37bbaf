import type { ExpectedOps, RoundMeasurement } from './contracts/results.ts'

const near = (a: number, b: number) => Math.abs(a - b) < 1e-9

/**
 * Why a round is not a valid measurement, or null when it is. `renewalBound` is the most session
 * renewal writes the window may hold (see renewalWriteBound); 0 where there are none. `readBound`,
 * for a cell whose state reads are cached (`expected.cachedReads`), the most state reads it may hold
 * (see cachedReadBound; null: one a request).
 */
export function checkRound(
  r: Pick<
    RoundMeasurement,
    | 'round'
    | 'requests'
    | 'errors'
    | 'timeouts'
    | 'statusCounts'
    | 'storeOpsPerRequest'
    | 'redisCommandsPerRequest'
    | 'unsettledRequests'
    | 'failedAnswers'
  >,
  expected: ExpectedOps,
  expected401Share: number,
  renewalBound = 0,
  readBound: number | null = null,
): string | null {
  const problems: string[] = []
  if (r.requests === 0) problems.push('no request was served')
  if (r.errors > 0 || r.timeouts > 0) problems.push(`${r.errors} connection errors, ${r.timeouts} timeouts`)
  const unexpected = Object.entries(r.statusCounts)
    .filter(([code]) => !code.startsWith('2') && !(expected401Share > 0 && code === '401'))
    .map(([code, n]) => `${n} x ${code}`)
  if (unexpected.length > 0) problems.push(`non-2xx answers: ${unexpected.join(', ')}`)
  // A 5xx whose client had gone (the load stopped while the store was late) is seen only by the servers.
  const seen5xx = Object.entries(r.statusCounts).reduce((n, [code, k]) => n + (code.startsWith('5') ? k : 0), 0)
  const unseen = (r.failedAnswers ?? 0) - seen5xx
  if (unseen > 0) problems.push(`${unseen} x 5xx answered by the servers to clients that had gone`)
  // Their store operations fall on either side of an edge, so no count below is exact.
  if ((r.unsettledRequests ?? 0) > 0) problems.push(`${r.unsettledRequests} requests still in their handlers at the window's edges`)
  const want = { reads: expected.stateReads + expected.userReads, writes: expected.writes, deletes: expected.deletes }
  for (const k of ['reads', 'writes', 'deletes'] as const) {
    if (k === 'reads' && expected.cachedReads) {
      const stateReads = Math.round((r.storeOpsPerRequest.reads - expected.userReads) * r.requests)
      const most = readBound ?? expected.stateReads * r.requests
      if (stateReads < 0 || stateReads > most)
        problems.push(`store state reads: counted ${stateReads}, outside the 0 to ${most} the session cache allows`)
      continue
    }
    if (k === 'writes' && expected.renewals) {
      const writes = Math.round(r.storeOpsPerRequest.writes * r.requests)
      if (writes > renewalBound)
        problems.push(`store writes: counted ${writes}, more than the ${renewalBound} session renewals the window allows`)
      continue
    }
    if (!near(r.storeOpsPerRequest[k], want[k])) {
      problems.push(`store ${k} per request: counted ${r.storeOpsPerRequest[k].toFixed(4)}, expected ${want[k]}`)
    }
  }
  // The store's own counts (Redis's INFO commandstats, PostgreSQL's pg_stat_statements): its reads are the state reads (users
  // live in SQLite); every write and delete is the store's.
  const redis = r.redisCommandsPerRequest
  if (redis) {
    // A cached cell's reads are bounded, not known: the store must have seen exactly the state reads the servers counted.
    const stateReads = expected.cachedReads ? r.storeOpsPerRequest.reads - expected.userReads : expected.stateReads
    const external = { reads: stateReads, writes: r.storeOpsPerRequest.writes, deletes: r.storeOpsPerRequest.deletes }
    for (const k of ['reads', 'writes', 'deletes'] as const) {
      if (!near(redis[k], external[k]))
        problems.push(
          `the store's own count of ${k} per request (its statistics): ${redis[k].toFixed(4)}, expected ${Number(external[k].toFixed(4))}`,
        )
    }
  }
  return problems.length > 0 ? `round ${r.round}: ${problems.join('; ')}` : null
}
