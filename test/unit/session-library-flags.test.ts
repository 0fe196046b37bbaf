import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError } from '../../common/errors.ts'
import { libraryConfig } from '../../common/session-libraries.ts'
import { parseServerArgs } from '../../servers/cli-config.ts'

const refused = (args: string[], message: RegExp) =>
  assert.throws(
    () => parseServerArgs(args, {}),
    (err: unknown) => err instanceof ConfigError && err.code === 'ERR_SERVER_CONFIG' && message.test(err.message),
    args.join(' '),
  )

test('--session-library and --preset: a library session on its framework and stores; refused elsewhere, the flag named', () => {
  const c = parseServerArgs(
    ['--strategy', 'session', '--session-library', 'express-session', '--framework', 'express', '--preset', 'defaults'],
    {},
  )
  assert.deepEqual([c.sessionLibrary, c.preset], ['express-session', 'defaults'])
  const d = parseServerArgs(['--strategy', 'session'], {})
  assert.deepEqual([d.sessionLibrary, d.preset], ['authbench', 'tuned'])
  refused(['--strategy', 'jwt', '--session-library', 'express-session'], /--session-library applies to --strategy session only/)
  refused(['--strategy', 'session', '--preset', 'defaults'], /--preset applies to a library session only/)
  refused(['--strategy', 'session', '--session-secret', 'x'.repeat(40)], /--session-secret applies to a library session only/)
  refused(
    ['--strategy', 'session', '--session-library', 'express-session'],
    /--session-library express-session runs on --framework express only; got --framework fastify/,
  )
  refused(
    ['--strategy', 'session', '--session-library', 'fastify-session', '--store', 'redis-cluster', '--redis-cluster-url', 'a:1'],
    /--session-library fastify-session has an adapter for --store redis, postgres, sqlite, memory only; got --store redis-cluster/,
  )
  refused(['--strategy', 'session', '--session-library', 'fastify-session', '--preset', 'fast'], /--preset must be one of defaults, tuned/)
})

test('each preset names every setting it changes, the adapter and its cookie', () => {
  const names = (lib: 'express-session' | 'fastify-session', preset: 'defaults' | 'tuned', store: 'redis' | 'sqlite') =>
    libraryConfig(lib, preset, store, 1800).settings.map((s) => `${s.kind} ${s.setting}=${s.value}`)
  assert.deepEqual(names('express-session', 'tuned', 'redis'), [
    "plain-http Express app.set('trust proxy', 1)=1",
    'cookie express-session cookie.secure=true',
    "cookie express-session cookie.sameSite='lax'",
    'cookie express-session cookie.maxAge=1800000',
    'tuned express-session resave=false',
    'tuned express-session saveUninitialized=false',
    'tuned connect-redis disableTouch=true',
  ])
  assert.deepEqual(names('express-session', 'defaults', 'sqlite').slice(4), [
    'default express-session resave=true (its default, unset)',
    'default express-session saveUninitialized=true (its default, unset)',
  ])
  assert.deepEqual(names('fastify-session', 'tuned', 'redis').slice(4), [
    'tuned @fastify/session saveUninitialized=false',
    'tuned @fastify/session rolling=false',
  ])
  const c = libraryConfig('express-session', 'tuned', 'redis', 1800)
  assert.deepEqual(
    [c.cookieName, c.adapter, c.sessionOptions.resave, c.adapterOptions],
    ['connect.sid', 'connect-redis', false, { disableTouch: true }],
  )
  assert.deepEqual(libraryConfig('express-session', 'defaults', 'redis', 1800).adapterOptions, {})
  assert.equal(libraryConfig('fastify-session', 'tuned', 'memory', 1800).adapter, '@fastify/session MemoryStore')
})
