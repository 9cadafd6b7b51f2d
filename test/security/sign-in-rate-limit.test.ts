import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../support/logs.js';
import { setOwnerCredentials, startTestServer, type TestServer } from '../support/server.js';

/**
 * Attack: behind a reverse proxy that mainloop does not trust (MAINLOOP_TRUST_PROXY unset), every
 * client has the proxy's address. Ten wrong passwords at any username from there used to lock
 * everyone out of signing in, the owner included, for as long as the attacker kept going.
 */
const PROXY = '10.9.0.1';
const owner = { username: 'ada', password: 'a long enough password' };
const logs = captureLogs('warn');
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ logger: logs.logger });
  await setOwnerCredentials(server, owner);
});
afterAll(async () => {
  await server?.close();
});

function login(body: { username: string; password: string }, client: string, proxy = PROXY) {
  return server.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    headers: { 'x-forwarded-for': client },
    payload: body,
    remoteAddress: proxy,
  });
}

describe('the sign-in rate limit behind a proxy that is not trusted', () => {
  it('limits guessing at one username without locking the owner out', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 30; attempt++) {
      statuses.push((await login({ username: 'root', password: `guess number ${attempt}` }, '203.0.113.9')).statusCode);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(new Set(statuses.slice(10))).toEqual(new Set([429]));

    const signIn = await login(owner, '198.51.100.7');
    expect(signIn.statusCode).toBe(200);
  });

  it('still limits trying many usernames from one address', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 80; attempt++) {
      statuses.push(
        (await login({ username: `user${attempt}`, password: 'a guessed password' }, '203.0.113.9', '10.9.0.2'))
          .statusCode,
      );
    }
    const limitedFrom = statuses.indexOf(429);
    expect(limitedFrom).toBeGreaterThan(10); // more than one account's worth of tries
    expect(new Set(statuses.slice(limitedFrom))).toEqual(new Set([429]));
  });

  it('says once in the log that forwarded addresses are ignored, and how to trust the proxy', () => {
    const warnings = logs.lines.filter((line) => String(line.msg).includes('MAINLOOP_TRUST_PROXY'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, msg: expect.stringContaining('X-Forwarded-For') });
  });
});
