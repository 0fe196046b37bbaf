import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { expandPlan } from '../../bench/plan.ts'
import { ScenarioError, loadScenario, validateScenario } from '../../bench/contracts/scenario.ts'

const valid = {
  name: 'x',
  description: 'd',
  cells: [{ strategy: 'none' }],
  workload: { route: 'GET /me' },
}

function issuesOf(raw: unknown): { path: string; message: string }[] {
  try {
    validateScenario(raw, 'f.json')
  } catch (err) {
    assert.ok(err instanceof ScenarioError)
    assert.equal(err.code, 'ERR_SCENARIO_INVALID')
    return err.issues
  }
  assert.fail('expected a ScenarioError')
}

describe('scenario validation', () => {
  test('defaults are applied', () => {
    const s = validateScenario(valid, 'f.json')
    assert.deepEqual(s.load, {
      connections: 50,
      durationSeconds: 5,
      warmupSeconds: 2,
      rounds: 3,
      mode: 'closed',
      arrivals: 'constant',
      drivers: 1,
    })
    assert.equal(s.topology, 'loopback')
    assert.equal(s.workload.users, 1000)
    assert.equal(s.micro, false)
  })

  test('unknown keys are refused, named with their path', () => {
    const issues = issuesOf({ ...valid, cells: [{ strategy: 'none', stor: 'redis' }], extra: 1 })
    assert.deepEqual(issues.map((i) => i.path).sort(), ['', 'cells[0]'])
    assert.match(issues.find((i) => i.path === 'cells[0]')!.message, /stor/)
  })

  test('wrong types and out-of-range values are all reported at once', () => {
    const issues = issuesOf({
      ...valid,
      cells: [{ strategy: 'jwt', alg: 'HS512' }, { strategy: ['session', 'oauth'] }],
      load: { connections: 0, durationSeconds: 'five', rounds: 2.5 },
      workload: { route: 'GET /admin' },
    })
    assert.deepEqual(issues.map((i) => i.path).sort(), [
      'cells[0].alg',
      'cells[1].strategy',
      'load.connections',
      'load.durationSeconds',
      'load.rounds',
      'workload.route',
    ])
    assert.match(issues.find((i) => i.path === 'cells[0].alg')!.message, /found "HS512"/)
    assert.match(issues.find((i) => i.path === 'load.durationSeconds')!.message, /found "five"/)
  })

  test('missing required fields', () => {
    const issues = issuesOf({ cells: [] })
    assert.deepEqual(issues.map((i) => i.path).sort(), ['cells', 'description', 'name', 'workload'])
  })

  test('the error message names the file and every field path', () => {
    try {
      validateScenario({ ...valid, name: 'Bad Name!' }, 'scenarios/mine.yaml')
      assert.fail('expected a ScenarioError')
    } catch (err) {
      assert.match((err as Error).message, /scenarios\/mine\.yaml: name: lowercase letters/)
    }
  })
})

describe('scenario files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-scn-'))
  test.after(() => rmSync(dir, { recursive: true, force: true }))

  test('.json, .yaml and .ts load to the same scenario', async () => {
    writeFileSync(join(dir, 'a.json'), JSON.stringify(valid))
    writeFileSync(join(dir, 'a.yaml'), 'name: x\ndescription: d\ncells:\n  - strategy: none\nworkload:\n  route: GET /me\n')
    writeFileSync(join(dir, 'a.ts'), `export default ${JSON.stringify(valid)}\n`)
    const [a, b, c] = await Promise.all(['a.json', 'a.yaml', 'a.ts'].map((f) => loadScenario(join(dir, f))))
    assert.deepEqual(a, b)
    assert.deepEqual(a, c)
  })

  test('--instructions lays measure.instructions over the file; the lifecycle route is refused with the field', async () => {
    writeFileSync(join(dir, 'm.json'), JSON.stringify(valid))
    assert.deepEqual((await loadScenario(join(dir, 'm.json'))).measure, { instructions: false })
    assert.deepEqual((await loadScenario(join(dir, 'm.json'), { instructions: true })).measure, { instructions: true })
    const lifecycle = { ...valid, cells: [{ strategy: 'session' }], workload: { route: 'lifecycle', durationSeconds: 5 } }
    writeFileSync(join(dir, 'l.json'), JSON.stringify(lifecycle))
    await assert.rejects(
      loadScenario(join(dir, 'l.json'), { instructions: true }),
      (err: Error) => err instanceof ScenarioError && err.issues.some((i) => i.path === 'measure.instructions'),
    )
  })

  test('unparsable files and unsupported types are ScenarioErrors naming the file', async () => {
    writeFileSync(join(dir, 'broken.json'), '{"name": ')
    writeFileSync(join(dir, 'x.toml'), '')
    writeFileSync(join(dir, 'nodefault.ts'), 'export const a = 1\n')
    for (const f of ['broken.json', 'x.toml', 'nodefault.ts']) {
      await assert.rejects(loadScenario(join(dir, f)), (err: Error) => err instanceof ScenarioError && err.message.includes(f))
    }
  })
})

