import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { ApiTokenRepository, UserRepository } from '../auth/index.js';
import { hashSecret } from '../lib/ids.js';

const noNotifications = { quietHours: null, notifications: { webhookSecretSet: false } };

let server: TestServer;
let otherHeaders: { authorization: string };

beforeAll(async () => {
  server = await startTestServer();
  const db = server.database.db;
  await new UserRepository().insert(db, { id: 'user-2', username: 'grace', isOwner: false });
  await new ApiTokenRepository().insert(db, {
    id: 'token-2',
    userId: 'user-2',
    name: 'grace',
    tokenHash: hashSecret('grace-token-0123456789'),
    source: 'user',
  });
  otherHeaders = { authorization: 'Bearer grace-token-0123456789' };
});
afterAll(async () => {
  await server?.close();
});

const get = (headers: Record<string, string>) => server.app.inject({ method: 'GET', url: '/api/settings', headers });
const patch = (headers: Record<string, string>, payload: unknown) =>
  server.app.inject({ method: 'PATCH', url: '/api/settings', headers, payload: payload as object });

async function ownerId(): Promise<string> {
  return (await new UserRepository().findOwner(server.database.db))!.id;
}

describe('settings', () => {
  it('answer 401 without credentials', async () => {
    expect((await get({})).statusCode).toBe(401);
    expect((await patch({}, { theme: 'nord' })).statusCode).toBe(401);
  });

  it('start at the defaults', async () => {
    const response = await get(server.authHeaders);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ settings: { theme: 'eighties', timeZone: 'UTC', ...noNotifications } });
  });

  it('change with PATCH, keep what was not named, persist, and publish settings.updated in the events table', async () => {
    const first = await patch(server.authHeaders, { theme: 'nord' });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ settings: { theme: 'nord', timeZone: 'UTC', ...noNotifications } });
    const second = await patch(server.authHeaders, { timeZone: 'Europe/Berlin' });
    expect(second.json()).toEqual({ settings: { theme: 'nord', timeZone: 'Europe/Berlin', ...noNotifications } });
    expect((await get(server.authHeaders)).json()).toEqual({
      settings: { theme: 'nord', timeZone: 'Europe/Berlin', ...noNotifications },
    });

    const events = await server.database.db
      .selectFrom('events')
      .select(['type', 'data'])
      .where('user_id', '=', await ownerId())
      .orderBy('id')
      .execute();
    expect(events).toEqual([
      { type: 'settings.updated', data: { settings: { theme: 'nord', timeZone: 'UTC', ...noNotifications } } },
      {
        type: 'settings.updated',
        data: { settings: { theme: 'nord', timeZone: 'Europe/Berlin', ...noNotifications } },
      },
    ]);
  });

  it('answer an empty PATCH with the current settings, publishing nothing', async () => {
    const before = await server.database.db.selectFrom('events').select('id').execute();
    const response = await patch(server.authHeaders, {});
    expect(response.statusCode).toBe(200);
    expect(response.json().settings.theme).toBe('nord');
    expect(await server.database.db.selectFrom('events').select('id').execute()).toHaveLength(before.length);
  });

  it('are each user’s own: another user sees their defaults and their change publishes to them alone', async () => {
    expect((await get(otherHeaders)).json()).toEqual({
      settings: { theme: 'eighties', timeZone: 'UTC', ...noNotifications },
    });
    expect((await patch(otherHeaders, { theme: 'dracula' })).json().settings.theme).toBe('dracula');
    expect((await get(server.authHeaders)).json().settings.theme).toBe('nord');
    const theirs = await server.database.db
      .selectFrom('events')
      .select('type')
      .where('user_id', '=', 'user-2')
      .execute();
    expect(theirs).toEqual([{ type: 'settings.updated' }]);
  });

  it('answer 400 naming the field for an unknown theme, a made-up time zone, or an unknown key, and change nothing', async () => {
    const theme = await patch(server.authHeaders, { theme: 'hot-pink' });
    expect(theme.statusCode).toBe(400);
    expect(theme.json().message).toContain('body.theme');
    const timeZone = await patch(server.authHeaders, { timeZone: 'Mars/Olympus_Mons' });
    expect(timeZone.statusCode).toBe(400);
    expect(timeZone.json().message).toContain('body.timeZone');
    expect(timeZone.json().message).toContain('IANA');
    const unknown = await patch(server.authHeaders, { theme: 'nord', fontSize: 20 });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toContain('fontSize');
    expect((await get(server.authHeaders)).json()).toEqual({
      settings: { theme: 'nord', timeZone: 'Europe/Berlin', ...noNotifications },
    });
  });

  it('answer 400 for a body that is not a JSON object', async () => {
    const malformed = await server.app.inject({
      method: 'PATCH',
      url: '/api/settings',
      headers: { ...server.authHeaders, 'content-type': 'application/json' },
      payload: '{"theme":',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('BAD_REQUEST');
    const array = await patch(server.authHeaders, ['nord']);
    expect(array.statusCode).toBe(400);
    expect(array.json().code).toBe('VALIDATION_FAILED');
  });
});
