import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setOwnerCredentials, startTestServer, type TestServer } from '../../../test/support/server.js';
import { hashSecret } from '../lib/ids.js';
import { SESSION_COOKIE } from './credentials.js';

let server: TestServer;
const HOST = 'mainloop.test:3000';
const SELF = `http://${HOST}`;
const credentials = { username: 'ada', password: 'a long enough password' };
let addressCounter = 0;
/** Each test signs in from its own address, so the sign-in rate limit only bites where a test wants it. */
const freshAddress = () => `10.0.0.${++addressCounter}`;

beforeAll(async () => {
  server = await startTestServer();
  await setOwnerCredentials(server, credentials);
});
afterAll(async () => {
  await server?.close();
});

async function login(body: object = credentials, remoteAddress = freshAddress()) {
  return server.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    headers: { host: HOST, origin: SELF },
    payload: body,
    remoteAddress,
  });
}

async function signIn(): Promise<string> {
  const response = await login();
  expect(response.statusCode).toBe(200);
  return response.cookies.find((cookie) => cookie.name === SESSION_COOKIE)!.value;
}

describe('POST /api/auth/login', () => {
  it('signs in: the user, and a session cookie that is httpOnly, SameSite=Lax, Path=/, and lasts 30 days', async () => {
    const response = await login();
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      user: { id: expect.any(String), username: 'ada', isOwner: true, createdAt: expect.any(String) },
    });
    const cookie = response.cookies.find((item) => item.name === SESSION_COOKIE);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie?.value).toMatch(/^[\w-]{43}$/);
    expect(cookie?.secure).toBeFalsy(); // plain http here; see auth.proxy.test.ts for https
    const days = (new Date(cookie!.expires!).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it('answers 401 INVALID_CREDENTIALS for a wrong password and for an unknown user, without a cookie', async () => {
    for (const body of [
      { ...credentials, password: 'wrong password' },
      { username: 'nobody', password: 'whatever it is' },
    ]) {
      const response = await login(body);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
      expect(response.cookies).toEqual([]);
    }
  });

  it('answers 400 naming the field for bad input, and for malformed JSON', async () => {
    const missing = await login({ username: 'ada' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().message).toContain('body.password');
    const badName = await login({ username: 'ada lovelace', password: 'x' });
    expect(badName.statusCode).toBe(400);
    expect(badName.json().message).toContain('body.username');
    const malformed = await server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username":',
      remoteAddress: freshAddress(),
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('BAD_REQUEST');
  });

  it('answers 429 RATE_LIMITED after 10 attempts a minute at one username from one address, while other addresses still get in', async () => {
    const address = freshAddress();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 11; attempt++) {
      statuses.push((await login({ ...credentials, password: `guess number ${attempt}` }, address)).statusCode);
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
    const limited = await login(credentials, address);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringContaining('try again') });
    expect((await login(credentials, freshAddress())).statusCode).toBe(200);
  });
});

describe('GET /api/auth/session', () => {
  it('answers nobody without credentials (set-up is done: the owner has a password)', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/api/auth/session' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ user: null, setupRequired: false });
  });

  it('answers the user for a session cookie and renews the cookie', async () => {
    const secret = await signIn();
    const response = await server.app.inject({
      method: 'GET',
      url: '/api/auth/session',
      cookies: { [SESSION_COOKIE]: secret },
    });
    expect(response.json()).toMatchObject({ user: { username: 'ada' }, setupRequired: false });
    expect(response.cookies).toEqual([
      expect.objectContaining({ name: SESSION_COOKIE, value: secret, httpOnly: true, sameSite: 'Lax' }),
    ]);
  });

  it('answers the user for a bearer token', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/api/auth/session', headers: server.authHeaders });
    expect(response.json()).toMatchObject({ user: { username: 'ada', isOwner: true } });
  });

  it('answers nobody for a forged cookie and clears it', async () => {
    const response = await server.app.inject({
      method: 'GET',
      url: '/api/auth/session',
      cookies: { [SESSION_COOKIE]: 'forged' },
    });
    expect(response.json()).toEqual({ user: null, setupRequired: false });
    expect(response.cookies).toEqual([expect.objectContaining({ name: SESSION_COOKIE, value: '' })]);
  });
});

