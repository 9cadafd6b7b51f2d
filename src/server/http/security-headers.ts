import type { FastifyInstance } from 'fastify';

/**
 * The web app's and the API's Content-Security-Policy: everything from mainloop's own origin,
 * no inline scripts (inline styles are allowed), no plugins, nothing may frame us.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "base-uri 'self'",
  "font-src 'self' https: data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data: blob:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
].join(';');

/**
 * What every answer carries: Helmet's defaults with the policy above, without HSTS (set by
 * whatever terminates TLS in front of us) and without Cross-Origin-Embedder-Policy. Fixed at
 * start-up: nothing in them depends on the request.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Origin-Agent-Cluster': '?1',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-DNS-Prefetch-Control': 'off',
  'X-Download-Options': 'noopen',
  'X-Frame-Options': 'SAMEORIGIN',
  'X-Permitted-Cross-Domain-Policies': 'none',
  'X-XSS-Protection': '0',
});

/**
 * Sets the security headers and `x-request-id` on every response, first thing: on the raw
 * response, so they are there for errors, 404s, static files and hijacked replies alike.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  const headers = Object.entries(SECURITY_HEADERS);
  app.addHook('onRequest', (request, reply, done) => {
    const response = reply.raw;
    for (const [name, value] of headers) response.setHeader(name, value);
    response.setHeader('x-request-id', request.id);
    done();
  });
}
