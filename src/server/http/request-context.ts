import type { FastifyRequest } from 'fastify';
import { DomainError } from '../errors.js';

/** Who is asking: set by the auth guard on every authenticated request. */
export interface Principal {
  userId: string;
  isOwner: boolean;
  /** how they proved it */
  via: 'session' | 'token';
  sessionId?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** routes that answer without credentials (health, the docs, /api/auth/*, the web app); the auth guard asks the matched route */
    public?: boolean;
  }
}

/** The signed-in principal of a route that the guard has let through. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new DomainError('UNAUTHENTICATED', 'sign in or send an API token');
  return request.principal;
}
