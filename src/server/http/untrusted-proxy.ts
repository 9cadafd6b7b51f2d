import type { FastifyInstance } from 'fastify';

/**
 * Behind a reverse proxy that MAINLOOP_TRUST_PROXY does not trust, every client has the proxy's
 * address (the sign-in limits count them together) and the forwarded scheme and host are ignored.
 * Says so once, at the first request that carries X-Forwarded-For.
 */
export function warnOfUntrustedProxy(app: FastifyInstance): void {
  let warned = false;
  app.addHook('onRequest', (request, _reply, done) => {
    if (!warned && request.headers['x-forwarded-for'] !== undefined) {
      warned = true;
      request.log.warn(
        { proxyAddress: request.ip },
        'requests arrive with X-Forwarded-For, but MAINLOOP_TRUST_PROXY is not set: every client looks like the proxy (one sign-in limit for all of them, its scheme and host ignored); set MAINLOOP_TRUST_PROXY=true when a proxy of yours is in front of mainloop',
      );
    }
    done();
  });
}
