import { presetFacts } from './library-findings.ts'
import type { ResultsFile } from '../contracts/results.ts'
import { num, times } from '../format.ts'
import { REALISTIC_SECONDS_BETWEEN_REQUESTS } from './facts.ts'
import { storeDescriptors } from '../stores/index.ts'
import { descriptorOf } from '../strategies/index.ts'
import {
  capitalized,
  EQUIVALENCE,
  FINDINGS_SCHEMA_VERSION,
  label,
  list,
  okCells,
  storeScope,
  WHERE,
  type AnswerLine,
  type Finding,
  type FindingsFile,
  type NotMeasured,
} from './verdict.ts'
import { reportOf } from './workloads/index.ts'
import { HOSTS } from '../fleet/topologies.ts'

/**
 * Findings as data (docs/contracts.md, "findings.json"): every sentence the report states is
 * computed once, with the figures, the paired interval and the scope it rests on, and written to
 * findings.json; the page renders these sentences and no other conclusion. Each workload brings
 * its findings; the answer and what the run did not measure are put together here.
 */

/** The findings of a run, the answer they give, and what the run did not measure. Pure. */
export function computeFindings(results: ResultsFile): FindingsFile {
  const findings = [...reportOf(results).findings(results), ...presetFacts(results)]
  return { schemaVersion: FINDINGS_SCHEMA_VERSION, answer: answerOf(results, findings), findings, notMeasured: notMeasured(results) }
}

/** The sentences alone, in the order the page lists them. */
export function findings(results: ResultsFile): Finding[] {
  return computeFindings(results).findings
}

const QUESTIONS: Record<string, string> = {
  cpu: 'What does a request cost in CPU?',
  'store-load': 'What load does each put on the store?',
  bytes: 'What travels with every request?',
  latency: 'What latency does a user see at the same load?',
  logout: 'What does logout do, and how long does a stolen credential live?',
  instances: 'What happens with several instances?',
  lifecycle: "What does a credential's whole lifetime cost?",
  distance: 'What does a store at a distance add?',
  instructions: 'What work does a request take, counted in instructions?',
  'store-placement': "What does it change where a session's store runs?",
  algorithm: 'What does it change which algorithm signs a token?',
  library: 'What does it change which JWT library verifies, and how it is handed its key?',
  runtime: 'What does it change which Node major runs the servers?',
  framework: 'What does the HTTP framework itself cost (Fastify against Express)?',
  'session-library': 'What does a session library cost as shipped and as tuned, against the reference session?',
}

