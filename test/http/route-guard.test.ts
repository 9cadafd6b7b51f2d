import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Every API route that is not explicitly public answers 401 without credentials, and with a
 * wrong token — found from the OpenAPI document, so a route added later is covered too.
 */
let server: TestServer;
let routes: Array<{ method: string; path: string; isPublic: boolean }>;

beforeAll(async () => {
  server = await startTestServer();
  const document = (await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
    paths: Record<string, Record<string, { security?: unknown[] }>>;
  };
  routes = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path: path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000'),
      isPublic: Array.isArray(operation.security) && operation.security.length === 0,
    })),
  );
});
afterAll(async () => {
  await server?.close();
});

describe('the auth guard', () => {
  it('finds the routes to check', () => {
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.find((route) => route.path === '/api/health')?.isPublic).toBe(true);
  });

  it('answers 401 on every non-public route without credentials or with a wrong token', async () => {
    const guarded = routes.filter((route) => !route.isPublic);
    const failures: string[] = [];
    for (const route of guarded) {
      for (const headers of [{}, { authorization: 'Bearer not-a-real-token' }, { cookie: 'mainloop_session=forged' }]) {
        const response = await server.app.inject({
          method: route.method as 'GET',
          url: route.path,
          headers: { ...headers, 'content-type': 'application/json' },
          payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}',
        });
        if (response.statusCode !== 401 || response.json().code !== 'UNAUTHENTICATED') {
          failures.push(`${route.method} ${route.path} ${JSON.stringify(headers)} → ${response.statusCode}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('answers the SSE event stream with 401 too', async () => {
    const response = await fetch(`${server.url}/api/events`);
    expect(response.status).toBe(401);
  });
});
