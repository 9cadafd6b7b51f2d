import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setOwnerCredentials, startTestServer, type TestServer } from '../../../test/support/server.js';
import { SESSION_COOKIE } from './credentials.js';

/** Behind a TLS-terminating proxy (MAINLOOP_TRUST_PROXY=true): the cookie is Secure, origins are the public ones. */
let server: TestServer;
const credentials = { username: 'ada', password: 'a long enough password' };
const behindProxy = {
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'mainloop.example.com',
  host: '127.0.0.1:3000',
};

beforeAll(async () => {
  server = await startTestServer({ env: { MAINLOOP_TRUST_PROXY: 'true' } });
  await setOwnerCredentials(server, credentials);
});
afterAll(async () => {
  await server?.close();
});

function login(headers: Record<string, string>, remoteAddress: string) {
  return server.app.inject({ method: 'POST', url: '/api/auth/login', headers, payload: credentials, remoteAddress });
}

describe('behind an https proxy', () => {
  it('marks the session cookie Secure when the request came over https', async () => {
    const response = await login(behindProxy, '10.2.0.1');
    expect(response.statusCode).toBe(200);
    expect(response.cookies.find((cookie) => cookie.name === SESSION_COOKIE)).toMatchObject({
      secure: true,
      httpOnly: true,
      sameSite: 'Lax',
    });
  });

  it('does not mark it Secure over plain http', async () => {
    const response = await login({}, '10.2.0.2');
    expect(response.cookies.find((cookie) => cookie.name === SESSION_COOKIE)?.secure).toBeFalsy();
  });

  it('checks the Origin against the forwarded scheme and host', async () => {
    const secret = (await login(behindProxy, '10.2.0.3')).cookies.find(
      (cookie) => cookie.name === SESSION_COOKIE,
    )!.value;
    const patch = (origin: string) =>
      server.app.inject({
        method: 'PATCH',
        url: '/api/settings',
        headers: { ...behindProxy, origin },
        cookies: { [SESSION_COOKIE]: secret },
        payload: { theme: 'nord' },
      });
    expect((await patch('https://mainloop.example.com')).statusCode).toBe(200);
    expect((await patch('http://mainloop.example.com')).statusCode).toBe(403);
    expect((await patch('http://127.0.0.1:3000')).statusCode).toBe(403);
  });
});
