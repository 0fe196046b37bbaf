// Counted things every closed or open run states as facts: store reads, a session's store writes, bytes, what logout does, what several instances did.
import { fleetFindings } from './fleet.ts'
import type { CellResult, ResultsFile } from '../contracts/results.ts'
import { workloadKind } from '../contracts/scenario.ts'
import { num, percent } from '../format.ts'
import { storeDescriptors } from '../stores/index.ts'
import { descriptorOf } from '../strategies/index.ts'
import { renewalIntervalMs, renewalWritesPerRequest, SERVER_DEFAULTS } from '../server-defaults.ts'
import { FACT, label, list, okCells, presentsCredential, type Scope, scopeOf, type Finding } from './verdict.ts'

const groupBy = <T>(xs: T[], key: (x: T) => string): Map<string, T[]> => {
  const m = new Map<string, T[]>()
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x])
  return m
}

/** Counted things: store reads, bytes, what logout does, what several instances did. */
export function factFindings(results: ResultsFile): Finding[] {
  const ok = okCells(results)
  const loop = workloadKind(results.scenario)
  const out: Finding[] = []
  const reads = (c: CellResult) => c.summary!.storeOpsPerRequest.reads
  const base = ok.find((c) => c.id === results.scenario.baseline)
  const single = ok.filter((c) => c.instances === 1 && descriptorOf(c).state !== 'none')
  // Reads and bytes answer the questions of requests that present a credential; a login's cost is its hash and its writes, which the CPU findings carry.
  if (single.length && presentsCredential(results)) {
    const extra = (c: CellResult) => reads(c) - (base ? reads(base) : 0)
    const route = results.scenario.workload.route
    const reading = single.filter((c) => extra(c) > 0.0005)
    const none = single.filter((c) => extra(c) <= 0.0005)
    out.push({
      id: 'store-reads',
      kind: 'store-reads',
      cells: single.map((c) => c.id),
      sentence: `On ${route}, counted per request${base ? ` beyond the baseline's ${num(reads(base), 3)}` : ''}: ${[
        ...reading.map((c) => `${label(c)} read its store ${num(extra(c), 3)} times`),
        ...(none.length ? [`${list(none.map(label))} did not read it`] : []),
      ].join('; ')}.`,
      figures: Object.fromEntries(single.map((c) => [c.id, reads(c)])),
      detail: single.map((c) => `${c.id} ${num(reads(c), 3)} reads/request`).join('; '),
      ...FACT,
      scope: { store: 'none', storeRttMs: null, instances: 1, route, loop },
    })
  }
  const carried = single.filter((c) => c.credential && c.credential.kind !== 'none')
  if (carried.length >= 2 && presentsCredential(results)) {
    out.push({
      id: 'bytes',
      kind: 'bytes',
      cells: carried.map((c) => c.id),
      sentence: `What each request carries: ${carried
        .map(
          (c) =>
            `${label(c)} ${c.credential!.bytes} bytes in ` +
            `its ${c.credential!.header} header (${c.credential!.clientReadable ? 'readable by the client' : 'opaque to the client'})`,
        )
        .join('; ')}.`,
      figures: Object.fromEntries(
        carried.flatMap((c) => [
          [`${c.id}.credentialBytes`, c.credential!.bytes],
          [`${c.id}.requestBytes`, c.summary!.bytesPerRequest.request],
          [`${c.id}.responseBytes`, c.summary!.bytesPerRequest.response],
        ]),
      ),
      detail: carried
        .map(
          (c) =>
            `${c.id}: requests ${num(c.summary!.bytesPerRequest.request, 0)} bytes, answers ${num(c.summary!.bytesPerRequest.response, 0)} bytes`,
        )
        .join('; '),
      ...FACT,
      scope: { store: 'none', storeRttMs: null, instances: 1, route: results.scenario.workload.route, loop },
    })
  }
  if (single.length && presentsCredential(results)) out.push(...storeWrites(results, single, loop))
  const probed = ok.filter((c) => c.revocationProbe && descriptorOf(c).state !== 'none')
  if (probed.length) {
    const ended = probed.filter((c) => c.revocationProbe!.keepsWorkingSeconds === 0)
    const lingering = probed.filter((c) => c.revocationProbe!.keepsWorkingSeconds !== 0)
    out.push({
      id: 'logout',
      kind: 'logout',
      cells: probed.map((c) => c.id),
      sentence: `After logout, ${[
        ...(ended.length ? [`${list(ended.map(label))} refused a copy of the credential at once`] : []),
        // Cells whose copies live alike are named together.
        ...[...groupBy(lingering, (c) => descriptorOf(c).label.copyLives(c, c.revocationProbe!.keepsWorkingSeconds))].map(
          ([lives, cs]) => `with ${list(cs.map(label))} a copy kept working ${lives}`,
        ),
      ].join('; ')}.`,
      figures: Object.fromEntries(probed.map((c) => [c.id, c.revocationProbe!.keepsWorkingSeconds])),
      detail: probed.map((c) => `${c.id}: GET /me after logout ${c.revocationProbe!.statusAfterLogout.join(', ')}`).join('; '),
      ...FACT,
      scope: {
        store: 'none',
        storeRttMs: null,
        instances: Math.max(...probed.map((c) => c.instances)),
        route: 'POST /logout',
        loop: 'probe',
      },
    })
  }
  for (const c of ok.filter((x) => x.instances > 1 && descriptorOf(x).state !== 'none')) {
    const share = c.summary!.status401Share
    out.push({
      id: `instances-${c.id}`,
      kind: 'instances',
      cells: [c.id],
      sentence:
        share > 0
          ? `With ${c.instances} instances, ${label({ ...c, instances: 1 })} broke: ${percent(share)} of requests got ` +
            `401${c.store && !storeDescriptors[c.store].sharedAcrossInstances ? `, because its store is ${storeDescriptors[c.store].sharing}` : ''}.`
          : `With ${c.instances} instances, ${label({ ...c, instances: 1 })} answered every request (0% ` +
            `401; ${c.store === null ? 'no server-side state' : `state in ${storeDescriptors[c.store].sharing}`}).`,
      figures: { status401Share: share, instances: c.instances },
      detail: `${c.id}: ${c.summary!.non2xx} non-2xx of ${c.rounds.reduce((n, r) => n + r.requests, 0)} requests`,
      ...FACT,
      scope: scopeOf(c, loop),
    })
  }
  out.push(...fleetFindings(results))
  return out
}

/** A library session's writes on a reading route: what its code does per request (a save, a touch or nothing), not renewals. */
function libraryWrites(c: CellResult, route: string, writes: number, requests: number, loop: Scope['loop']): Finding {
  const l = c.library!
  const declared = c.expected.ops.writes
  return {
    id: `store-writes-${c.id}`,
    kind: 'store-writes',
    cells: [c.id],
    sentence:
      `On ${route}, ${label(c)} wrote to its store ${num(writes, 0)} times in ${num(requests, 0)} requests ` +
      `(${num(writes / requests, 4)} per request): ${l.library} ${declared > 0 ? `writes ${num(declared, 0)} per request` : 'writes nothing'} ` +
      `in its ${l.preset} preset on ${l.adapter}, whoever the user and however often they come.`,
    figures: { writes, requests, writesPerRequest: writes / requests, declaredPerRequest: declared },
    detail: c.rounds.map((r) => `round ${r.round}: ${num(r.storeOpsPerRequest.writes, 4)} writes/request`).join('; '),
    ...FACT,
    scope: { ...scopeOf(c, loop), route },
  }
}

/** A user of a live site sending a request this often, seconds: the rate writes per request are restated at. */
export const REALISTIC_SECONDS_BETWEEN_REQUESTS = 5

/**
 * The store writes a server-side session did on a route that only reads: its idle-deadline renewals, at most one per
 * user per renewal interval. Counted over every window (total writes over total requests), the windows that wrote named
 * as the write bursts they are (users who logged in together renew together), and the rate restated at the run's own
 * requests per user and at a user sending one request every few seconds.
 */
function storeWrites(results: ResultsFile, single: CellResult[], loop: Scope['loop']): Finding[] {
  const route = results.scenario.workload.route
  const users = results.scenario.workload.users
  return single
    .filter((c) => descriptorOf(c).state === 'server')
    .map((c) => {
      const requests = c.rounds.reduce((n, r) => n + r.requests, 0)
      const writes = c.rounds.reduce((n, r) => n + r.storeOpsPerRequest.writes * r.requests, 0)
      if (c.library) return libraryWrites(c, route, writes, requests, loop)
      const bursts = c.rounds.filter((r) => r.storeOpsPerRequest.writes > 0)
      const intervalS = renewalIntervalMs((c.accessTtlSeconds ?? SERVER_DEFAULTS.sessionIdleTtlSeconds) * 1000) / 1000
      const perUserPerSecond = c.summary!.rps.median / users
      const at = renewalWritesPerRequest
      const runRate = at(perUserPerSecond * intervalS)
      const liveRate = at(intervalS / REALISTIC_SECONDS_BETWEEN_REQUESTS)
      const burstWords = bursts.length
        ? `; the writes came in ${bursts.length} of its ${c.rounds.length} windows (${bursts
            .map((r) => `round ${r.round}: ${num(r.storeOpsPerRequest.writes * r.requests, 0)} in ${num(r.requests, 0)} requests`)
            .join(', ')}), renewal bursts of users who logged in together, not a steady rate`
        : ''
      return {
        id: `store-writes-${c.id}`,
        kind: 'store-writes',
        cells: [c.id],
        sentence:
          `On ${route}, ${label(c)} wrote to its store ${num(writes, 0)} times in ${num(requests, 0)} requests ` +
          `(${num(writes / requests, 4)} per request)${burstWords}. It renews a user's idle deadline at most once every ` +
          `${num(intervalS, 0)} s: at this run's ${num(perUserPerSecond, 1)} requests per user per second that is at most ` +
          `${num(runRate, 4)} writes per request; for a user sending a request every ${REALISTIC_SECONDS_BETWEEN_REQUESTS} s, ` +
          `at most ${num(liveRate, 3)}.`,
        figures: { writes, requests, writesPerRequest: writes / requests, renewalIntervalSeconds: intervalS, runRate, liveRate },
        detail: c.rounds.map((r) => `round ${r.round}: ${num(r.storeOpsPerRequest.writes, 4)} writes/request`).join('; '),
        ...FACT,
        scope: { ...scopeOf(c, loop), route },
      }
    })
}