describe('plan expansion', () => {
  const plan = (cells: unknown[], extra: Record<string, unknown> = {}) =>
    expandPlan(validateScenario({ ...valid, cells, ...extra }, 'f.json'), 'f.json')

  test('array axes expand into every combination, in order, with non-applying fields null', () => {
    const { cells, baseline } = plan([
      { strategy: 'none' },
      { strategy: 'session', store: ['sqlite', 'redis'] },
      { strategy: 'jwt', alg: ['HS256', 'EdDSA'], engine: ['jose', 'fast-jwt'], instances: [1, 2] },
    ])
    assert.deepEqual(
      cells.map((c) => c.id),
      [
        'none',
        'session-sqlite',
        'session-redis',
        'jwt-HS256-jose-sqlite',
        'jwt-HS256-jose-sqlite-x2',
        'jwt-HS256-fast-jwt-sqlite',
        'jwt-HS256-fast-jwt-sqlite-x2',
        'jwt-EdDSA-jose-sqlite',
        'jwt-EdDSA-jose-sqlite-x2',
        'jwt-EdDSA-fast-jwt-sqlite',
        'jwt-EdDSA-fast-jwt-sqlite-x2',
      ],
    )
    assert.deepEqual(cells[0], {
      id: 'none',
      strategy: 'none',
      store: null,
      alg: null,
      engine: null,
      keyForm: null,
      verifyCache: null,
      revocation: null,
      accessTtlSeconds: null,
      refreshGraceSeconds: null,
      refreshJitterSeconds: null,
      storeRttMs: null,
      instances: 1,
      workload: 'GET /me',
    })
    assert.equal(cells[1]!.alg, null)
    assert.equal(baseline.id, 'none')
  })

  test('keyForm: jsonwebtoken only, each form named in the id, refused for other engines and for an algorithm it does not sign', () => {
    const { cells } = plan([{ strategy: 'jwt', engine: ['jose', 'jsonwebtoken'], keyForm: ['string', 'keyobject'] }])
    assert.deepEqual(
      cells.map((c) => [c.id, c.keyForm]),
      [
        ['jwt-HS256-jose-sqlite', null],
        ['jwt-HS256-jsonwebtoken-string-sqlite', 'string'],
        ['jwt-HS256-jsonwebtoken-keyobject-sqlite', 'keyobject'],
      ],
    )
    assert.deepEqual(
      plan([{ strategy: 'jwt', alg: 'RS256', engine: 'jsonwebtoken' }]).cells.map((c) => [c.id, c.keyForm]),
      [['jwt-RS256-jsonwebtoken-keyobject-sqlite', 'keyobject']],
    )
    const issues = (cells: unknown[]) => {
      try {
        plan(cells)
      } catch (err) {
        return (err as ScenarioError).issues
      }
      return []
    }
    assert.deepEqual(issues([{ strategy: 'jwt', engine: 'fast-jwt', keyForm: 'string' }]), [
      { path: 'cells[0].keyForm', message: 'applies to engine jsonwebtoken only; found engine "fast-jwt"' },
    ])
    assert.deepEqual(issues([{ strategy: 'jwt', keyForm: 'string' }]), [
      { path: 'cells[0].keyForm', message: 'applies to engine jsonwebtoken only; found engine "jose"' },
    ])
    assert.deepEqual(issues([{ strategy: 'session', keyForm: 'string' }]), [
      { path: 'cells[0].keyForm', message: 'applies to strategy jwt only; found strategy "session"' },
    ])
    assert.deepEqual(issues([{ strategy: 'jwt', alg: 'EdDSA', engine: 'jsonwebtoken' }]), [
      { path: 'cells[0].alg', message: 'engine "jsonwebtoken" signs HS256, RS256, ES256 only; found "EdDSA"' },
    ])
    assert.deepEqual(
      issuesOf({ ...valid, cells: [{ strategy: 'jwt', engine: 'jsonwebtoken', keyForm: 'buffer' }] }).map((i) => i.path),
      ['cells[0].keyForm'],
    )
    const selected = plan([{ strategy: 'jwt', engine: 'jsonwebtoken', keyForm: ['string', 'keyobject'] }], {
      baseline: { strategy: 'jwt', keyForm: 'keyobject' },
    })
    assert.equal(selected.baseline.id, 'jwt-HS256-jsonwebtoken-keyobject-sqlite')
  })

  test('verifyCache: fast-jwt and fastify-jwt only, named in the id when on, refused for other engines', () => {
    const { cells } = plan([{ strategy: 'jwt', engine: ['jose', 'fast-jwt', 'fastify-jwt'], verifyCache: [0, 1000] }])
    assert.deepEqual(
      cells.map((c) => [c.id, c.verifyCache]),
      [
        ['jwt-HS256-jose-sqlite', null],
        ['jwt-HS256-fast-jwt-sqlite', 0],
        ['jwt-HS256-fast-jwt-cache1000-sqlite', 1000],
        ['jwt-HS256-fastify-jwt-sqlite', 0],
        ['jwt-HS256-fastify-jwt-cache1000-sqlite', 1000],
      ],
    )
    const issues = (cells: unknown[]) => {
      try {
        plan(cells)
      } catch (err) {
        return (err as ScenarioError).issues
      }
      return []
    }
    assert.deepEqual(issues([{ strategy: 'jwt', engine: 'jsonwebtoken', verifyCache: 1000 }]), [
      { path: 'cells[0].verifyCache', message: 'applies to engine fast-jwt, fastify-jwt only; found engine "jsonwebtoken"' },
    ])
    assert.deepEqual(issues([{ strategy: 'jwt', verifyCache: 1000 }]), [
      { path: 'cells[0].verifyCache', message: 'applies to engine fast-jwt, fastify-jwt only; found engine "jose"' },
    ])
    assert.deepEqual(issues([{ strategy: 'session', verifyCache: 1000 }]), [
      { path: 'cells[0].verifyCache', message: 'applies to strategy jwt only; found strategy "session"' },
    ])
    assert.deepEqual(
      issuesOf({ ...valid, cells: [{ strategy: 'jwt', engine: 'fast-jwt', verifyCache: -1 }] }).map((i) => i.path),
      ['cells[0].verifyCache'],
    )
    const selected = plan([{ strategy: 'jwt', engine: 'fast-jwt', verifyCache: [0, 1000] }], {
      baseline: { strategy: 'jwt', verifyCache: 0 },
    })
    assert.equal(selected.baseline.id, 'jwt-HS256-fast-jwt-sqlite')
  })

  test('sessionCache: the reference session only, off by default, named in the id when on, refused elsewhere with the field', () => {
    const cache = { entries: 1000, ttlSeconds: 5 }
    const { cells } = plan([{ strategy: ['session', 'jwt'], store: 'redis', sessionCache: [null, cache] }])
    assert.deepEqual(
      cells.map((c) => [c.id, c.sessionCache ?? null]),
      [
        ['session-redis', null],
        ['session-redis-scache1000-t5s', cache],
        ['jwt-HS256-jose-redis', null],
      ],
    )
    assert.equal(plan([{ strategy: 'session' }]).cells[0]!.sessionCache, undefined)
    const issues = (cells: unknown[]) => {
      try {
        plan(cells)
      } catch (err) {
        return (err as ScenarioError).issues
      }
      return []
    }
    assert.deepEqual(issues([{ strategy: 'jwt', sessionCache: cache }]), [
      { path: 'cells[0].sessionCache', message: 'applies to strategy session only; found strategy "jwt"' },
    ])
    assert.deepEqual(
      issuesOf({ ...valid, cells: [{ strategy: 'session', sessionCache: { entries: 0, ttlSeconds: 5 } }] }).map((i) => i.path),
      ['cells[0].sessionCache.entries'],
    )
    assert.deepEqual(issuesOf({ ...valid, cells: [{ strategy: 'session', sessionCache: { entries: 10 } }] }), [
      {
        path: 'cells[0].sessionCache',
        message: 'expected { entries, ttlSeconds } (whole numbers, at least 1), null (off), or a list of these; found {"entries":10}',
      },
    ])
    const selected = plan([{ strategy: 'session', sessionCache: [null, cache] }], { baseline: { strategy: 'session', sessionCache: null } })
    assert.equal(selected.baseline.id, 'session-sqlite')
    const cachedOne = plan([{ strategy: 'session', sessionCache: [null, cache] }], {
      baseline: { strategy: 'session', sessionCache: cache },
    })
    assert.equal(cachedOne.baseline.id, 'session-sqlite-scache1000-t5s')
    // A library session has no session cache: refused when every session cell the entry makes is a library's.
    assert.deepEqual(issues([{ strategy: 'session', sessionLibrary: 'fastify-session', sessionCache: cache }]), [
      {
        path: 'cells[0].sessionCache',
        message: 'applies to the reference session only (sessionLibrary absent or "authbench"); found sessionLibrary "fastify-session"',
      },
    ])
    assert.deepEqual(
      plan([{ strategy: 'session', sessionLibrary: ['authbench', 'fastify-session'], sessionCache: cache }]).cells.map((c) => c.id),
      ['session-sqlite-scache1000-t5s', 'session-fastify-session-sqlite-tuned'],
    )
  })

  test('sessionLibrary and preset: named in the id, the framework implied, each refused elsewhere with the field named', () => {
    const { cells } = plan([
      {
        strategy: ['session', 'jwt'],
        sessionLibrary: 'express-session',
        preset: ['defaults', 'tuned'],
        store: 'redis',
        framework: 'express',
      },
      { strategy: 'session', sessionLibrary: ['authbench', 'fastify-session'], store: ['redis', 'memory'] },
    ])
    assert.deepEqual(
      cells.map((c) => [c.id, c.sessionLibrary, c.preset]),
      [
        ['session-express-session-redis-defaults', 'express-session', 'defaults'],
        ['session-express-session-redis-tuned', 'express-session', 'tuned'],
        ['jwt-HS256-jose-redis-express', undefined, undefined],
        ['session-redis', undefined, undefined],
        ['session-fastify-session-redis-tuned', 'fastify-session', 'tuned'],
        ['session-memory', undefined, undefined],
        ['session-fastify-session-memory-tuned', 'fastify-session', 'tuned'],
      ],
    )
    assert.deepEqual(issuesOf({ ...valid, cells: [{ strategy: 'jwt', sessionLibrary: 'express-session', framework: 'express' }] }), [
      { path: 'cells[0].sessionLibrary', message: 'applies to strategy "session" only; found "express-session"' },
    ])
    assert.deepEqual(issuesOf({ ...valid, cells: [{ strategy: 'session', preset: 'defaults' }] }), [
      {
        path: 'cells[0].preset',
        message: 'applies to a library session only (sessionLibrary "fastify-session" or "express-session"); found "defaults"',
      },
    ])
    assert.deepEqual(issuesOf({ ...valid, cells: [{ strategy: 'session', sessionLibrary: 'express-session', store: 'redis-cluster' }] }), [
      {
        path: 'cells[0].framework',
        message: 'sessionLibrary "express-session" runs on framework "express" only (give it an entry of its own); found nothing',
      },
      {
        path: 'cells[0].store',
        message: 'sessionLibrary "express-session" has no store adapter for "redis-cluster"; found "redis-cluster"',
      },
    ])
    const selected = plan([{ strategy: 'session', sessionLibrary: ['authbench', 'fastify-session'], preset: ['defaults', 'tuned'] }], {
      baseline: { strategy: 'session', sessionLibrary: 'fastify-session', preset: 'defaults' },
    })
    assert.equal(selected.baseline.id, 'session-fastify-session-sqlite-defaults')
    assert.equal(
      plan([{ strategy: 'session' }], { baseline: { strategy: 'session', sessionLibrary: 'authbench' } }).baseline.id,
      'session-sqlite',
    )
  })

  test('framework: every strategy takes it, express named in the id, the cookie refused on express with the field named', () => {
    const { cells } = plan([
      { strategy: ['none', 'session'], framework: ['fastify', 'express'] },
      { strategy: 'jwt', instances: 2, framework: 'express' },
    ])
    assert.deepEqual(
      cells.map((c) => [c.id, c.framework]),
      [
        ['none', undefined],
        ['none-express', 'express'],
        ['session-sqlite', undefined],
        ['session-sqlite-express', 'express'],
        ['jwt-HS256-jose-sqlite-express-x2', 'express'],
      ],
    )
    assert.deepEqual(issuesOf({ ...valid, cells: [{ strategy: ['none', 'cookie'], framework: ['fastify', 'express'] }] }), [
      {
        path: 'cells[0].framework',
        message:
          'strategy "cookie" runs on framework "fastify" only (a Fastify plugin; give it an entry of its own); found ["fastify","express"]',
      },
    ])
    assert.equal(plan([{ strategy: 'cookie', framework: 'fastify' }]).cells[0]!.id, 'cookie')
    assert.deepEqual(issuesOf({ ...valid, cells: [{ strategy: 'jwt', engine: ['jose', 'fastify-jwt'], framework: 'express' }] }), [
      {
        path: 'cells[0].framework',
        message: 'engine "fastify-jwt" runs on framework "fastify" only (a Fastify plugin; give it an entry of its own); found "express"',
      },
    ])
    assert.deepEqual(
      issuesOf({ ...valid, cells: [{ strategy: 'none', framework: 'koa' }] }).map((i) => i.path),
      ['cells[0].framework'],
    )
    const selected = plan([{ strategy: 'none', framework: ['fastify', 'express'] }], {
      baseline: { strategy: 'none', framework: 'express' },
    })
    assert.equal(selected.baseline.id, 'none-express')
    assert.equal(
      plan([{ strategy: 'none', framework: ['express', 'fastify'] }], { baseline: { strategy: 'none', framework: 'fastify' } }).baseline.id,
      'none',
    )
  })

  test('adaptive rounds: looks rise above load.rounds, in the closed loop only', () => {
    const load = (extra: object) => ({ ...valid, load: { rounds: 6, ...extra } })
    assert.deepEqual(validateScenario(load({ moreRounds: [10, 14, 20] }), 'f.json').load.moreRounds, [10, 14, 20])
    assert.deepEqual(issuesOf(load({ moreRounds: [6, 10] })), [
      { path: 'load.moreRounds', message: 'must rise above load.rounds (6), each look above the last; found [6,10]' },
    ])
    assert.deepEqual(
      issuesOf(load({ moreRounds: [10], mode: 'open', rates: [100] })).map((i) => i.path),
      ['load.moreRounds'],
    )
  })

  test('open mode needs rates or capacity fractions; closed mode takes neither', () => {
    const v = (load: Record<string, unknown>) => () => validateScenario({ ...valid, load }, 'o.json')
    assert.throws(
      v({ mode: 'open' }),
      (err: ScenarioError) =>
        err.issues.length === 1 &&
        err.issues[0]!.path === 'load.mode' &&
        /needs load\.rates or load\.capacityFractions/.test(err.issues[0]!.message),
    )
    assert.throws(
      v({ rates: [100] }),
      (err: ScenarioError) => err.issues[0]!.path === 'load.rates' && /applies to load\.mode "open" only/.test(err.issues[0]!.message),
    )
    assert.throws(v({ mode: 'open', rates: [0] }), (err: ScenarioError) => err.issues[0]!.path === 'load.rates[0]')
    assert.throws(v({ mode: 'open', capacityFractions: [2] }), (err: ScenarioError) => err.issues[0]!.path === 'load.capacityFractions[0]')
    assert.deepEqual(validateScenario({ ...valid, load: { mode: 'open', capacityFractions: [0.5] } }, 'o.json').load.arrivals, 'constant')
  })

  test('JWT-only fields on other strategies, duplicates and a baseline matching no cell or several', () => {
    assert.throws(
      () => plan([{ strategy: 'session', alg: 'HS256' }]),
      (err: ScenarioError) => err.issues.length === 1 && err.issues[0]!.path === 'cells[0].alg',
    )
    assert.throws(
      () => plan([{ strategy: 'cookie', store: 'redis' }]),
      (err: ScenarioError) =>
        err.issues.length === 1 &&
        err.issues[0]!.path === 'cells[0].store' &&
        err.issues[0]!.message === 'applies to strategy session, jwt only; found strategy "cookie"',
    )
    assert.deepEqual(
      plan([{ strategy: 'cookie', instances: [1, 2] }]).cells.map((c) => [c.id, c.store]),
      [
        ['cookie', null],
        ['cookie-x2', null],
      ],
    )
    assert.throws(
      () => plan([{ strategy: 'none' }, { strategy: 'none' }]),
      (err: ScenarioError) => err.issues[0]!.path === 'cells[1]' && /already measures/.test(err.issues[0]!.message),
    )
    assert.throws(
      () => plan([{ strategy: 'none' }], { baseline: { strategy: 'jwt' } }),
      (err: ScenarioError) => err.issues[0]!.path === 'baseline' && /matches no cell/.test(err.issues[0]!.message),
    )
    assert.throws(
      () => plan([{ strategy: 'session', store: ['sqlite', 'redis'] }], { baseline: { strategy: 'session' } }),
      (err: ScenarioError) => /matches 2 cells/.test(err.issues[0]!.message),
    )
  })
})
