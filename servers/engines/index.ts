import type { EngineKind } from '../types.ts'
import type { EngineFactory } from './engine.ts'
import { createFastJwtEngine } from './fast-jwt.ts'
import { createFastifyJwtEngine } from './fastify-jwt.ts'
import { createJoseEngine } from './jose.ts'
import { createJsonwebtokenEngine } from './jsonwebtoken.ts'

export const engines = {
  jose: createJoseEngine,
  'fast-jwt': createFastJwtEngine,
  jsonwebtoken: createJsonwebtokenEngine,
  'fastify-jwt': createFastifyJwtEngine,
} satisfies Record<EngineKind, EngineFactory>