describe('the session cookie on API routes', () => {
  it('authenticates reads without an Origin', async () => {
    const secret = await signIn();
    const response = await server.app.inject({
      method: 'GET',
      url: '/api/settings',
      cookies: { [SESSION_COOKIE]: secret },
    });
    expect(response.statusCode).toBe(200);
  });

  it('refuses a state-changing request without a same-origin Origin or Sec-Fetch-Site with 403 FORBIDDEN_ORIGIN', async () => {
    const secret = await signIn();
    const patch = (headers: Record<string, string>) =>
      server.app.inject({
        method: 'PATCH',
        url: '/api/settings',
        headers: { host: HOST, ...headers },
        cookies: { [SESSION_COOKIE]: secret },
        payload: { theme: 'nord' },
      });
    const crossOrigin: Array<Record<string, string>> = [
      {},
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'null' },
    ];
    for (const headers of crossOrigin) {
      const response = await patch(headers);
      expect(response.statusCode, JSON.stringify(headers)).toBe(403);
      expect(response.json().code).toBe('FORBIDDEN_ORIGIN');
    }
    expect((await patch({ origin: SELF })).statusCode).toBe(200);
    expect((await patch({ 'sec-fetch-site': 'same-origin' })).statusCode).toBe(200);
  });

  it('exempts bearer requests from the origin check', async () => {
    const response = await server.app.inject({
      method: 'PATCH',
      url: '/api/settings',
      headers: server.authHeaders,
      payload: { theme: 'nord' },
    });
    expect(response.statusCode).toBe(200);
  });

  it('lets the bearer token win over the cookie: a wrong token with a good cookie is 401', async () => {
    const secret = await signIn();
    const response = await server.app.inject({
      method: 'GET',
      url: '/api/settings',
      headers: { authorization: 'Bearer not-a-real-token' },
      cookies: { [SESSION_COOKIE]: secret },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('UNAUTHENTICATED');
  });
});

describe('POST /api/auth/logout', () => {
  it('ends the session at once, deletes its row and clears the cookie', async () => {
    const secret = await signIn();
    const cookies = { [SESSION_COOKIE]: secret };
    expect((await server.app.inject({ method: 'GET', url: '/api/tokens', cookies })).statusCode).toBe(200);
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { host: HOST, origin: SELF },
      cookies,
    });
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    const cleared = response.cookies.find((cookie) => cookie.name === SESSION_COOKIE);
    expect(cleared).toMatchObject({ value: '', path: '/', httpOnly: true });
    expect(new Date(cleared!.expires!).getTime()).toBe(0);
    expect((await server.app.inject({ method: 'GET', url: '/api/tokens', cookies })).statusCode).toBe(401);
    expect(
      await server.database.db
        .selectFrom('sessions')
        .select('id')
        .where('secret_hash', '=', hashSecret(secret))
        .execute(),
    ).toEqual([]);
    const session = await server.app.inject({ method: 'GET', url: '/api/auth/session', cookies });
    expect(session.json().user).toBeNull();
  });

  it('refuses to sign out from another origin', async () => {
    const secret = await signIn();
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { host: HOST, origin: 'https://evil.example' },
      cookies: { [SESSION_COOKIE]: secret },
    });
    expect(response.statusCode).toBe(403);
    expect(
      (await server.app.inject({ method: 'GET', url: '/api/tokens', cookies: { [SESSION_COOKIE]: secret } }))
        .statusCode,
    ).toBe(200);
  });

  it('answers 204 with nothing to end', async () => {
    expect((await server.app.inject({ method: 'POST', url: '/api/auth/logout' })).statusCode).toBe(204);
  });
});

describe('POST /api/auth/setup once set-up is done', () => {
  it('answers 409 SETUP_ALREADY_DONE', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/auth/setup',
      payload: { token: 'whatever', username: 'eve', password: 'a long enough password' },
      remoteAddress: freshAddress(),
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('SETUP_ALREADY_DONE');
  });
});
