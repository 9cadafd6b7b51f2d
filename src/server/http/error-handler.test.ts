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
        // What pg throws when the database is gone, too slow or out of disk.
        api.get('/refused', async () => {
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
        });
        api.get('/shutting-down', async () => {
          throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
        });
        api.get('/pool-timeout', async () => {
          throw new Error('timeout exceeded when trying to connect');
        });
        api.get('/disk-full', async () => {
          throw Object.assign(new Error('could not extend file "base/5/16384": No space left on device'), {
            code: '53100',
          });
        });
        api.get('/duplicate', async () => {
          throw Object.assign(new Error('duplicate key value violates unique constraint "tasks_pkey"'), {
            code: '23505',
          });
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

  it.each([
    ['/api/refused', /unreachable/],
    ['/api/shutting-down', /unreachable/],
    ['/api/pool-timeout', /did not answer in time/],
  ])('answers a database that cannot serve (%s) with 503 and Retry-After, not 500', async (url, message) => {
    const response = await app.inject({ method: 'GET', url, headers: auth });
    expect(response.statusCode).toBe(503);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(response.json()).toEqual({ code: 'DATABASE_UNAVAILABLE', message: expect.stringMatching(message) });
    expect(JSON.stringify(response.json())).not.toMatch(/ECONNREFUSED|5432|administrator/);
  });

  it('answers a full disk with 503 saying so, and logs its reason at error level', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/disk-full', headers: auth });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      message: expect.stringMatching(/disk is full/),
    });
    const logged = lines.find((line) => String(line.msg).includes('disk is full'));
    expect(logged).toMatchObject({ level: 50, err: { message: expect.stringContaining('No space left on device') } });
  });

  it('logs an outage once, however many requests meet it', async () => {
    for (let request = 0; request < 5; request++) {
      await app.inject({ method: 'GET', url: '/api/refused', headers: auth });
    }
    const told = lines.filter((line) => String(line.msg).includes('unreachable'));
    expect(told).toEqual([expect.objectContaining({ level: 40, requestId: expect.any(String) })]);
  });

  it('answers a refused statement that is no outage as a plain 500', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/duplicate', headers: auth });
    expect(response.statusCode).toBe(500);
    expect(response.json().code).toBe('INTERNAL');
    expect(response.headers['retry-after']).toBeUndefined();
  });

  it('answers 401 without credentials before validating input', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/echo', payload: { nonsense: true } });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
