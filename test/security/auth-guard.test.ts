import { request as httpRequest } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Attack: reach a guarded route without credentials through a spelling of its path that the
 * router decodes or resolves to the route (`/%61pi/providers` answered 200 while the guard tested
 * the raw URL for `/api/`). Every route of the OpenAPI document, in every spelling below, sent
 * byte for byte (fetch would resolve `.` and `..` first), with the web app served as in
 * production so that a spelling the API's router does not match falls to its fallback.
 */
let server: TestServer;
let webRoot: string;
let routes: Array<{ method: string; path: string }>;

const ID = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  webRoot = await mkdtemp(path.join(os.tmpdir(), 'mainloop-web-'));
  await writeFile(path.join(webRoot, 'index.html'), '<!doctype html><title>mainloop</title>');
  server = await startTestServer({ webRoot });
  const document = (await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
    paths: Record<string, Record<string, { security?: unknown[] }>>;
  };
  routes = Object.entries(document.paths).flatMap(([route, operations]) =>
    Object.entries(operations)
      .filter(([, operation]) => !(Array.isArray(operation.security) && operation.security.length === 0))
      .map(([method]) => ({ method: method.toUpperCase(), path: route.replace(/\{[^}]+\}/g, ID) })),
  );
});
afterAll(async () => {
  await server?.close();
  if (webRoot) await rm(webRoot, { recursive: true, force: true });
});

/** `/api/rest…` spelled as a client may, each of which a router or a proxy may read as the route. */
function spellings(routePath: string): string[] {
  const rest = routePath.slice('/api/'.length);
  const escape = (text: string, upper: boolean) =>
    text.replace(/[a-z]/g, (letter) => {
      const hex = letter.charCodeAt(0).toString(16);
      return `%${upper ? hex.toUpperCase() : hex}`;
    });
  const [first = '', ...others] = rest.split('/');
  return [
    `/%61pi/${rest}`,
    `/%61%70%69/${rest}`,
    `/api/${escape(rest, true)}`,
    `/api/${escape(rest, false)}`,
    `/%2Fapi/${rest}`,
    `/%2fapi/${rest}`,
    `/api%2F${rest}`,
    `/api/${rest.replaceAll('/', '%2F')}`,
    `//api/${rest}`,
    `/api//${rest}`,
    `/api/./${rest}`,
    `/./api/${rest}`,
    `/api/x/../${rest}`,
    `/%2e/api/${rest}`,
    `/api/%2E/${rest}`,
    `/api/x/%2E%2E/${rest}`,
    `/api/${rest}/`,
    `/API/${rest}`,
    `/api;x=1/${rest}`,
    `/api/${[`${first};x=1`, ...others].join('/')}`,
    `/api/${rest};x=1`,
    `/api/${rest}%3Bx`,
    `/api/${rest}%00`,
  ];
}

/** The status of one request sent exactly as written; a stream that opens counts as its status. */
function send(method: string, rawPath: string): Promise<number> {
  const { hostname, port } = new URL(server.url);
  const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        hostname,
        port,
        method,
        path: rawPath,
        headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {},
      },
      (response) => {
        resolve(response.statusCode ?? 0);
        response.destroy();
      },
    );
    request.setTimeout(10_000, () => request.destroy(new Error(`${method} ${rawPath}: no answer`)));
    request.on('error', reject);
    request.end(body);
  });
}

describe('the auth guard, against paths spelled to slip past it', () => {
  it('finds the guarded routes, the event stream among them', () => {
    expect(routes.length).toBeGreaterThan(20);
    expect(routes).toContainEqual({ method: 'GET', path: '/api/events' });
    expect(routes).toContainEqual({ method: 'GET', path: '/api/providers' });
  });

  it('answers no spelling of a guarded route without credentials with success', async () => {
    const leaks: string[] = [];
    for (const route of routes) {
      for (const spelling of spellings(route.path)) {
        const status = await send(route.method, spelling);
        if (status < 300) leaks.push(`${route.method} ${spelling} → ${status}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it('still answers the public routes and the web app’s pages, and lets credentials through', async () => {
    expect(await send('GET', '/%61pi/health')).toBe(200);
    expect(await send('GET', '/api/docs/static/logo.svg')).toBe(200);
    expect(await send('GET', '/')).toBe(200);
    expect(await send('GET', '/tasks/12')).toBe(200);
    expect(await send('GET', '/apiary')).toBe(200);
    const response = await server.app.inject({ method: 'GET', url: '/%61pi/providers', headers: server.authHeaders });
    expect(response.statusCode).toBe(200);
  });
});
