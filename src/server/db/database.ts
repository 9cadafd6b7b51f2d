import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Tables } from './schema.js';

// bigint columns (event ids, counters) stay strings; timestamps become Dates.
export type Db = Kysely<Tables>;
export type Trx = Transaction<Tables>;
/** Either the database or a transaction on it: repositories accept both. */
export type Queryable = Db | Trx;

export interface Database {
  readonly pool: pg.Pool;
  readonly db: Db;
  readonly url: string;
  close(): Promise<void>;
}

/** How long the database may take, before a request or step that waits for it fails (503, or a retried step). */
export interface DatabaseTimeouts {
  /** to get a connection (from the pool, or a new one): MAINLOOP_DB_CONNECT_TIMEOUT_MS */
  connectMs: number;
  /** for one statement, lock waits included: MAINLOOP_DB_STATEMENT_TIMEOUT_MS */
  statementMs: number;
}

/** MAINLOOP_DB_*_TIMEOUT_MS's defaults, for a database opened without them (tests). */
const DEFAULT_TIMEOUTS: DatabaseTimeouts = { connectMs: 5_000, statementMs: 30_000 };
/**
 * The driver's own limit on a statement, past Postgres's: for a server that stops answering at
 * all (stopped, its host gone), where `statement_timeout` never fires.
 */
const NO_ANSWER_GRACE_MS = 5_000;

export function openDatabase(url: string, options: { max?: number; timeouts?: DatabaseTimeouts } = {}): Database {
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 20,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: timeouts.statementMs,
    query_timeout: timeouts.statementMs + NO_ANSWER_GRACE_MS,
    keepAlive: true,
  });
  // A dropped connection (Postgres restarted) must not crash the server; the pool replaces it.
  pool.on('error', () => {});
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  return {
    pool,
    db,
    url,
    async close() {
      await db.destroy(); // ends the pool too
    },
  };
}

/** `postgres://…/name` → the same server, another database. */
export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** Opens `count` connections at once and returns them to the pool (a failure is left to the next user). */
export async function openConnections(pool: pg.Pool, count: number): Promise<void> {
  const connecting = await Promise.allSettled(Array.from({ length: count }, () => pool.connect()));
  for (const client of connecting) if (client.status === 'fulfilled') client.value.release();
}
