import type { FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'mainloop_session';

/** What a request offers as proof of who it is, read once at the HTTP edge. */
export type Credentials =
  /** `Authorization` was sent; `token` is undefined when it is not `Bearer <token>` */
  | { kind: 'bearer'; token: string | undefined }
  | { kind: 'session'; secret: string; changesState: boolean; origin: OriginFacts }
  | { kind: 'none' };

/** What the browser says about where a request comes from, and where it arrived. */
export interface OriginFacts {
  /** the `Sec-Fetch-Site` header */
  fetchSite: string | undefined;
  /** the `Origin` header */
  origin: string | undefined;
  /** this server as the request reached it: `<protocol>://<host>` (X-Forwarded-* when trustProxy is on) */
  self: string;
}

const BEARER = /^Bearer\s+(\S+)$/i;
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The bearer token wins over the session cookie when both are present. */
export function readCredentials(request: FastifyRequest): Credentials {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) return { kind: 'bearer', token: BEARER.exec(authorization)?.[1] };
  const secret = request.cookies?.[SESSION_COOKIE];
  if (!secret) return { kind: 'none' };
  return {
    kind: 'session',
    secret,
    changesState: STATE_CHANGING.has(request.method),
    origin: {
      fetchSite: single(request.headers['sec-fetch-site']),
      origin: single(request.headers.origin),
      self: `${request.protocol}://${request.host}`,
    },
  };
}

/**
 * Whether a cookie-carrying request comes from mainloop's own pages: the browser says
 * `Sec-Fetch-Site: same-origin`, or sends an `Origin` equal to where the request arrived or
 * to MAINLOOP_PUBLIC_URL. A request that says nothing is not same-origin.
 */
export function isSameOrigin(facts: OriginFacts, publicUrl?: string): boolean {
  if (facts.fetchSite === 'same-origin') return true;
  const origin = normalise(facts.origin);
  if (!origin) return false;
  return origin === normalise(facts.self) || (publicUrl !== undefined && origin === normalise(publicUrl));
}

/** `https://Example.com:443/x` → `https://example.com`; undefined for anything that is not an http(s) origin. */
function normalise(value: string | undefined): string | undefined {
  if (!value || value === 'null') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
