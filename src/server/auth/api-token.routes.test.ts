import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { hashSecret } from '../lib/ids.js';
import { ApiTokenRepository } from './api-token.repository.js';
import { UserRepository } from './user.repository.js';

let server: TestServer;
/** A second user, made directly with the repositories: their token must stay invisible to the owner. */
let other: { token: string; tokenId: string; headers: { authorization: string } };

beforeAll(async () => {
  server = await startTestServer();
  const db = server.database.db;
  await new UserRepository().insert(db, { id: 'user-2', username: 'grace', isOwner: false });
  const token = 'ml_grace-secret-token-0123456789';
  const record = await new ApiTokenRepository().insert(db, {
    id: 'token-of-grace',
    userId: 'user-2',
    name: 'grace laptop',
    tokenHash: hashSecret(token),
    source: 'user',
  });
  other = { token, tokenId: record.id, headers: { authorization: `Bearer ${token}` } };
});
afterAll(async () => {
  await server?.close();
});

const list = (headers: Record<string, string>) => server.app.inject({ method: 'GET', url: '/api/tokens', headers });
const create = (headers: Record<string, string>, payload: unknown) =>
  server.app.inject({ method: 'POST', url: '/api/tokens', headers, payload: payload as object });
const revoke = (headers: Record<string, string>, id: string) =>
  server.app.inject({ method: 'DELETE', url: `/api/tokens/${id}`, headers });

describe('API tokens', () => {
  it('answer 401 without credentials', async () => {
    expect((await list({})).statusCode).toBe(401);
    expect((await create({}, { name: 'x' })).statusCode).toBe(401);
    expect((await revoke({}, other.tokenId)).statusCode).toBe(401);
  });

  it('creates a token whose ml_ secret is shown once and works as a bearer token', async () => {
    const response = await create(server.authHeaders, { name: '  laptop CLI  ' });
    expect(response.statusCode).toBe(201);
    const { token, apiToken } = response.json();
    expect(token).toMatch(/^ml_[\w-]{43}$/);
    expect(apiToken).toEqual({
      id: expect.any(String),
      name: 'laptop CLI',
      createdAt: expect.any(String),
      lastUsedAt: null,
    });

    const stored = await server.database.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', apiToken.id)
      .executeTakeFirstOrThrow();
    expect(stored.token_hash).toBe(hashSecret(token));
    expect(JSON.stringify(stored)).not.toContain(token);

    const listed = await list({ authorization: `Bearer ${token}` });
    expect(listed.statusCode).toBe(200);
    const entry = listed.json().tokens.find((item: { id: string }) => item.id === apiToken.id);
    expect(entry).toMatchObject({ name: 'laptop CLI', lastUsedAt: expect.any(String) });
    expect(JSON.stringify(listed.json())).not.toContain(token);
  });

  it('lists only the user’s own tokens, without the MAINLOOP_API_TOKEN one', async () => {
    const names = (await list(server.authHeaders)).json().tokens.map((token: { name: string }) => token.name);
    expect(names).not.toContain('grace laptop');
    expect(names).not.toContain('MAINLOOP_API_TOKEN');
    expect((await list(other.headers)).json().tokens.map((token: { name: string }) => token.name)).toEqual([
      'grace laptop',
    ]);
  });

  it('revokes a token: 204, gone from the list, and it stops authenticating at once', async () => {
    const { token, apiToken } = (await create(server.authHeaders, { name: 'short-lived' })).json();
    const bearer = { authorization: `Bearer ${token}` };
    expect((await list(bearer)).statusCode).toBe(200); // now in the auth cache
    const response = await revoke(server.authHeaders, apiToken.id);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect((await list(bearer)).statusCode).toBe(401);
    const ids = (await list(server.authHeaders)).json().tokens.map((item: { id: string }) => item.id);
    expect(ids).not.toContain(apiToken.id);
    expect((await revoke(server.authHeaders, apiToken.id)).statusCode).toBe(404);
  });

  it('answers 404 for another user’s token, and leaves it working', async () => {
    const response = await revoke(server.authHeaders, other.tokenId);
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('NOT_FOUND');
    expect((await list(other.headers)).statusCode).toBe(200);
  });

  it('answers 404 for an unknown id', async () => {
    expect((await revoke(server.authHeaders, '00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });

  it('answers 400 naming the field for a missing, blank or too long name, and for malformed JSON', async () => {
    for (const payload of [{}, { name: '   ' }, { name: 'x'.repeat(101) }, { name: 42 }]) {
      const response = await create(server.authHeaders, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().message).toContain('body.name');
    }
    const malformed = await server.app.inject({
      method: 'POST',
      url: '/api/tokens',
      headers: { ...server.authHeaders, 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('BAD_REQUEST');
  });
});
