import { randomBytes } from 'node:crypto'

export const SESSION_COOKIE = 'sid'
/** 32 bytes from the CSPRNG, base64url: 256 bits, 43 characters. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/
/** Longer bearer tokens are refused before any parsing or signature work. */
export const MAX_TOKEN_LENGTH = 4096

export function newSessionId(): string {
  return randomBytes(32).toString('base64url')
}

/** A random token id (`jti`) or refresh family id: 128 bits. */
export function newTokenId(): string {
  return randomBytes(16).toString('base64url')
}

/** The value of cookie `name` in a Cookie header, without allocating a map of every cookie. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null
  const key = `${name}=`
  let i = 0
  while (i < header.length) {
    while (header.charCodeAt(i) === 32) i++
    let end = header.indexOf(';', i)
    if (end === -1) end = header.length
    if (header.startsWith(key, i)) return header.slice(i + key.length, end).trim()
    i = end + 1
  }
  return null
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), else null. */
export function readBearer(header: string | undefined): string | null {
  if (!header || header.length < 8 || header.length > MAX_TOKEN_LENGTH + 7) return null
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') return null
  const token = header.slice(7).trim()
  return token.length > 0 ? token : null
}
