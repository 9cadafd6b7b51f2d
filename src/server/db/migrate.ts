import type pg from 'pg';
import { migrations as allMigrations, type Migration } from './migrations/index.js';

/** Any 64-bit number mainloop alone uses: the advisory lock that serialises migrations. */
const MIGRATION_LOCK = 0x6d61696e6c6f6f70n; // "mainloop"

/**
 * Applies the migrations that are missing, all in one transaction under an advisory lock:
 * two instances starting together on one database take turns, and a failing migration
 * leaves the database as it was.
 */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = allMigrations): Promise<number[]> {
  const client = await pool.connect();
  try {
    // Most starts find every migration applied: one statement tells, without a transaction or the lock.
    if (await allApplied(client, migrations)) return [];
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await client.query(`
      create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`);
    const applied = await appliedVersions(client);
    const pending = migrations.filter((migration) => !applied.has(migration.version));
    for (const migration of pending) {
      try {
        await client.query(migration.sql);
      } catch (error) {
        throw new Error(`migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      await client.query('insert into schema_migrations (version, name) values ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    }
    await client.query('commit');
    return pending.map((migration) => migration.version);
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function appliedVersions(client: pg.PoolClient): Promise<Set<number>> {
  const { rows } = await client.query<{ version: number }>('select version from schema_migrations');
  return new Set(rows.map((row) => row.version));
}

async function allApplied(client: pg.PoolClient, migrations: readonly Migration[]): Promise<boolean> {
  try {
    const applied = await appliedVersions(client);
    return migrations.every((migration) => applied.has(migration.version));
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return false; // no schema_migrations yet
    throw error;
  }
}
