import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureLogs } from '../../../test/support/logs.js';
import { loadConfig } from '../config/index.js';
import { createHttpApp, prepareHttpApp, type App } from './app.js';

const { logger, lines } = captureLogs('info');

let app: App;
beforeAll(async () => {
  app = await createHttpApp({
    config: loadConfig({}),
    logger,
    authenticate: async (request) =>
      request.headers.authorization === 'Bearer good' ? { userId: 'u1', isOwner: true, via: 'token' } : null,
    routes: [
      (api) => {
        api.get('/fine', async () => ({ ok: true }));
        api.get('/boom', async () => {
          throw new Error('the disk is full');
        });
      },
    ],
  });
});
afterAll(() => app.close());
beforeEach(() => {
  lines.length = 0;
});

describe('request logging', () => {
  it('writes one line per answered request, with its request id and without the query string', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/fine?token=a-secret-value',
      headers: { authorization: 'Bearer good' },
    });
    expect(response.statusCode).toBe(200);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'request completed',
        reqId: response.headers['x-request-id'],
        method: 'GET',
        path: '/api/fine',
        statusCode: 200,
        responseTime: expect.any(Number),
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('a-secret-value');
    expect(JSON.stringify(lines)).not.toContain('Bearer');
  });

  it('logs an unknown error with the request id of the request it broke', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/boom', headers: { authorization: 'Bearer good' } });
    expect(response.statusCode).toBe(500);
    const reqId = response.headers['x-request-id'];
    expect(lines).toEqual([
      expect.objectContaining({ level: 50, msg: 'unhandled error', reqId, requestId: reqId }),
      expect.objectContaining({ level: 30, msg: 'request completed', reqId, statusCode: 500 }),
    ]);
  });

  it('does not log the warm-up request start-up answers in-process, and logs the next ones', async () => {
    const prepared = await prepareHttpApp({
      config: loadConfig({}),
      logger,
      authenticate: async () => null,
    });
    try {
      const mounted = await prepared.mount([]);
      await prepared.warmUp();
      expect(lines).toEqual([]);
      expect((await mounted.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
      expect(lines).toEqual([expect.objectContaining({ msg: 'request completed', path: '/api/health' })]);
    } finally {
      await prepared.close();
    }
  });
});