/** The page's first screen: per question a team asks, which choice was ahead in this run, by how much, and under which scope. */
function answerOf(results: ResultsFile, all: Finding[]): AnswerLine[] {
  const out: AnswerLine[] = []
  const by = (kind: string) => all.filter((f) => f.kind === kind)
  const report = reportOf(results)
  const route = report.measures.loadFromOutside ? 'the observed fleet' : results.scenario.workload.route
  const line = (question: string, sentence: string, fs: Finding[]) =>
    out.push({
      question,
      asked: question === 'cpu' ? `What does a request to ${route} cost in CPU, per choice?` : (QUESTIONS[question] ?? question),
      sentence,
      findings: fs.map((f) => f.id),
    })
  const cellOf = (id: string) => results.cells.find((c) => c.id === id)!
  // One clause per session: which tokens were dearer, which cheaper, which equal, which unresolved.
  const clausesOf = (fs0: Finding[], noun: string) =>
    [...new Set(fs0.map((f) => f.cells[1]!))].map((sid) => {
      const fs = fs0.filter((f) => f.cells[1] === sid)
      const s = cellOf(sid)
      const dearer = fs.filter((f) => f.verdict === 'ahead' && f.ratio! > 1)
      const cheaper = fs.filter((f) => f.verdict === 'ahead' && f.ratio! < 1)
      const same = fs.filter((f) => f.verdict === 'equal')
      const open = fs.filter((f) => f.verdict === 'unresolved')
      const range = (xs: Finding[]) => {
        const rs = xs.map((f) => f.ratio!).sort((x, y) => x - y)
        return rs.length === 1 ? times(rs[0]!) : `${times(rs[0]!)}–${times(rs[rs.length - 1]!)}`
      }
      const names = (xs: Finding[]) => list(xs.map((f) => label(cellOf(f.cells[0]!))))
      const parts = [
        ...(dearer.length ? [`the session was cheaper than ${names(dearer)} (they cost ${range(dearer)} its ${noun})`] : []),
        ...(cheaper.length ? [`${names(cheaper)} ${cheaper.length === 1 ? 'was' : 'were'} cheaper (${range(cheaper)} its ${noun})`] : []),
        ...(same.length ? [`${names(same)} cost the same within ${EQUIVALENCE * 100}%`] : []),
        ...(open.length ? [`against ${names(open)} this run could not decide (${open.length} unresolved)`] : []),
      ]
      return `against ${label(s)} (${WHERE[fs[0]!.scope.store]}), ${parts.join('; ')}`
    })
  const counted = by('instructions')
  if (counted.length)
    line(
      'instructions',
      `${capitalized(clausesOf(counted, 'instructions').join('. And '))}. Scope: ${route}, instructions per request of one ` +
        "server counted under callgrind, the server's own work: a store process's is not in it (its CPU is, below).",
      counted,
    )
  const cpu = by('cpu')
  if (cpu.length) {
    const clauses = clausesOf(cpu, 'CPU')
    const scope = cpu[0]!.scope
    const leftOut = cpu.reduce((n, f) => n + Number(f.figures.clientBoundRounds ?? 0), 0)
    line(
      'cpu',
      `${capitalized(clauses.join('. And '))}. Scope: ${scope.route}, ${report.loopWords}, one instance, servers' CPU plus the ` +
        `store process's where it has one, per-round ratios of windows ${
          report.measures.loadFromOutside ? 'read at the same edges' : 'the load kept busy'
        }${leftOut ? ` (${leftOut} paired round${leftOut === 1 ? '' : 's'} with a client-bound window left out)` : ''}.`,
      cpu,
    )
  }
  for (const [question, kinds] of [
    ['store-placement', ['instructions-store', 'cpu-store', 'instructions-sessioncache', 'cpu-sessioncache']],
    ['algorithm', ['instructions-alg', 'cpu-alg']],
    [
      'library',
      ['instructions-engine', 'cpu-engine', 'instructions-keyform', 'cpu-keyform', 'instructions-verifycache', 'cpu-verifycache'],
    ],
    ['runtime', ['instructions-runtime', 'cpu-runtime']],
    ['framework', ['instructions-framework', 'cpu-framework']],
    ['session-library', ['library-preset', 'instructions-preset', 'cpu-preset', 'instructions-sessionlibrary', 'cpu-sessionlibrary']],
  ] as const) {
    const fs = kinds.flatMap(by)
    if (!fs.length) continue
    // Pairs no round could compare are named together, not sentence by sentence.
    const compared = fs.filter((f) => f.ratio !== null || f.verdict === 'fact')
    const unpaired = fs.filter((f) => f.ratio === null && f.verdict !== 'fact')
    const pairs = unpaired.map((f) => `${label(cellOf(f.cells[0]!))} and ${label(cellOf(f.cells[1]!))}`)
    line(
      question,
      [
        ...compared.map((f) => f.sentence),
        ...(unpaired.length
          ? [
              `Not compared by CPU (a client-bound window in every round): ${pairs.join('; ')}; instructions per request would compare them.`,
            ]
          : []),
      ].join(' '),
      fs,
    )
  }
  const equalLoad = by('cpu-equal-load')
  if (equalLoad.length) {
    const ahead = equalLoad.filter((f) => f.verdict === 'ahead')
    line(
      'cpu',
      `At equal offered load (open ` +
        `loop): ${
          ahead.length
            ? ahead.map((f) => f.sentence.replace(/^At [^,]+ \(open loop, equal load\), /, '')).join(' ')
            : 'no pair of a token and a ' + 'session differed in CPU per request beyond the ±5% band.'
        }`,
      equalLoad,
    )
  }
  const reads = by('store-reads')
  const writes = by('store-writes')
  if (reads.length) {
    const w = writes.map((f) => `${label(cellOf(f.cells[0]!))} ${num(Number(f.figures.writesPerRequest), 4)}`)
    const live = writes[0] ? num(Number(writes[0].figures.liveRate), 3) : ''
    line(
      'store-load',
      `${reads[0]!.sentence}${
        writes.length
          ? ` Writes per request (idle-deadline renewals): ${list(w)}; for a user sending a request every ` +
            `${REALISTIC_SECONDS_BETWEEN_REQUESTS} s, at most ${live}.`
          : ''
      }`,
      [...reads, ...writes],
    )
  }
  const bytes = by('bytes')
  if (bytes.length) line('bytes', bytes[0]!.sentence, bytes)
  const latency = by('latency')
  if (latency.length) {
    const ahead = latency.filter((f) => f.verdict === 'ahead')
    line(
      'latency',
      ahead.length
        ? ahead.map((f) => f.sentence).join(' ')
        : `At every fixed rate measured, no token and session pair differed in p99 beyond the ±5% band in this run ` +
            `(${latency.length} comparison${latency.length === 1 ? '' : 's'}).`,
      latency,
    )
  }
  const logout = by('logout')
  if (logout.length) line('logout', logout[0]!.sentence, logout)
  const instances = [...by('instances'), ...by('fleet-capacity')]
  if (instances.length) line('instances', instances.map((f) => f.sentence).join(' '), instances)
  for (const kind of ['lifecycle', 'distance']) {
    const fs = by(kind)
    if (fs.length)
      line(
        kind,
        fs
          .slice(0, 3)
          .map((f) => f.sentence)
          .join(' '),
        fs.slice(0, 3),
      )
  }
  return out
}

