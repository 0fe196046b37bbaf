// Question: what does each JWT library cost per GET /me as teams call it: jose, fast-jwt and
// jsonwebtoken (the one teams use most) verifying HS256, and jsonwebtoken handed its secret as a
// string (as most code passes it: it tries createPublicKey() on it every verify) or as a KeyObject?
// And @fastify/jwt (fast-jwt inside, as Fastify teams use it), and fast-jwt with its verify cache on:
// what does skipping the signature check for a token verified before save?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'jwt-libraries',
  description:
    'GET /me with HS256 in jose, fast-jwt, jsonwebtoken and @fastify/jwt, jsonwebtoken with a string secret and with a KeyObject, ' +
    'fast-jwt with a 1000-entry verify cache',
  cells: [
    { strategy: 'none' },
    // keyForm applies to jsonwebtoken only: jose and fast-jwt expand to one cell each.
    { strategy: 'jwt', alg: 'HS256', engine: ['jose', 'fast-jwt', 'jsonwebtoken'], keyForm: ['string', 'keyobject'] },
    { strategy: 'jwt', alg: 'HS256', engine: 'fastify-jwt' },
    // Each connection presents its own token again and again: with 50 connections a 1000-entry cache hits every time after the first.
    { strategy: 'jwt', alg: 'HS256', engine: 'fast-jwt', verifyCache: 1000 },
  ],
  workload: { route: 'GET /me' },
  load: { connections: 50, durationSeconds: 1, warmupSeconds: 1, rounds: 3 },
  baseline: { strategy: 'none' },
})
