import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { captureLogs } from '../../../test/support/logs.js';
import { loadConfig } from '../config/index.js';
import { createHttpApp, type App } from '../http/app.js';
import { DatabaseHealth } from './database-health.js';
import { databaseOutage } from './outage.js';
import { openDatabase, type Database } from './database.js';

/**
 * The test database behind a TCP proxy that can be cut (every connection dropped, new ones
 * refused) or made to hang (new connections accepted and never answered), and restored: the
 * database going away, or stopping to answer, as the server sees it.
 */
class Proxy {
  port = 0;
  private mode: 'open' | 'cut' | 'hang' = 'open';
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((client) => this.accept(client));

  constructor(private readonly target: URL) {}

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  cutOff(): void {
    this.mode = 'cut';
    for (const socket of this.sockets) socket.destroy();
  }

  hang(): void {
    this.mode = 'hang';
  }

  restore(): void {
    this.mode = 'open';
  }

  async close(): Promise<void> {
    this.cutOff();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: net.Socket): void {
    this.keep(client);
    if (this.mode === 'cut') return void client.destroy();
    if (this.mode === 'hang') return;
    const upstream = this.keep(net.connect(Number(this.target.port), this.target.hostname));
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  private keep(socket: net.Socket): net.Socket {
    this.sockets.add(socket);
    return socket.on('close', () => this.sockets.delete(socket)).on('error', () => {});
  }
}

const { lines, logger } = captureLogs('info');

let testDatabase: TestDatabase;
let proxy: Proxy;
let database: Database;
let health: DatabaseHealth;
let app: App;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  proxy = new Proxy(new URL(testDatabase.url));
  await proxy.listen();
  const proxied = new URL(testDatabase.url);
  proxied.port = String(proxy.port);
  database = openDatabase(proxied.toString(), { timeouts: { connectMs: 1_000, statementMs: 5_000 } });
  health = new DatabaseHealth({ pool: database.pool, logger, freshForMs: 50, retryMs: 50 });
  app = await createHttpApp({
    config: loadConfig({}),
    logger,
    authenticate: async () => null,
    routes: [],
    databaseHealth: health,
  });
  await database.pool.query('select 1');
  health.watch();
});

afterAll(async () => {
  health?.close();
  await app?.close();
  await database?.close();
  await proxy?.close();
  await testDatabase?.drop();
});

const getHealth = () => app.inject({ method: 'GET', url: '/api/health' });

describe('the database going away and coming back', () => {
  it('turns health to 503 while the database is gone and back to 200 when it answers, saying so once each', async () => {
    expect((await getHealth()).statusCode).toBe(200);

    proxy.cutOff();
    await expect.poll(async () => (await getHealth()).statusCode).toBe(503);
    const down = await getHealth();
    expect(down.json()).toEqual({ status: 'unavailable', version: expect.any(String), database: 'down' });
    expect(Number(down.headers['retry-after'])).toBeGreaterThan(0);
    // Several checks while it is down: one warning.
    for (let check = 0; check < 5; check++) await getHealth();
    expect(lines.filter((line) => String(line.msg).startsWith('the database does not answer'))).toEqual([
      expect.objectContaining({ level: 40 }),
    ]);

    proxy.restore();
    await expect.poll(async () => (await getHealth()).statusCode).toBe(200);
    expect((await getHealth()).json()).toEqual({ status: 'ok', version: expect.any(String) });
    expect(lines.filter((line) => line.msg === 'the database answers again')).toEqual([
      expect.objectContaining({ level: 30, downForMs: expect.any(Number) }),
    ]);
  });

  it('notices by itself, without a health check, when the pool loses its connections', async () => {
    const before = lines.length;
    proxy.cutOff();
    await expect
      .poll(() => lines.slice(before).some((line) => String(line.msg).startsWith('the database does not answer')))
      .toBe(true);
    proxy.restore();
    await expect.poll(() => lines.slice(before).some((line) => line.msg === 'the database answers again')).toBe(true);
  });

  it('fails a request within the connect timeout when the database does not answer, rather than waiting for ever', async () => {
    proxy.hang();
    try {
      // The pool's idle connections still work: ask for one more than it holds.
      const clients = await Promise.all(
        Array.from({ length: 3 }, () => database.pool.connect().catch((error) => error)),
      );
      const failed = clients.filter((client) => client instanceof Error);
      expect(failed.length).toBeGreaterThan(0);
      expect(databaseOutage(failed[0])?.kind).toBe('timeout');
      for (const client of clients) if (!(client instanceof Error)) client.release();
    } finally {
      proxy.restore();
    }
  });
});
