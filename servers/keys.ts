import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError } from '../common/errors.ts'
import type { Alg } from './types.ts'

/** Signing material for one server: imported once at start, never per request. */
export interface KeyMaterial {
  alg: Alg
  /** HS256 only. */
  secret: Buffer | null
  /** Asymmetric algorithms only (PEM, PKCS#8 and SPKI). */
  privateKeyPem: string | null
  publicKeyPem: string | null
  /** RFC 7638 thumbprint of the public key; null for HS256. */
  kid: string | null
  /** The public key as a JWK (with kid, alg, use), null for HS256. */
  publicJwk: Record<string, unknown> | null
}

const KEY_TYPES: Record<Exclude<Alg, 'HS256'>, { type: string; curve?: string }> = {
  RS256: { type: 'rsa' },
  ES256: { type: 'ec', curve: 'prime256v1' },
  EdDSA: { type: 'ed25519' },
}

function generate(alg: Exclude<Alg, 'HS256'>): KeyObject {
  switch (alg) {
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    case 'EdDSA':
      return generateKeyPairSync('ed25519').privateKey
  }
}

function thumbprint(jwk: Record<string, unknown>): string {
  const members: Record<string, string[]> = { RSA: ['e', 'kty', 'n'], EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'] }
  const required = members[jwk.kty as string] ?? []
  const canonical = JSON.stringify(Object.fromEntries(required.map((k) => [k, jwk[k]])))
  return createHash('sha256').update(canonical).digest('base64url')
}

export interface KeyOptions {
  /** HS256: the shared secret, hex, at least 32 bytes. */
  jwtSecret?: string | undefined
  /** Asymmetric: a PKCS#8 PEM private key file, so several instances share one key. */
  keyFile?: string | undefined
}

export function loadKeys(alg: Alg, options: KeyOptions = {}): KeyMaterial {
  if (alg === 'HS256') {
    if (options.keyFile) throw new ConfigError('--key-file applies to RS256, ES256 and EdDSA; HS256 takes --jwt-secret')
    let secret = randomBytes(32)
    if (options.jwtSecret !== undefined) {
      if (!/^(?:[0-9a-fA-F]{2}){32,}$/.test(options.jwtSecret)) {
        throw new ConfigError('--jwt-secret must be hex encoding at least 32 bytes (64 hex digits)')
      }
      secret = Buffer.from(options.jwtSecret, 'hex')
    }
    return { alg, secret, privateKeyPem: null, publicKeyPem: null, kid: null, publicJwk: null }
  }
  if (options.jwtSecret) throw new ConfigError(`--jwt-secret applies to HS256 only, not ${alg}`)
  let privateKey: KeyObject
  if (options.keyFile) {
    try {
      privateKey = createPrivateKey(readFileSync(options.keyFile, 'utf8'))
    } catch (err) {
      throw new ConfigError(`--key-file ${options.keyFile}: cannot read a PEM private key (${(err as Error).message})`)
    }
    const want = KEY_TYPES[alg]
    const curve = privateKey.asymmetricKeyDetails?.namedCurve
    if (privateKey.asymmetricKeyType !== want.type || (want.curve && curve !== want.curve)) {
      throw new ConfigError(`--key-file ${options.keyFile}: a ${privateKey.asymmetricKeyType} key cannot sign ${alg}`)
    }
  } else {
    privateKey = generate(alg)
  }
  const publicKey = createPublicKey(privateKey)
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>
  const kid = thumbprint(jwk)
  return {
    alg,
    secret: null,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    kid,
    publicJwk: { ...jwk, kid, alg, use: 'sig' },
  }
}

/** Writes nothing: returns a fresh PKCS#8 PEM for `alg`, for the harness to share among instances. */
export function generatePrivateKeyPem(alg: Exclude<Alg, 'HS256'>): string {
  return generate(alg).export({ format: 'pem', type: 'pkcs8' }).toString()
}
