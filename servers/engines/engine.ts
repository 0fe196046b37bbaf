import type { FastifyInstance } from 'fastify'
import type { KeyMaterial } from '../keys.ts'
import type { Clock, KeyForm } from '../types.ts'

export const ISSUER = 'authbench'
export const AUDIENCE = 'authbench-api'
export type TokenType = 'at+jwt' | 'rt+jwt'
export const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'jti', 'iat', 'exp'] as const

export type Claims = Record<string, unknown>

/**
 * A JWT library behind one interface. `verify` pins the algorithm and checks signature, `typ`,
 * issuer, audience, expiry, not-before, required claims and `crit`; it throws on any failure.
 */
export interface JwtEngine {
  sign(claims: Claims, typ: TokenType): Promise<string>
  verify(token: string, typ: TokenType): Promise<Claims>
  /** An engine that is a Fastify plugin (@fastify/jwt) registers itself on the app; it signs and verifies once the app is ready. */
  register?(app: FastifyInstance): void
}

interface EngineOptions {
  keys: KeyMaterial
  clock: Clock
  /** True when `clock` is the real time, so per-call clock plumbing can be skipped. */
  systemClock: boolean
  /** How the key is handed to a library that takes either form (jsonwebtoken); the others import theirs once. */
  keyForm: KeyForm
  /** Entries in the library's verified-token cache (fast-jwt's `cache`), 0 = off; only engines with such a cache take it. */
  verifyCache: number
}

export type EngineFactory = (options: EngineOptions) => Promise<JwtEngine>
