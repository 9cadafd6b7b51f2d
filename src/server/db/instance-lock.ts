import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from 'pino';
import { StartupRefused } from '../errors.js';

/**
 * One live server per executor id on a database. DBOS resumes, at start, every unfinished workflow
 * recorded under its executor id: a second server started under the id of one still running would
 * run that server's tasks a second time, side effects and all. So each server holds a session
 * advisory lock named after its executor id for as long as it runs, on a connection of its own.
 *
 * A server that died without closing its connection (its host gone) holds the lock until Postgres
 * notices: the connection asks for TCP keepalives every few seconds, and a start waits
 * `waitMs` for the lock before it refuses.
 */
export interface InstanceLock {
  release(): Promise<void>;
}

export interface InstanceLockOptions {
  databaseUrl: string;
  executorId: string;
  logger: Logger;
  /** how long a start waits for another server under the same id to go away (default 60 s) */
  waitMs?: number;
  /** between two attempts (default 1 s) */
  retryMs?: number;
  /** stops the wait (a SIGTERM during start-up) */
  signal?: AbortSignal;
}

/** Dead clients found within about 20 s: 10 s idle, then three probes 3 s apart. */
const KEEPALIVES = '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=3 -c tcp_keepalives_count=3';

export async function takeInstanceLock(options: InstanceLockOptions): Promise<InstanceLock> {
  const { executorId, logger } = options;
  const waitMs = options.waitMs ?? 60_000;
  const retryMs = options.retryMs ?? 1000;
  const deadline = Date.now() + waitMs;
  let warned = false;
  for (;;) {
    if (options.signal?.aborted) throw new Error('start-up was interrupted');
    const client = await attempt(options.databaseUrl, executorId);
    if (client) return new HeldLock(client, options);
    if (Date.now() >= deadline) {
      throw new StartupRefused(
        `another mainloop is running on this database as executor "${executorId}" (waited ${Math.round(waitMs / 1000)} s for it to stop); ` +
          'give each server sharing a database its own MAINLOOP_EXECUTOR_ID',
      );
    }
    if (!warned) {
      warned = true;
      logger.warn(
        { executorId },
        'another mainloop holds this executor id on the database; waiting for it to stop (each server sharing a database needs its own MAINLOOP_EXECUTOR_ID)',
      );
    }
    await delay(retryMs, undefined, { signal: options.signal }).catch(() => {}); // aborted: the loop's first line throws
  }
}

class HeldLock implements InstanceLock {
  private released = false;

  constructor(
    private client: pg.Client,
    private readonly options: InstanceLockOptions,
  ) {
    this.watch(client);
  }

  async release(): Promise<void> {
    this.released = true;
    await this.client.end().catch(() => {});
  }

  /** A lost connection lost the lock with it (Postgres restarted, say): take it again. */
  private watch(client: pg.Client): void {
    let lost = false;
    const onLost = () => {
      if (lost || this.released) return;
      lost = true;
      this.options.logger.warn('the database connection holding this server’s executor id closed; taking it again');
      void this.retake();
    };
    client.on('error', onLost);
    client.on('end', onLost);
  }

  private async retake(): Promise<void> {
    const { databaseUrl, executorId, logger } = this.options;
    while (!this.released) {
      await delay(1000);
      let client: pg.Client | undefined;
      try {
        client = await attempt(databaseUrl, executorId);
      } catch {
        continue; // the database is not back yet
      }
      if (!client) {
        logger.error(
          { executorId },
          'another mainloop now runs on this database as this executor id: give each server its own MAINLOOP_EXECUTOR_ID',
        );
      } else if (this.released) {
        await client.end().catch(() => {});
      } else {
        this.client = client;
        this.watch(client);
        logger.info({ executorId }, 'holding this server’s executor id again');
        return;
      }
    }
  }
}

/** A connection holding the executor id's lock, or undefined (and no connection) when another holds it. */
async function attempt(databaseUrl: string, executorId: string): Promise<pg.Client | undefined> {
  const client = await connect(databaseUrl);
  let held = false;
  try {
    const { rows } = await client.query<{ locked: boolean }>(
      "select pg_try_advisory_lock(hashtextextended('mainloop executor ' || $1, 0)) as locked",
      [executorId],
    );
    held = rows[0]?.locked === true;
  } finally {
    if (!held) await client.end().catch(() => {});
  }
  return held ? client : undefined;
}

async function connect(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'mainloop-instance',
    options: KEEPALIVES,
    keepAlive: true,
  });
  client.on('error', () => {}); // reported through the lock's own listeners once it is held
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
}
