import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../errors.js';

/**
 * Password guessing, limited twice, in this instance's memory, per client address as Fastify sees
 * it (the proxy's own address behind a proxy that MAINLOOP_TRUST_PROXY does not trust):
 * - per username and address, 10 attempts a minute: guessing at one account. Keyed by the
 *   username too, so that an attacker who shares the owner's address (everyone does behind such a
 *   proxy) exhausts the names they try, not the owner's;
 * - per address, 60 attempts a minute: trying many usernames. Only attempts the first limit let
 *   through count here, so hammering one name does not use up everyone's allowance.
 * Runs before the handler, once the body (the username) is parsed and valid.
 */
export function signInLimit(app: FastifyInstance): (request: FastifyRequest) => Promise<void> {
  const perAccount = app.createRateLimit({
    max: 10,
    timeWindow: '1 minute',
    // The body is parsed and valid here: both routes' schemas require a username.
    keyGenerator: (request) => `${request.ip} ${(request.body as { username: string }).username}`,
  });
  const perAddress = app.createRateLimit({ max: 60, timeWindow: '1 minute' });
  return (request) => refuseOverLimit(request, [perAccount, perAddress], 'too many sign-in attempts');
}

/** Checking set-up links (each a guess at a secret): 60 a minute per address. */
export function setupLinkCheckLimit(app: FastifyInstance): (request: FastifyRequest) => Promise<void> {
  const perAddress = app.createRateLimit({ max: 60, timeWindow: '1 minute' });
  return (request) => refuseOverLimit(request, [perAddress], 'too many set-up link checks');
}

type RateLimit = ReturnType<FastifyInstance['createRateLimit']>;

async function refuseOverLimit(request: FastifyRequest, limits: RateLimit[], what: string): Promise<void> {
  for (const limit of limits) {
    const state = await limit(request);
    if (!state.isAllowed && state.isExceeded) {
      throw new DomainError('RATE_LIMITED', `${what}: try again in ${state.ttlInSeconds} seconds`, {
        retryable: true,
      });
    }
  }
}
