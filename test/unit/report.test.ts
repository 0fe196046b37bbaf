import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildCharts } from '../../bench/report/workloads/index.ts'
import { compareResults, compareText } from '../../bench/report/run-to-run.ts'
import { comparisonTable } from '../../bench/report/comparison-table.ts'
import { computeFindings, findings } from '../../bench/report/findings.ts'
import { renderHtml } from '../../bench/report/html.ts'
import { summarizeRounds } from '../../bench/summarize.ts'
import { fixtureResults } from '../fixtures/results.ts'
import { cellColors } from '../../bench/page/kit.ts'

describe('report rendering (pure, on fixture results)', () => {
  test('charts include only ok cells, with the CPU split into baseline and overhead', () => {
    const charts = buildCharts(fixtureResults())
    assert.deepEqual(
      charts.map((c) => c.id),
      ['rps', 'cpu', 'store-ops', 'latency', 'bytes', 'ratios'],
    )
    const cpu = charts.find((c) => c.id === 'cpu')!
    assert.deepEqual(cpu.config.data.labels, ['none', 'session-sqlite', 'session-memory-x2', 'jwt-HS256-jose-sqlite'])
    assert.deepEqual(cpu.config.data.datasets[0]!.data, [21, 21, 21, 21])
    // Drift-cancelled: the baseline's median (21) times each cell's median bracketed ratio, less the baseline.
    assert.deepEqual(cpu.config.data.datasets[1]!.data, [0, 9, 5, 52])
    const rps = charts.find((c) => c.id === 'rps')!
    assert.deepEqual(rps.config.data.datasets[1]!.data, [
      [28000, 30000],
      [19000, 21000],
      [25000, 25000],
      [11000, 12500],
    ])
    for (const c of charts) assert.ok(c.caption.length > 20 && !c.caption.includes('\n'), c.id)
    assert.deepEqual(JSON.parse(JSON.stringify(charts)), charts)
  })

  test('colours are per strategy and consistent', () => {
    const cells = fixtureResults().cells.filter((c) => c.status === 'ok')
    const colors = cellColors(cells)
    assert.equal(colors[1], '#1f77b4')
    assert.equal(colors[3], '#e6780e')
    assert.notEqual(colors[1], colors[2])
  })

  test('the comparison table answers from measurements and says where it has none', () => {
    const t = comparisonTable(fixtureResults())
    assert.deepEqual(t.columns, ['none', 'session (sqlite)', 'session (memory)', 'jwt (sqlite)'])
    const row = (q: string) => t.rows.find((r) => r.question.startsWith(q))!.answers
    assert.deepEqual(row('Store read to identify'), [
      'no',
      'yes: 1 read per request (measured)',
      'not measured in this run',
      'no (measured)',
    ])
    assert.deepEqual(row('Store read for the full record'), Array(4).fill('not measured in this run'))
    assert.equal(row('Can the client read')[3], 'yes, without any key: iss, aud, sub, name, iat, jti, exp (decoded from a real token)')
    assert.equal(row('Can the client read')[1], 'no: a random 256-bit id, nothing inside')
    assert.match(
      row('What does logout do')[3]!,
      /a copy still worked after logout; its lifetime allows 899 s more \(configured, not waited out\) \(GET \/me after logout: 200\)/,
    )
    assert.equal(
      t.rows.find((r) => r.question === 'Where does user state live?')!.claim,
      'session: cookie; JWT: token (the explainer answers this row as it answers the next)',
    )
    assert.equal(row('Several instances')[2], 'breaks with 2 instances: 50.0% of requests got 401 (measured)')
    assert.equal(row('Several instances')[1], 'not measured in this run (see scenarios/scaling.ts)')
  })

  test('several instances: what is shared, and a logout that reached only one instance, are said', () => {
    const r = fixtureResults()
    const jwt = r.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!
    r.cells.push(
      {
        ...structuredClone(jwt),
        id: 'jwt-HS256-jose-memory-denylist-x2',
        store: 'memory',
        revocation: 'denylist',
        instances: 2,
        revocationProbe: { statusAfterLogout: [401, 200], keepsWorkingSeconds: 899 },
      },
      {
        ...structuredClone(r.cells.find((c) => c.id === 'session-sqlite')!),
        id: 'session-sqlite-x2',
        instances: 2,
        revocationProbe: { statusAfterLogout: [401, 401], keepsWorkingSeconds: 0 },
      },
    )
    const t = comparisonTable(r)
    const answers = t.rows.find((x) => x.question === 'Several instances?')!.answers
    assert.equal(
      answers[t.columns.indexOf('session (sqlite)')],
      'every request answered by 2 instances on one machine (0% 401, measured; state in one SQLite file on this machine ' +
        '(instances on other machines could not share it))',
    )
    assert.equal(
      answers[t.columns.indexOf('jwt (memory)')],
      'every request answered by 2 instances on one machine (0% 401, measured; state in a copy in each process); but logout ' +
        'ended the credential on 1 of 2 instances only',
    )
  })

  test('the server-time chart says which cells wait, and the CPU chart where Redis ran', () => {
    const r = fixtureResults()
    const redis = r.cells.find((c) => c.id === 'session-redis')!
    Object.assign(redis, structuredClone(r.cells.find((c) => c.id === 'session-sqlite')!), { id: 'session-redis', store: 'redis' })
    redis.summary!.storeCpuUsPerRequest = { median: 12, ci95: [11, 13], coverage: 0.75 }
    const charts = buildCharts(r)
    assert.match(
      charts.find((c) => c.id === 'latency')!.caption,
      /A request that waits \(session-redis on I\/O to Redis, jwt-HS256-jose-sqlite on the thread pool \(WebCrypto\)\)/,
    )
    const cpu = charts.find((c) => c.id === 'cpu')!
    assert.match(cpu.caption, /The store processes were pinned with the load generator to CPU 0 \(the servers had CPU 1\)/)
    assert.deepEqual(cpu.config.data.datasets[2]!.data, [0, 0, 0, 12, 0])
  })

  test('findings are data: the paired interval, the verdict and the scope behind every comparison', () => {
    const out = computeFindings(fixtureResults())
    const f = out.findings
    const cpu = f.find((x) => x.id === 'cpu-jwt-HS256-jose-sqlite-vs-session-sqlite')!
    assert.equal(
      cpu.sentence,
      "On GET /me, JWT HS256 with jose cost 2.40x the CPU per request of a sqlite session (store in the server's own process): " +
        'the session was cheaper in this run (one instance).',
    )
    assert.equal(cpu.verdict, 'ahead')
    assert.equal(cpu.method, 'order-statistic')
    assert.equal(cpu.metric, 'cpu')
    assert.equal(out.schemaVersion, 2)
    assert.deepEqual(cpu.scope, { store: 'in-process', storeRttMs: 0, instances: 1, route: 'GET /me', loop: 'closed' })
    // Rounds 72/30, 70/31, 75/29: 2.40, 2.26, 2.59.
    assert.deepEqual(
      cpu.interval!.map((v) => Math.round(v * 100) / 100),
      [2.26, 2.59],
    )
    assert.equal(cpu.coverage, 0.75)
    assert.equal(
      cpu.detail,
      "paired per-round ratio 2.40x, order-statistic interval 2.26x–2.59x over 3 rounds (coverage 75.0%); servers' medians jwt-HS256-jose-sqlite 72.0 µs, " +
        'session-sqlite 30.0 µs; overhead over none (against the baseline windows around each window): 52.0 µs vs 9.0 µs',
    )
    assert.equal(
      f.find((x) => x.kind === 'store-reads')!.sentence,
      "On GET /me, counted per request beyond the baseline's 0.000: a sqlite session read its store 1.000 times; JWT HS256 with jose did not read it.",
    )
    assert.equal(
      f.find((x) => x.kind === 'bytes')!.sentence,
      'What each request carries: a sqlite session 47 bytes in its cookie header (opaque to the client); JWT HS256 with jose 300 ' +
        'bytes in its authorization header (readable by the client).',
    )
    assert.equal(
      f.find((x) => x.kind === 'logout')!.sentence,
      'After logout, a sqlite session and a memory session, 2 instances refused a copy of the credential at once; with JWT HS256 ' +
        "with jose a copy kept working right after it, and its exp claim allows up to 899 s more (the access token's configured " +
        'remaining lifetime, not waited out).',
    )
    assert.equal(
      f.find((x) => x.kind === 'instances')!.sentence,
      'With 2 instances, a memory session broke: 50.0% of requests got 401, because its store is a copy in each process.',
    )
    for (const x of f) assert.equal(x.verdict === 'ahead', x.interval !== null && (x.interval[0] > 1.05 || x.interval[1] < 1 / 1.05), x.id)
    // The answer first, per question; then what the run lacked, each with its command.
    assert.deepEqual(
      out.answer.map((a) => a.question),
      ['cpu', 'store-load', 'bytes', 'logout', 'instances'],
    )
    const answer =
      "Against a sqlite session (store in the server's own process), the session was cheaper than JWT HS256 with jose " +
      '(they cost 2.40x its CPU). Scope: GET /me, closed loop, one instance'
    assert.ok(out.answer[0]!.sentence.startsWith(answer), out.answer[0]!.sentence)
    assert.deepEqual(
      out.notMeasured.map((m) => m.command),
      [
        'npm run setup, then npm run bench again (or npm run bench -- --redis-url URL)',
        'npm run setup (installs redis-server), then npm run bench',
        'npm run bench -- scenarios/distance.ts',
        'npm run bench -- scenarios/latency.ts',
        'npm run bench -- scenarios/lifecycle.ts',
      ],
    )
    assert.match(
      out.notMeasured[1]!.why,
      /every session measured kept its store in the server's own process \(session-sqlite and session-memory-x2\)/,
    )
    assert.doesNotMatch(JSON.stringify(out), /folklore/)
  })

  test('equal within 5%, unresolved with the rounds that would decide it, and one round cannot tell', () => {
    const r = fixtureResults()
    const jwt = r.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!
    const session = r.cells.find((c) => c.id === 'session-sqlite')!
    const costs = (factors: number[]) => {
      jwt.rounds.forEach((round, i) => {
        round.cpuUsPerRequest = session.rounds[i]!.cpuUsPerRequest * factors[i]!
      })
      jwt.summary = summarizeRounds(jwt.rounds)
    }
    const cpu = () => findings(r).find((x) => x.kind === 'cpu')!
    // Paired ratios 1.02, 0.98, 1.01: the interval lies inside the band, an equivalence, not a failure to tell.
    costs([1.02, 0.98, 1.01])
    assert.equal(
      cpu().sentence,
      "On GET /me, JWT HS256 with jose and a sqlite session (store in the server's own process) cost the same CPU per request " +
        'within 5% (1.01x, interval 0.98x–1.02x; one instance).',
    )
    assert.equal(cpu().verdict, 'equal')
    assert.equal(cpu().roundsToDecide, undefined)
    // Paired ratios 1.2, 0.9, 1.0: the median says 1.0, the interval straddles both edges; at that spread even 50 rounds'
    // interval (the 18th and 33rd of 50: quantiles 0.97x-1.06x) would cross the upper edge.
    costs([1.2, 0.9, 1.0])
    assert.equal(
      cpu().sentence,
      "On GET /me, this run could not tell whether JWT HS256 with jose or a sqlite session (store in the server's own process) " +
        'costs more CPU per request, or whether they cost the same (1.00x, interval 0.90x–1.20x).',
    )
    assert.equal(cpu().verdict, 'unresolved')
    assert.equal(cpu().roundsToDecide, null)
    assert.match(cpu().detail, /unresolved: at this spread no count of rounds up to 50 would decide it/)
    // Paired ratios 1.30, 1.04, 1.20: unresolved at 3 rounds (the low edge sits inside the band); the same spread over 10 rounds
    // would put the interval's low end (the 2nd of 10) above 1.05.
    costs([1.3, 1.04, 1.2])
    assert.equal(cpu().verdict, 'unresolved')
    assert.equal(cpu().roundsToDecide, 10)
    assert.match(cpu().detail, /unresolved: at this spread about 10 rounds would decide it/)
    for (const c of [jwt, session]) {
      c.rounds = c.rounds.slice(0, 1)
      c.summary = summarizeRounds(c.rounds)
    }
    assert.equal(
      cpu().sentence,
      "On GET /me, this run could not tell whether JWT HS256 with jose or a sqlite session (store in the server's own process) " +
        'costs more CPU per request, or whether they cost the same (1.30x, interval 1.30x–1.30x, 1 round).',
    )
    assert.equal(cpu().verdict, 'unresolved')
  })

  test("a session's store writes on a reading route: counted, the burst named, restated at a live site's rate", () => {
    const r = fixtureResults()
    const session = r.cells.find((c) => c.id === 'session-sqlite')!
    // Every one of the 1,000 users renews in round 3: 1,000 writes in its 42,000 requests.
    session.rounds[2]!.storeOpsPerRequest.writes = 1000 / 42000
    const out = computeFindings(r)
    const f = out.findings.find((x) => x.id === 'store-writes-session-sqlite')!
    assert.equal(
      f.sentence,
      'On GET /me, a sqlite session wrote to its store 1,000 times in 120,000 requests (0.0083 per request); the writes came in 1 ' +
        'of its 3 windows (round 3: 1,000 in 42,000 requests), renewal bursts of users who logged in together, not a steady rate. ' +
        "It renews a user's idle deadline at most once every 60 s: at this run's 20.0 requests per user per second that is at most " +
        '0.0008 writes per request; for a user sending a request every 5 s, at most 0.083.',
    )
    assert.equal(f.verdict, 'fact')
    assert.match(
      out.answer.find((a) => a.question === 'store-load')!.sentence,
      /Writes per request \(idle-deadline renewals\): a sqlite session 0\.0083/,
    )
    // A JWT writes nothing on GET and gets no such finding.
    assert.equal(out.findings.filter((x) => x.kind === 'store-writes').length, 1)
  })

  test('where the store runs and which algorithm signs: their own comparisons and answer lines', () => {
    const r = fixtureResults()
    const sqlite = r.cells.find((c) => c.id === 'session-sqlite')!
    const hs = r.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!
    const pg = structuredClone(sqlite)
    Object.assign(pg, { id: 'session-postgres', store: 'postgres' })
    // PostgreSQL's server side costs 3x SQLite's in every round, its backends 1.5x more on top: 4.5x counted together.
    pg.rounds.forEach((round, i) => {
      round.cpuUsPerRequest = sqlite.rounds[i]!.cpuUsPerRequest * 3
      round.storeCpuUsPerRequest = sqlite.rounds[i]!.cpuUsPerRequest * 1.5
    })
    pg.summary = summarizeRounds(pg.rounds)
    const ed = structuredClone(hs)
    Object.assign(ed, { id: 'jwt-EdDSA-jose-sqlite', alg: 'EdDSA' })
    ed.rounds.forEach((round, i) => {
      round.cpuUsPerRequest = hs.rounds[i]!.cpuUsPerRequest * [1.02, 0.99, 1.01][i]!
    })
    ed.summary = summarizeRounds(ed.rounds)
    r.cells.push(pg, ed)
    const out = computeFindings(r)
    const store = out.findings.find((f) => f.id === 'cpu-store-session-postgres-vs-session-sqlite')!
    assert.equal(
      store.sentence,
      'On GET /me, a postgres session (store in another process on this machine, over a socket) cost 4.50x the CPU per request of ' +
        "a sqlite session (store in the server's own process), the store process's CPU counted (interval 4.50x–4.50x; one instance).",
    )
    assert.equal(store.verdict, 'ahead')
    const alg = out.findings.find((f) => f.kind === 'cpu-alg')!
    assert.equal(alg.verdict, 'equal')
    assert.deepEqual(alg.cells, ['jwt-EdDSA-jose-sqlite', 'jwt-HS256-jose-sqlite'])
    assert.deepEqual(out.answer.map((a) => a.question).slice(0, 3), ['cpu', 'store-placement', 'algorithm'])
  })

  test('the first screen opens with a picture: each comparison against the band, coloured by its verdict', () => {
    const r = fixtureResults()
    const html = renderHtml(r, '')
    const svg = html.slice(html.indexOf('<svg class="forest"'), html.indexOf('</svg>') + 6)
    const cpu = computeFindings(r).findings.filter((f) => f.kind === 'cpu')
    assert.equal(cpu.length, 1)
    // One row, ahead (blue), drawn before the first answer line.
    assert.equal(svg.match(/<circle /g)!.length, 1)
    assert.match(svg, /stroke="#1f77b4" stroke-width="3"/)
    assert.ok(html.indexOf('<svg class="forest"') < html.indexOf('<dl>'))
  })

  test('instructions per request decide by the counts: ahead, equal within 5% and unresolved, the store process named', () => {
    const r = fixtureResults()
    const count = (mean: number, spread = 0.002) => ({
      mean,
      low: mean * (1 - spread / 2),
      high: mean * (1 + spread / 2),
      perBatch: [mean * (1 - spread / 2), mean * (1 + spread / 2)],
      warmupRequests: 13_500,
      batchRequests: 500,
      seconds: 40,
    })
    const session = r.cells.find((c) => c.id === 'session-sqlite')!
    const jwt = r.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!
    session.summary!.instructionsPerRequest = count(224_000)
    const verdictAt = (mean: number, spread?: number) => {
      jwt.summary!.instructionsPerRequest = count(mean, spread)
      return computeFindings(r).findings.find((f) => f.kind === 'instructions')!
    }
    // 261,000 over 224,000 (their lowest batches 0.1% under): 1.165x, widened by 1.5% for each count, clear of the band.
    const ahead = verdictAt(261_000)
    assert.equal(ahead.verdict, 'ahead')
    assert.equal(ahead.method, 'count-spread')
    assert.equal(ahead.metric, 'instructions')
    assert.equal(ahead.coverage, null)
    assert.equal(
      ahead.sentence,
      'On GET /me, JWT HS256 with jose took 1.17x the instructions per request of a sqlite session (interval 1.13x–1.20x).',
    )
    // 226,000 over 224,000: 1.009x, the interval 0.980x-1.039x inside ±5%: equal, not "could not tell".
    assert.equal(verdictAt(226_000).verdict, 'equal')
    // 234,000 over 224,000: 1.045x, the interval crosses 1.05: unresolved.
    assert.equal(verdictAt(234_000).verdict, 'unresolved')
    // A count whose own batches spread 8% widens its interval by that much: 1.165x stays ahead, 1.009x is no longer equal.
    assert.equal(verdictAt(226_000, 0.08).verdict, 'unresolved')
    const out = computeFindings(r)
    assert.equal(out.answer[0]!.question, 'instructions')
    // The cells table shows each count with its batches' range, in a column only a counted run has.
    assert.match(renderHtml(r, ''), /instructions\/req, the server's \(batches\)<\/th>/)
    assert.match(renderHtml(r, ''), /<td class="n">224,000 \(223,776–224,224\)<\/td>/)
    assert.doesNotMatch(renderHtml(fixtureResults(), ''), /instructions\/req/)
    // A session whose store runs apart is compared by its server's share alone, and says so.
    session.store = 'redis'
    session.id = 'session-redis-counted'
    jwt.summary!.instructionsPerRequest = count(261_000)
    assert.match(
      computeFindings(r).findings.find((f) => f.kind === 'instructions')!.sentence,
      /the server's own work only: redis's process not counted\)\.$/,
    )
  })

  test('adaptive rounds: a comparison decided at a look stops there; one never decided says where and why the run stopped', () => {
    const r = fixtureResults()
    const jwt = r.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!
    const session = r.cells.find((c) => c.id === 'session-sqlite')!
    const id = 'cpu-jwt-HS256-jose-sqlite-vs-session-sqlite'
    r.scenario.load.moreRounds = [5]
    // Two rounds the run added later for other comparisons, in which the token cost the same as the session.
    for (const c of [jwt, session]) {
      for (const round of [4, 5]) c.rounds.push({ ...structuredClone(session.rounds[0]!), round })
    }
    r.noiseControl.looks = { planned: [5], alpha: 0.025, taken: [{ rounds: 3, unresolved: [] }], stopped: 'decided' }
    const decided = computeFindings(r).findings.find((f) => f.id === id)!
    // Judged on its first 3 rounds only (2.40x, 2.26x, 2.59x): rounds 4 and 5 (1.00x) do not move it.
    assert.equal(decided.verdict, 'ahead')
    assert.deepEqual(
      decided.interval!.map((v) => Math.round(v * 100) / 100),
      [2.26, 2.59],
    )
    assert.match(decided.detail, /; decided at the look after 3 rounds$/)
    r.noiseControl.looks = {
      planned: [5],
      alpha: 0.025,
      taken: [
        { rounds: 3, unresolved: [id] },
        { rounds: 5, unresolved: [id] },
      ],
      stopped: 'time-cap',
    }
    const open = computeFindings(r).findings.find((f) => f.id === id)!
    // Every round counts: 1.00, 1.00, 2.26, 2.40, 2.59, at the error rate split over 2 looks (the range of 5 rounds).
    assert.equal(open.verdict, 'unresolved')
    assert.deepEqual(
      open.interval!.map((v) => Math.round(v * 100) / 100),
      [1, 2.59],
    )
    assert.equal(open.coverage, 1 - 2 ** -4)
    assert.match(open.detail, /still unresolved after 5 rounds, when the run stopped adding rounds \(its time cap\)$/)
  })

  test('which library and how it is handed its key: compared only between cells that differ in that alone', () => {
    const r = fixtureResults()
    const jose = r.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!
    const cell = (id: string, engine: 'jsonwebtoken', keyForm: 'string' | 'keyobject', factor: number) => {
      const c = structuredClone(jose)
      Object.assign(c, { id, engine, keyForm })
      c.rounds.forEach((round, i) => {
        round.cpuUsPerRequest = jose.rounds[i]!.cpuUsPerRequest * factor
      })
      c.summary = summarizeRounds(c.rounds)
      return c
    }
    r.cells.push(
      cell('jwt-HS256-jsonwebtoken-string-sqlite', 'jsonwebtoken', 'string', 9),
      cell('jwt-HS256-jsonwebtoken-keyobject-sqlite', 'jsonwebtoken', 'keyobject', 0.7),
    )
    const out = computeFindings(r)
    const keyForm = out.findings.filter((f) => f.kind === 'cpu-keyform')
    assert.deepEqual(
      keyForm.map((f) => [f.cells, f.verdict, Math.round(f.ratio! * 100) / 100]),
      [[['jwt-HS256-jsonwebtoken-string-sqlite', 'jwt-HS256-jsonwebtoken-keyobject-sqlite'], 'ahead', 12.86]],
    )
    // Libraries side by side as each is best handed its key: jose against jsonwebtoken with a KeyObject, not with a string.
    assert.deepEqual(
      out.findings.filter((f) => f.kind === 'cpu-engine').map((f) => f.cells),
      [['jwt-HS256-jose-sqlite', 'jwt-HS256-jsonwebtoken-keyobject-sqlite']],
    )
    assert.equal(out.findings.filter((f) => f.kind === 'cpu-alg').length, 0)
    assert.ok(out.answer.some((a) => a.question === 'library'))
  })

  test('a verify cache is compared with the same library without it, and kept out of the library comparison', () => {
    const r = fixtureResults()
    const jose = r.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!
    const cell = (id: string, verifyCache: number, factor: number) => {
      const c = structuredClone(jose)
      Object.assign(c, { id, engine: 'fast-jwt', verifyCache })
      c.rounds.forEach((round, i) => {
        round.cpuUsPerRequest = jose.rounds[i]!.cpuUsPerRequest * factor
      })
      c.summary = summarizeRounds(c.rounds)
      return c
    }
    r.cells.push(cell('jwt-HS256-fast-jwt-sqlite', 0, 0.8), cell('jwt-HS256-fast-jwt-cache1000-sqlite', 1000, 0.5))
    const out = computeFindings(r)
    const cached = out.findings.filter((f) => f.kind === 'cpu-verifycache')
    assert.deepEqual(
      cached.map((f) => [f.cells, f.verdict]),
      [[['jwt-HS256-fast-jwt-sqlite', 'jwt-HS256-fast-jwt-cache1000-sqlite'], 'ahead']],
    )
    assert.match(cached[0]!.sentence, /JWT HS256 with fast-jwt \(a 1000-entry verify cache\)/)
    assert.deepEqual(
      out.findings.filter((f) => f.kind === 'cpu-engine').map((f) => f.cells),
      [['jwt-HS256-jose-sqlite', 'jwt-HS256-fast-jwt-sqlite']],
    )
  })

  test('a session cache is compared with the same session without it, by CPU and by store reads per request', () => {
    const r = fixtureResults()
    const plain = r.cells.find((c) => c.id === 'session-sqlite')!
    const c = structuredClone(plain)
    Object.assign(c, { id: 'session-sqlite-scache1000-t5s', sessionCache: { entries: 1000, ttlSeconds: 5 } })
    c.rounds.forEach((round, i) => {
      round.cpuUsPerRequest = plain.rounds[i]!.cpuUsPerRequest * 0.7
      round.storeOpsPerRequest = { reads: 0.01, writes: 0, deletes: 0 }
    })
    c.summary = summarizeRounds(c.rounds)
    r.cells.push(c)
    const out = computeFindings(r)
    const cached = out.findings.filter((f) => f.kind === 'cpu-sessioncache')
    assert.deepEqual(
      cached.map((f) => [f.cells, f.verdict]),
      [[['session-sqlite', 'session-sqlite-scache1000-t5s'], 'ahead']],
    )
    assert.match(cached[0]!.sentence, /a sqlite session \(a 1000-entry, 5 s session cache\)/)
    assert.match(
      cached[0]!.sentence,
      /Store reads per request: 1\.0000 \(a sqlite session\) against 0\.0100 \(a sqlite session \(a 1000-entry/,
    )
    // Not a store comparison: the two differ in the cache, not in where the session lives.
    assert.ok(!out.findings.some((f) => f.kind === 'cpu-store' && f.cells.includes(c.id)))
  })

  test('no comparison rests on a client-bound window: its round is left out and counted', () => {
    const r = fixtureResults()
    const jwt = r.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!
    jwt.rounds[1]!.clientBound = true
    const out = computeFindings(r)
    const cpu = out.findings.find((x) => x.id === 'cpu-jwt-HS256-jose-sqlite-vs-session-sqlite')!
    // Rounds 1 and 3 stay: 72/30 = 2.40 and 75/29 = 2.59.
    assert.deepEqual(
      cpu.interval!.map((v) => Math.round(v * 100) / 100),
      [2.4, 2.59],
    )
    assert.equal(cpu.figures.clientBoundRounds, 1)
    assert.match(cpu.detail, /^1 round left out \(a window client-bound\); paired per-round ratio 2\.49x/)
    assert.match(out.answer[0]!.sentence, /\(1 paired round with a client-bound window left out\)\.$/)
    // Every round client-bound: not compared, unresolved, and said so rather than dropped.
    for (const round of jwt.rounds) round.clientBound = true
    const none = computeFindings(r).findings.find((f) => f.id === 'cpu-jwt-HS256-jose-sqlite-vs-session-sqlite')!
    assert.deepEqual([none.verdict, none.ratio, none.interval, none.figures.clientBoundRounds], ['unresolved', null, null, 3])
    assert.match(none.sentence, /were not compared by CPU per request: in each of the 3 rounds one of their windows was client-bound/)
  })

  test("a ranking only where every other cell's paired interval clears the band", () => {
    const r = fixtureResults()
    const jwt = r.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!
    // A third authentication: a fast-jwt token 5-8% dearer than the session, round by round.
    const fast = structuredClone(jwt)
    Object.assign(fast, { id: 'jwt-HS256-fast-jwt-sqlite', engine: 'fast-jwt' })
    const session = r.cells.find((c) => c.id === 'session-sqlite')!
    fast.rounds.forEach((round, i) => {
      round.cpuUsPerRequest = session.rounds[i]!.cpuUsPerRequest * [1.08, 1.02, 1.06][i]!
    })
    fast.summary = summarizeRounds(fast.rounds)
    r.cells.push(fast)
    const f = findings(r)
    assert.equal(
      f.find((x) => x.id === 'rank-cheapest')!.sentence,
      'On GET /me, no single cheapest authentication: a sqlite session has the lowest median, but JWT HS256 with fast-jwt is not ' +
        'ahead of it by more than 5% in this run.',
    )
    assert.equal(f.find((x) => x.id === 'rank-cheapest')!.verdict, 'unresolved')
    const dearest = f.find((x) => x.id === 'rank-dearest')!.sentence
    const ranked =
      "On GET /me, the most expensive authentication by servers' CPU per request was JWT HS256 with jose: " +
      "every other cell's paired interval lies below it by more than 5%"
    assert.ok(dearest.startsWith(ranked), dearest)
  })

  test('GET /profile and POST /login runs say what their own counts say', () => {
    const profile = fixtureResults()
    profile.scenario.workload.route = 'GET /profile'
    for (const c of profile.cells) {
      c.workload = 'GET /profile'
      for (const r of c.rounds) r.storeOpsPerRequest.reads += 1
      c.summary = summarizeRounds(c.rounds)
    }
    const p = findings(profile).find((x) => x.kind === 'store-reads')!
    assert.equal(
      p.sentence,
      "On GET /profile, counted per request beyond the baseline's 1.000: a sqlite session read its store 1.000 times; JWT HS256 with jose did not read it.",
    )
    assert.deepEqual(p.figures, { 'session-sqlite': 2, 'jwt-HS256-jose-sqlite': 1 })

    const login = fixtureResults()
    login.scenario.workload.route = 'POST /login'
    for (const c of login.cells) {
      c.workload = 'POST /login'
      for (const r of c.rounds) r.storeOpsPerRequest = { reads: 1, writes: c.strategy === 'none' ? 0 : 1, deletes: 0 }
      c.summary = summarizeRounds(c.rounds)
    }
    const l = findings(login)
    assert.equal(
      l.some((x) => x.kind === 'store-reads'),
      false,
    )
    // A login presents a password, not the credential: no sentence about what each request carries.
    assert.equal(
      l.some((x) => x.kind === 'bytes'),
      false,
    )
    assert.equal(computeFindings(login).answer[0]!.asked, 'What does a request to POST /login cost in CPU, per choice?')
    assert.match(renderHtml(login, ''), /Requests rotate over 1000 users logging in, each a new visitor/)
    assert.doesNotMatch(renderHtml(login, ''), /logged-in users/)
    assert.equal(computeFindings(profile).answer[0]!.asked, 'What does a request to GET /profile cost in CPU, per choice?')
    assert.match(
      l.find((x) => x.kind === 'cpu')!.sentence,
      /^On POST \/login, JWT HS256 with jose cost 2\.40x the CPU per request of a sqlite session/,
    )
  })

  test('the HTML is self-contained and names every cell, including skipped and invalid ones', () => {
    const html = renderHtml(fixtureResults(), '/* chart.js */ window.Chart = function () {}')
    assert.ok(html.startsWith('<!doctype html>'))
    assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i)
    assert.match(html, /session-redis.*skipped/s)
    assert.match(html, /redis-server is not on PATH/)
    assert.match(html, /jwt-EdDSA-fast-jwt-sqlite \(invalid: round 1: non-2xx answers: 10 x 500\)/)
    assert.equal(html.match(/<canvas /g)!.length, 6)
    assert.match(html, /the range of the rounds \(75% for 3 rounds, 94% for 5\)/)
  })

  test("a noisy host is called out from the baseline's spread across its windows", () => {
    assert.doesNotMatch(renderHtml(fixtureResults(), ''), /machine was noisy/)
    const r = fixtureResults()
    r.cells[0]!.rounds[1]!.cpuUsPerRequest = 40
    assert.ok(
      renderHtml(r, '').includes(
        'the baseline (none) served the same request in each of its 3 windows yet its CPU per request ranged from 20.0 to 40.0 µs (2.00x).',
      ),
    )
    // The highest in the first window: said, as the cold start it is.
    r.cells[0]!.rounds[1]!.cpuUsPerRequest = 22
    r.cells[0]!.rounds[0]!.cpuUsPerRequest = 45
    assert.match(renderHtml(r, ''), /ranged from 21\.0 to 45\.0 µs \(2\.14x, the highest in its first window, the coldest\)/)
    assert.doesNotMatch(renderHtml(r, ''), /cancels most|stated only where those ratios agree/)
  })

  test('inlined data cannot close its script element', () => {
    const r = fixtureResults()
    r.scenario.description = '</script><script>alert(1)</script>'
    r.cells[0]!.id = '</script>'
    const html = renderHtml(r, '')
    assert.equal(html.match(/<\/script>/g)!.length, 3)
  })

  test('a results file with no ok cell still renders', () => {
    const r = fixtureResults()
    for (const c of r.cells) Object.assign(c, { status: 'failed', reason: 'server did not start', summary: null, rounds: [] })
    assert.deepEqual(buildCharts(r), [])
    assert.match(renderHtml(r, ''), /No cell completed/)
  })
})

describe('compare', () => {
  test('where both runs counted instructions, the counts gate: a 4% slower path fails naming its cell, the same code passes', () => {
    const count = (mean: number) => ({
      mean,
      low: mean * 0.998,
      high: mean * 1.002,
      perBatch: [mean * 0.998, mean * 1.002],
      warmupRequests: 13_500,
      batchRequests: 500,
      seconds: 40,
    })
    const run = (jwt: number, session: number) => {
      const r = fixtureResults()
      r.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!.summary!.instructionsPerRequest = count(jwt)
      r.cells.find((c) => c.id === 'session-sqlite')!.summary!.instructionsPerRequest = count(session)
      return r
    }
    // Two runs of the same code: counts 0.3% apart, inside the counts' own uncertainty (1.5% + 1.5%).
    const same = compareResults(run(261_000, 224_000), run(261_800, 223_500))
    assert.equal(
      same.changes.some((c) => c.regression),
      false,
    )
    // The JWT path 4% slower: past 3%, a regression of that cell alone, whatever its CPU did.
    const slower = compareResults(run(261_000, 224_000), run(271_440, 224_100))
    assert.deepEqual(
      slower.changes.filter((c) => c.regression).map((c) => [c.id, c.metric]),
      [['jwt-HS256-jose-sqlite', 'instructions']],
    )
    // The CPU ratio no longer gates a counted cell; the text says which figure gated.
    assert.equal(slower.changes.find((c) => c.id === 'jwt-HS256-jose-sqlite' && c.metric === 'cpuRatio')!.gates, false)
    assert.match(compareText(slower), /REGRESSION \(beyond 3\.0%\)/)
    // 2.5% slower is within the limit the counts' measured spread allows: not called.
    assert.equal(
      compareResults(run(261_000, 224_000), run(267_525, 224_100)).changes.some((c) => c.regression),
      false,
    )
    assert.match(compareText(slower), /Where both runs counted a cell's instructions per request, that count gates it/)
  })

  test('a regression is a drift-cancelled change beyond the run-to-run spread and the threshold', () => {
    const a = fixtureResults()
    const b = fixtureResults()
    const jwt = b.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!.summary!
    jwt.ratioToBaseline.cpu = jwt.ratioToBaseline.cpu! * 1.08
    const cmp = compareResults(a, b, 5, { percent: 6, measured: 'test' })
    const ratio = cmp.changes.find((c) => c.id === 'jwt-HS256-jose-sqlite' && c.metric === 'cpuRatio')!
    assert.equal(Math.round(ratio.change * 1000), 80)
    assert.equal(ratio.regression, true)
    assert.equal(
      compareResults(a, b, 5, { percent: 9, measured: 'test' }).changes.some((c) => c.regression),
      false,
    )
    assert.equal(compareResults(a, b, 10, { percent: 6, measured: 'test' }).limitPercent, 10)
    assert.equal(
      cmp.changes.some((c) => c.id === 'none' && c.metric === 'cpuRatio'),
      false,
    )
    assert.match(compareText(cmp), /jwt-HS256-jose-sqlite\s+CPU x baseline\s+3\.571\s+3\.857\s+\+8\.0%\s+REGRESSION/)
  })
})

describe('open-loop results in the report', () => {
  const point = (rate: number, fraction: number | null, p99s: number[], cpu: number) => {
    const rounds = p99s.map((p99, i) => ({
      round: i + 1,
      rate,
      fraction,
      achievedRate: rate,
      requests: rate,
      completed: rate,
      latencyUs: { p50: p99 / 10, p90: p99 / 2, p99, p999: p99 * 2, max: p99 * 3 },
      serviceTimeUs: { p50: 1, p90: 1, p99: 1, max: 1 },
      sendLagUs: { p50: 1, p99: 1, max: 1 },
      cpuUsPerRequest: cpu,
      storeCpuUsPerRequest: null,
      serverBusyShare: 0.5,
      serverTimeUs: { p50: 50, p90: 80, p99: 100, max: 200, mean: 60 },
      storeOpsPerRequest: { reads: 1, writes: 0, deletes: 0 },
      statusCounts: { 200: rate },
      non2xx: 0,
      errors: 0,
      held: true,
      reason: null,
    }))
    const sorted = [...p99s].sort((a, b) => a - b)
    return {
      rate,
      fraction,
      achievedRate: rate,
      latencyUs: { p50: sorted[1]! / 10, p90: sorted[1]! / 2, p99: sorted[1]!, p999: sorted[1]! * 2, max: sorted[2]! * 3 },
      cpuUsPerRequest: cpu,
      serverBusyShare: 0.5,
      heldRounds: 3,
      rounds,
    }
  }
  const results = () => {
    const r = fixtureResults()
    r.scenario.load.mode = 'open'
    r.cells.find((c) => c.id === 'session-sqlite')!.openLoop = [
      point(3000, null, [2000, 2100, 1900], 30),
      point(10000, 0.5, [900, 950, 1000], 29),
    ]
    r.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!.openLoop = [
      point(3000, null, [9000, 8000, 9500], 72),
      point(6000, 0.5, [1500, 1400, 1600], 70),
    ]
    return r
  }

  test('the latency curve: p50 and p99 against the offered rate, one line per cell', () => {
    const curve = buildCharts(results()).find((c) => c.id === 'latency-curve')!
    assert.equal(curve.config.type, 'line')
    assert.deepEqual(
      curve.config.data.datasets.map((d) => d.label),
      ['session-sqlite p50', 'session-sqlite p99', 'jwt-HS256-jose-sqlite p50', 'jwt-HS256-jose-sqlite p99'],
    )
    assert.deepEqual(curve.config.data.datasets[1]!.data, [
      { x: 3000, y: 2000 },
      { x: 10000, y: 950 },
    ])
    assert.equal(
      buildCharts(fixtureResults()).some((c) => c.id === 'latency-curve'),
      false,
    )
  })

  test('at an equal rate, a p99 difference is stated only where its paired interval clears the band', () => {
    const f = findings(results()).find((x) => x.id === 'latency-3000-jwt-HS256-jose-sqlite-vs-session-sqlite')!
    assert.equal(
      f.sentence,
      "At 3,000 requests/s (open loop, equal load), JWT HS256 with jose had 4.50x the p99 latency of a sqlite session (store in the server's own process).",
    )
    assert.equal(f.verdict, 'ahead')
    const cpu = findings(results()).find((x) => x.id === 'cpu-equal-load-3000-jwt-HS256-jose-sqlite-vs-session-sqlite')!
    assert.equal(
      cpu.sentence,
      'At 3,000 requests/s (open loop, equal load), JWT HS256 with jose had 2.40x the CPU per request (servers and store) of a ' +
        "sqlite session (store in the server's own process).",
    )
    const r = results()
    r.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!.openLoop![0]!.rounds[1]!.latencyUs.p99 = 1500
    assert.match(
      findings(r).find((x) => x.kind === 'latency')!.sentence,
      /this run could not tell the p99 latency of JWT HS256 with jose and of a sqlite session apart or call them equal \(4\.50x, interval 0\.71x–5\.00x\)/,
    )
    const html = renderHtml(results(), '')
    assert.match(html, /Latency at a given load \(open loop\)/)
    assert.match(html, /<td>session-sqlite<\/td><td class="n">10,000 \(50% of capacity\)<\/td>/)
    // Client latency in µs from the open loop replaces autocannon's whole milliseconds where it exists.
    assert.match(html, /200 µs \/ 2,000 µs \/ 6,300 µs \(open loop, 3,000\/s\)/)
    assert.match(html, /1 \/ 4 \/ 9 ms \(closed loop\)/)
  })
})
