import assert from 'node:assert/strict'
import { test } from 'node:test'
import { applySetCookie, keepCookies, parseSetCookie } from '../../bench/cookie-jar.ts'

test('a Set-Cookie line: its name and value, or null when it removes the cookie', () => {
  assert.deepEqual(parseSetCookie('session=abc.def; Path=/; HttpOnly; Secure; SameSite=Lax'), { name: 'session', value: 'abc.def' })
  assert.deepEqual(parseSetCookie('sid=; Max-Age=0; Path=/'), { name: 'sid', value: null })
  assert.deepEqual(parseSetCookie('sid=x; Max-Age=0'), { name: 'sid', value: null })
  assert.deepEqual(parseSetCookie('sid=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT'), { name: 'sid', value: null })
  assert.deepEqual(parseSetCookie('sid=x; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT'), { name: 'sid', value: 'x' })
  assert.equal(parseSetCookie('=nameless'), null)
})

test('the Cookie header a browser sends next: replaced, added, removed, or the same string when nothing changed', () => {
  const header = 'theme=dark; session=old; lang=en'
  assert.equal(applySetCookie(header, ['session=new; Path=/']), 'theme=dark; session=new; lang=en')
  assert.equal(applySetCookie(header, ['extra=1']), 'theme=dark; session=old; lang=en; extra=1')
  assert.equal(applySetCookie(header, ['session=; Max-Age=0']), 'theme=dark; lang=en')
  assert.equal(applySetCookie(header, ['session=old; Path=/']), header)
  assert.equal(applySetCookie(header, []), header)
  assert.equal(applySetCookie('sid=a', ['sid=; Max-Age=0']), undefined)
  assert.equal(applySetCookie(undefined, ['sid=a']), 'sid=a')
  const headers: Record<string, string> = { cookie: 'sid=a' }
  assert.equal(keepCookies(headers, 'sid=b; HttpOnly'), true)
  assert.deepEqual(headers, { cookie: 'sid=b' })
  assert.equal(keepCookies(headers, ['sid=b']), false)
  assert.equal(keepCookies(headers, ['sid=; Max-Age=0']), true)
  assert.deepEqual(headers, {})
})
