import type pg from 'pg';

/** Between two tries for a lock another instance holds. */
const RETRY_MS = 25;

/**
 * Runs `action` holding the session advisory lock `key` (any 64-bit number mainloop alone uses),
 * so that instances sharing a database take turns at it; released when it settles.
 *
 * The waiting side polls (`pg_try_advisory_lock`) rather than blocking in `pg_advisory_lock`, so
 * it holds no statement open: DBOS's migrations `create index concurrently`, which waits for every
 * statement in flight, a blocked lock call included, and the two would deadlock (durable.ts).
 */
export async function withAdvisoryLock<T>(pool: pg.Pool, key: bigint, action: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const tryLock = async () =>
    (await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [key.toString()])).rows[0]
      ?.locked;
  try {
    while (!(await tryLock())) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    try {
      return await action();
    } finally {
      await client.query('select pg_advisory_unlock($1)', [key.toString()]).catch(() => {});
    }
  } finally {
    client.release();
  }
}
