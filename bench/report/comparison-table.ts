import { storeDescriptors } from '../stores/index.ts'
import { descriptorOf } from '../strategies/index.ts'
import type { CellResult, ResultsFile } from '../contracts/results.ts'

/**
 * The explainer's five-row table, each row answered by this run's measurements. Columns are the
 * strategy/store pairs the run has; a row with no measurement in this run says so.
 */
export interface ComparisonTable {
  columns: string[]
  rows: { question: string; claim: string; answers: string[] }[]
}

const NOT_MEASURED = 'not measured in this run'

function representative(cells: CellResult[]): CellResult[] {
  const groups = new Map<string, CellResult>()
  for (const c of cells) {
    const key = `${c.strategy}/${c.store ?? '-'}`
    const prev = groups.get(key)
    // Prefer a single-instance cell without a denylist: it stands for the plain strategy.
    if (!prev || (prev.instances > 1 && c.instances === 1) || (prev.revocation === 'denylist' && c.revocation !== 'denylist'))
      groups.set(key, c)
  }
  return [...groups.values()]
}

const fmt = (v: number, d = 3) => String(Math.round(v * 10 ** d) / 10 ** d)
const sameKind = (a: CellResult, b: CellResult) => a.strategy === b.strategy && a.store === b.store

function clientSends(c: CellResult): string {
  const cred = c.credential
  if (descriptorOf(c).state === 'none') return 'nothing (x-user-id header)'
  if (!cred) return NOT_MEASURED
  return cred.kind === 'cookie'
    ? `${cred.clientReadable ? 'a readable' : 'an opaque'} cookie: ${cred.bytes} bytes in the ${cred.header} header`
    : `a signed bearer token: ${cred.bytes} bytes in the ${cred.header} header`
}

function storeReads(c: CellResult, route: 'GET /me' | 'GET /profile', all: CellResult[]): string {
  const measured = all.find(
    (x) => sameKind(x, c) && x.workload === route && x.status === 'ok' && x.summary && x.revocation === c.revocation && x.instances === 1,
  )
  if (!measured) return NOT_MEASURED
  const reads = measured.summary!.storeOpsPerRequest.reads
  const users = route === 'GET /profile' ? ' (one is the users table)' : ''
  return `${reads === 0 ? 'no' : `yes: ${fmt(reads)} read${reads === 1 ? '' : 's'} per request`}${reads > 0 ? users : ''} (measured)`
}

function revocation(c: CellResult, all: CellResult[]): string {
  const probes = all.filter((x) => sameKind(x, c) && x.revocationProbe)
  if (descriptorOf(c).state === 'none') return 'nothing to revoke'
  if (probes.length === 0) return NOT_MEASURED
  return probes
    .map((x) => {
      const p = x.revocationProbe!
      const what =
        p.keepsWorkingSeconds === 0
          ? 'ends at logout'
          : p.keepsWorkingSeconds === null
            ? 'a copy still worked after logout, until the session times out (configured, not waited out)'
            : `a copy still worked after logout; its lifetime allows ${p.keepsWorkingSeconds} s more (configured, not waited out)`
      return `${x.id}: ${what} (GET /me after logout: ${p.statusAfterLogout.join(', ')})`
    })
    .join('; ')
}

function instances(c: CellResult, all: CellResult[]): string {
  const multi = all.filter((x) => sameKind(x, c) && x.instances > 1 && x.status === 'ok' && x.summary)
  if (descriptorOf(c).state === 'none') return 'n/a'
  if (multi.length === 0) return `${NOT_MEASURED} (see scenarios/scaling.ts)`
  return multi
    .map((x) => {
      const share = x.summary!.status401Share
      const who = multi.length > 1 ? `${x.id}: ` : ''
      if (share > 0) return `${who}breaks with ${x.instances} instances: ${(share * 100).toFixed(1)}% of requests got 401 (measured)`
      const state = x.store === null ? 'no server-side state to share' : `state in ${storeDescriptors[x.store].sharing}`
      const statuses = x.revocationProbe?.statusAfterLogout ?? []
      const partial =
        new Set(statuses).size > 1
          ? `; but logout ended the credential on ${statuses.filter((st) => st === 401).length} of ${statuses.length} instances only`
          : ''
      return `${who}every request answered by ${x.instances} instances on one machine (0% 401, measured; ${state})${partial}`
    })
    .join('; ')
}

export function comparisonTable(results: ResultsFile): ComparisonTable {
  const cols = representative(results.cells.filter((c) => c.status !== 'skipped'))
  const all = results.cells
  const isNone = (c: CellResult) => descriptorOf(c).state === 'none'
  return {
    columns: cols.map((c) => descriptorOf(c).label.column(c)),
    rows: [
      {
        question: 'Where does user state live?',
        // The explainer's own answer to this row is the same as to the next ("cookie" / "token"), quoted as it stands.
        claim: 'session: cookie; JWT: token (the explainer answers this row as it answers the next)',
        answers: cols.map((c) => descriptorOf(c).label.stateLives(c)),
      },
      { question: 'What does the client send?', claim: 'session: cookie; JWT: token', answers: cols.map(clientSends) },
      {
        question: 'Store read to identify the user (GET /me)?',
        claim: 'session: needed; JWT: not needed',
        answers: cols.map((c) => (isNone(c) ? 'no' : storeReads(c, 'GET /me', all))),
      },
      {
        question: 'Store read for the full record (GET /profile)?',
        claim: 'JWT: not needed if the payload suffices',
        answers: cols.map((c) => storeReads(c, 'GET /profile', all)),
      },
      {
        question: 'Can the client read the credential?',
        claim: 'session: no; JWT: yes',
        answers: cols.map((c) => (c.credential ? descriptorOf(c).label.clientReads(c.credential) : NOT_MEASURED)),
      },
      { question: 'What does logout do?', claim: '(not in the explainer)', answers: cols.map((c) => revocation(c, all)) },
      { question: 'Several instances?', claim: 'session: hard; JWT: easy', answers: cols.map((c) => instances(c, all)) },
    ],
  }
}
