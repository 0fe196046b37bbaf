import { VerificationError } from '../../servers/errors.ts'
import type { Credential } from './index.ts'

export const loginBody = (user: number) => JSON.stringify({ username: `user${user}`, password: `pw-user${user}` })

export function postLogin(url: string, user: number): Promise<Response> {
  return fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: loginBody(user) })
}

/** Logs in and keeps the cookie `name` the server sets (204 expected). */
export async function cookieLogin(url: string, user: number, name: string): Promise<Credential> {
  const res = await postLogin(url, user)
  await res.arrayBuffer()
  const value = new RegExp(`^${name}=([^;]+)`).exec(res.headers.get('set-cookie') ?? '')?.[1]
  if (res.status !== 204 || !value) throw new VerificationError(`login of user${user} at ${url}: status ${res.status}, no ${name} cookie`)
  return { headers: { cookie: `${name}=${value}` }, raw: value }
}
