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
 * start-up: nothing in them depends on the request. Names in lower case, as Fastify keeps them.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

/**
 * Sets the security headers and `x-request-id` on every reply, first thing, so that errors,
 * 404s and static files carry them too. They go into the reply's own headers, which Fastify
 * hands to Node in one `writeHead`; set one by one on the raw response they would each be
 * checked twice, and that costs every request several microseconds. A hijacked reply (the
 * event stream) writes its head itself and sets what applies to it.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  const headers = Object.entries(SECURITY_HEADERS);
  app.addHook('onRequest', (request, reply, done) => {
    for (const [name, value] of headers) reply.header(name, value);
    reply.header('x-request-id', request.id);
    done();
  });
}
