import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Attack: a script with an API token puts an item in the inbox whose `url` a browser reads as
 * another host: `/\evil.example` looks like a path of mainloop, but `new URL('/\\evil.example',
 * origin)` is https://evil.example/, which the service worker opened at a tap on the notification.
 * The server now takes only http(s) URLs and paths of this app, and names the field when it refuses.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

function postItem(url: string) {
  return server.app.inject({
    method: 'POST',
    url: '/api/inbox/items',
    headers: server.authHeaders,
    payload: { title: 'look at this', url },
  });
}

describe('an inbox item’s url', () => {
  it.each([
    '/\\evil.example',
    '/\\/evil.example',
    '//evil.example',
    '///evil.example',
    '\\\\evil.example',
    '/tasks\\..\\\\evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    ' //evil.example',
    '/tasks/42\u0000',
    'javascript:alert(document.cookie)',
    'JavaScript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox',
    'file:///etc/passwd',
    'ftp://evil.example',
    'http:evil.example',
    'https:/evil.example',
    'https://mainloop.example.com@evil.example/',
    'https://evil.example\\@mainloop.example.com',
    'evil.example',
    'tasks/42',
    '',
  ])('refuses %j with a 400 that names the field', async (url) => {
    const response = await postItem(url);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('body.url') });
  });

  it.each([
    '/',
    '/tasks/42',
    '/tasks/42?tab=diff#log',
    '/tasks/a%2Fb',
    'https://github.com/owner/repo/pull/7',
    'http://localhost:8080/build/1',
    'HTTPS://CI.EXAMPLE.COM/run/1',
  ])('accepts %j', async (url) => {
    const response = await postItem(url);
    expect(response.statusCode).toBe(201);
    expect(response.json().item.url).toBe(url);
  });
});
