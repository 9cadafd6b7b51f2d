import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { hashSecret } from '../lib/ids.js';
import { SESSION_COOKIE } from './credentials.js';
import { SetupLinkPrinter } from './setup-link-printer.js';

/** A first start with no MAINLOOP_API_TOKEN: the set-up link on the console is the only way in. */
let server: TestServer;
let printed = '';

async function capturingStdout<T>(action: () => Promise<T>): Promise<{ result: T; output: string }> {
  let output = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    output += String(chunk);
    return true;
  });
  try {
    return { result: await action(), output };
  } finally {
    spy.mockRestore();
  }
}

const linkIn = (output: string) => /(http\S+\/setup\?token=\S+)/.exec(output)?.[1];
const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;
const choose = { username: 'ada', password: 'a long enough password' };

function postSetup(payload: object, remoteAddress = '10.1.0.1') {
  return server.app.inject({ method: 'POST', url: '/api/auth/setup', payload, remoteAddress });
}

/** What the set-up page asks when it is opened. */
async function checkLink(token: string) {
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/auth/setup/check',
    payload: { token },
    remoteAddress: '10.1.0.3',
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as { state: string; message: string };
}

beforeAll(async () => {
  const started = await capturingStdout(() =>
    startTestServer({ env: { MAINLOOP_API_TOKEN: '' }, setupLinkPrinter: new SetupLinkPrinter() }),
  );
  server = started.result;
  printed = started.output;
});
afterAll(async () => {
  await server?.close();
});

describe('the set-up link flow', () => {
  it('prints a one-time link to this server on the console at start', () => {
    const link = linkIn(printed);
    expect(link).toBeDefined();
    expect(link!.startsWith(`${server.url}/setup?token=`)).toBe(true);
    expect(printed).toContain('mainloop: finish setting up');
  });

  it('says set-up is required, and lets nobody into the API', async () => {
    const session = await server.app.inject({ method: 'GET', url: '/api/auth/session' });
    expect(session.json()).toEqual({ user: null, setupRequired: true });
    expect((await server.app.inject({ method: 'GET', url: '/api/settings' })).statusCode).toBe(401);
  });

  it('answers 400 naming the field for missing or too short input', async () => {
    const response = await postSetup({ token: tokenOf(linkIn(printed)!), username: '', password: 'short' });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('VALIDATION_FAILED');
    expect(response.json().message).toContain('body.username');
    expect(response.json().message).toContain('body.password');
    const missing = await postSetup({ username: 'ada', password: 'a long enough password' });
    expect(missing.json().message).toContain('body.token');
  });

  it('says whether a link works when it is opened, before anything is filled in', async () => {
    expect(await checkLink(tokenOf(linkIn(printed)!))).toEqual({
      state: 'valid',
      message: expect.stringContaining('Choose the username and password'),
    });
    expect(await checkLink('not-the-token')).toEqual({
      state: 'invalid',
      message: expect.stringContaining('restart mainloop'),
    });
    const empty = await server.app.inject({ method: 'POST', url: '/api/auth/setup/check', payload: { token: '' } });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().message).toContain('body.token');
  });

  it('answers 400 SETUP_TOKEN_INVALID for a wrong token', async () => {
    const response = await postSetup({ token: 'not-the-token', ...choose });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'SETUP_TOKEN_INVALID',
      message: expect.stringContaining('restart mainloop'),
    });
  });

  it('prints a new link at the next start, which replaces the old one', async () => {
    const { output } = await capturingStdout(() => server.services.afterListen({ url: server.url }));
    const next = linkIn(output);
    expect(next).toBeDefined();
    expect(next).not.toBe(linkIn(printed));
    expect((await postSetup({ token: tokenOf(linkIn(printed)!), ...choose })).json().code).toBe('SETUP_TOKEN_INVALID');
    printed = output;
  });

  it('answers 400 SETUP_TOKEN_INVALID for an expired link', async () => {
    const { output } = await capturingStdout(() => server.services.afterListen({ url: server.url }));
    const token = tokenOf(linkIn(output)!);
    await server.database.db
      .updateTable('setup_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('token_hash', '=', hashSecret(token))
      .execute();
    const expired = await postSetup({ token, ...choose });
    expect(expired.json()).toMatchObject({ code: 'SETUP_TOKEN_INVALID', message: expect.stringContaining('expired') });
    expect(await checkLink(token)).toEqual({ state: 'expired', message: expect.stringContaining('has expired') });
  });

  it('sets the owner’s credentials and signs them in; the link then answers 409', async () => {
    const { output } = await capturingStdout(() => server.services.afterListen({ url: server.url }));
    const token = tokenOf(linkIn(output)!);
    const response = await postSetup({ token, ...choose });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      user: { id: expect.any(String), username: 'ada', isOwner: true, createdAt: expect.any(String) },
    });
    const cookie = response.cookies.find((item) => item.name === SESSION_COOKIE);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });

    const session = await server.app.inject({
      method: 'GET',
      url: '/api/auth/session',
      cookies: { [SESSION_COOKIE]: cookie!.value },
    });
    expect(session.json()).toMatchObject({ user: { username: 'ada' }, setupRequired: false });
    expect(
      (await server.app.inject({ method: 'GET', url: '/api/settings', cookies: { [SESSION_COOKIE]: cookie!.value } }))
        .statusCode,
    ).toBe(200);

    const again = await postSetup({ token, ...choose });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('SETUP_ALREADY_DONE');
    // a used link says so as soon as it is opened again, as does any other once set-up is done
    expect(await checkLink(token)).toEqual({ state: 'set_up', message: expect.stringContaining('sign in') });
    expect(await checkLink('not-the-token')).toMatchObject({ state: 'set_up' });
    const login = await server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: choose,
      remoteAddress: '10.1.0.2',
    });
    expect(login.statusCode).toBe(200);
  });

  it('prints no link at later starts', async () => {
    const { output } = await capturingStdout(() => server.services.afterListen({ url: server.url }));
    expect(linkIn(output)).toBeUndefined();
  });
});
