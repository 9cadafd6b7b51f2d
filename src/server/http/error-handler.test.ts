import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../../../test/support/logs.js';
import { z } from 'zod';
import { loadConfig } from '../config/index.js';
import { DomainError } from '../errors.js';
import { createHttpApp, type App } from './app.js';

const { logger, lines } = captureLogs('info');

let app: App;
beforeAll(async () => {
  app = await createHttpApp({
    config: loadConfig({ MAINLOOP_BODY_LIMIT_BYTES: '1024' }),
    logger,
    authenticate: async (request) =>
      request.headers.authorization === 'Bearer good' ? { userId: 'u1', isOwner: true, via: 'token' } : null,
    routes: [
      (api) => {
        api.post(
          '/echo',
          { schema: { body: z.object({ name: z.string().min(1), count: z.number().int() }) } },
          async (request) => request.body,
        );
        api.get('/boom', async () => {
          throw new Error('database password is hunter2');
        });
        api.get('/missing', async () => {
          throw new DomainError('NOT_FOUND', 'task 12 was not found');
        });
      },
    ],
  });
});
afterAll(() => app.close());

const auth = { authorization: 'Bearer good' };

describe('error handling', () => {
  it('answers malformed JSON with 400 naming the problem', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/echo',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/json/i) });
  });

  it('answers invalid fields with 400 naming each field', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/echo',
      headers: auth,
      payload: { name: '', count: 1.5 },
    });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.message).toContain('body.name');
    expect(body.message).toContain('body.count');
    expect(body.details.issues).toHaveLength(2);
  });

  it('answers a body over the limit with 413', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/echo',
      headers: auth,
      payload: { name: 'x'.repeat(2000), count: 1 },
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('maps domain errors by their code', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/missing', headers: auth });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ code: 'NOT_FOUND', message: 'task 12 was not found' });
  });

  it('answers an unknown error with a plain 500 that leaks nothing and is logged with the request id', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/boom', headers: auth });
    expect(response.statusCode).toBe(500);
    const body = response.json();
    expect(body.code).toBe('INTERNAL');
    expect(JSON.stringify(body)).not.toContain('hunter2');
    const requestId = response.headers['x-request-id'];
    expect(body.message).toContain(requestId);
    const logged = lines.find((line) => line.msg === 'unhandled error');
    expect(logged).toMatchObject({ requestId, level: 50 });
  });

  it('answers 401 without credentials before validating input', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/echo', payload: { nonsense: true } });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
