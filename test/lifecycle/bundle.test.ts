import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildNode, poll, postmastersFor, ROOT, startBuiltServer, type BuiltServer } from './helpers/processes.js';

/**
 * What `npm start` runs: the esbuild bundle (dist/server/main.js and its chunks, dependencies
 * inside), not the sources the other tests load through tsx. A dependency that breaks when bundled
 * (a file it reads beside its own code, a require the bundle cannot see) fails here.
 */
const TOKEN = 'bundle-test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

let server: BuiltServer;
let node: ChildNode;
let url: string;
let dataDir: string;

beforeAll(async () => {
  server = await startBuiltServer({ token: TOKEN });
  ({ node, url, dataDir } = server);
});

afterAll(() => server?.stop());

describe('the built server (dist/server/main.js)', () => {
  it('answers health with the package version', async () => {
    const response = await fetch(`${url}/api/health`);
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await response.json()).toEqual({ status: 'ok', version });
  });

  it('answers the sign-in-free routes', async () => {
    const session = await fetch(`${url}/api/auth/session`);
    expect(session.status).toBe(200);
    const unauthenticated = await fetch(`${url}/api/settings`);
    expect(unauthenticated.status).toBe(401);
  });

  it('serves the OpenAPI document and the API docs with their assets', async () => {
    const document = await fetch(`${url}/api/openapi.json`);
    expect(document.status).toBe(200);
    const openapi = (await document.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(openapi.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/api/health', '/api/thread/messages']));

    const docs = await fetch(`${url}/api/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
    // Swagger UI's own files, which its package reads from beside its code.
    const bundle = await fetch(`${url}/api/docs/static/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    const logo = await fetch(`${url}/api/docs/static/logo.svg`);
    expect(logo.status).toBe(200);
  });

  it('serves the web app', async () => {
    const index = readFileSync(path.join(ROOT, 'dist/web/index.html'), 'utf8');
    for (const page of ['/', '/setup']) {
      const response = await fetch(`${url}${page}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(index);
    }
  });

  it('runs a durable workflow: a message gets its reply (the "no provider" error, with none configured)', async () => {
    const posted = await fetch(`${url}/api/thread/messages`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'bundle-test-1', content: 'hello' }),
    });
    expect(posted.status, await posted.clone().text()).toBe(202);
    const reply = await poll('the reply to end', 30_000, async () => {
      const page = (await (await fetch(`${url}/api/thread/messages`, { headers: auth })).json()) as {
        messages: Array<{ role: string; status: string; content: string }>;
      };
      const assistant = page.messages.find((message) => message.role === 'assistant');
      return assistant && assistant.status !== 'streaming' ? assistant : undefined;
    });
    expect(reply.status).toBe('error');
  });

  it('loads a package left in node_modules on first use (argon2, for a sign-in)', async () => {
    const response = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'nobody', password: 'not-a-password' }),
    });
    expect(response.status, await response.clone().text()).toBe(401);
  });

  it('keeps the code compiled at start-up for the next start, in the data directory', async () => {
    const cache = path.join(dataDir, 'compile-cache');
    const files = await poll('the compiled code to be kept', 10_000, async () => {
      const names = existsSync(cache) ? readdirSync(cache) : [];
      return names.some((name) => name.endsWith('.v8-cache')) ? names : undefined;
    });
    expect(files.filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('logs no error and stops cleanly on SIGTERM', async () => {
    expect(node.logs().filter((line) => Number(line.level) >= 50)).toEqual([]);
    node.child.kill('SIGTERM');
    expect(await node.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    expect(postmastersFor(dataDir)).toEqual([]);
  });
});
