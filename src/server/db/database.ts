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

export function openDatabase(url: string, options: { max?: number } = {}): Database {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 20, idleTimeoutMillis: 30_000 });
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