/** Every configuration the session-or-JWT question depends on that this run lacked, with the command that measures it. */
function notMeasured(results: ResultsFile): NotMeasured[] {
  const out: NotMeasured[] = []
  const cells = results.cells
  const ok = okCells(results)
  const skipped = cells.filter((c) => c.status === 'skipped')
  for (const c of skipped) {
    out.push({
      what: `${label(c)} (${c.id})`,
      why: `skipped: ${c.reason ?? 'no reason given'}`,
      command:
        c.store && storeDescriptors[c.store].placement !== 'in-process'
          ? 'npm run setup, then npm run bench again (or npm run bench -- --redis-url URL)'
          : 'npm run bench again',
    })
  }
  const sessions = ok.filter((c) => descriptorOf(c).state === 'server')
  const measures = reportOf(results).measures
  if (!sessions.some((c) => storeScope(c) !== 'in-process')) {
    out.push({
      what: 'a session store in another process, reached over a socket (the configuration the "sessions need a database hit" argument is about)',
      why: sessions.length
        ? `every session measured kept its store in the server's own process (${list(sessions.map((c) => c.id))})`
        : 'no session cell completed',
      command: 'npm run setup (installs redis-server), then npm run bench',
    })
  }
  if (!ok.some((c) => c.instances > 1))
    out.push({
      what: 'several server instances sharing one store',
      why: 'every cell ran one instance',
      command: 'npm run bench -- scenarios/scaling.ts',
    })
  // A store on a host of its own (a namespace topology) is across a network hop, with no added distance.
  const storeHost = results.environment.topology?.hosts.some((h) => h.name === HOSTS.store) ?? false
  if (!ok.some((c) => (c.storeRttMs ?? 0) > 0) && !storeHost)
    out.push({
      what: 'a store across a network hop (an added round trip per store call)',
      why: 'no cell had a store distance (storeRttMs)',
      command: 'npm run bench -- scenarios/distance.ts',
    })
  if (measures.loadFromOutside)
    out.push({
      what: 'client-side latency and the offered rate',
      why: "the load came from outside (npm run observe): only the servers' own figures were read, not what the load's client saw",
      command: 'read them from the engine that drove the load, or npm run bench -- scenarios/latency.ts',
    })
  else if (!measures.openLoop && !measures.lifecycle)
    out.push({
      what: 'latency at equal offered load (open loop)',
      why: 'this run was closed loop: it measures cost at saturation, not what a user waits at a given load',
      command: 'npm run bench -- scenarios/latency.ts',
    })
  if (!measures.lifecycle && !measures.loadFromOutside)
    out.push({
      what: "a credential's whole lifetime: refreshes, logouts, revocation lag",
      why: 'this run measured one route, not users living with their credentials',
      command: 'npm run bench -- scenarios/lifecycle.ts',
    })
  if (cells.some((c) => c.summary?.instructionsPerRequest))
    out.push({
      what:
        "in the instructions per request: the kernel's work for the server (syscalls, the loopback network), " +
        "time waiting on the store, the store's own process",
      why: "callgrind counts the server process's own user-space instructions alone; the CPU figures count the kernel's share and Redis's",
      command: 'read cpuUsPerRequest and storeCpuUsPerRequest beside instructionsPerRequest in results.json',
    })
  return out
}
