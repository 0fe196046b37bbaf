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
}

interface EngineOptions {
  keys: KeyMaterial
  clock: Clock
  /** True when `clock` is the real time, so per-call clock plumbing can be skipped. */
  systemClock: boolean
  /** How the key is handed to a library that takes either form (jsonwebtoken); the others import theirs once. */
  keyForm: KeyForm
}

export type EngineFactory = (options: EngineOptions) => Promise<JwtEngine>
