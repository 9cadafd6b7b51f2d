import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminQuery } from '../../../test/support/database.js';
import { withDatabaseName } from './database.js';
import { migrate } from './migrate.js';
import type { Migration } from './migrations/index.js';

const adminUrl = inject('postgresAdminUrl');
const name = `test_migrate_${randomBytes(6).toString('hex')}`;
let pool: pg.Pool;

const first: Migration = { version: 1, name: 'first', sql: 'create table one (id int primary key)' };
const second: Migration = { version: 2, name: 'second', sql: 'create table two (id int primary key)' };
const broken: Migration = { version: 3, name: 'broken', sql: 'create table three (id int primary key); select nope' };

beforeAll(async () => {
  await adminQuery(`create database "${name}"`);
  pool = new pg.Pool({ connectionString: withDatabaseName(adminUrl, name) });
});

afterAll(async () => {
  await pool.end();
  await adminQuery(`drop database if exists "${name}" with (force)`);
});

describe('migrate', () => {
  it('applies what is missing, once, also when two instances start together', async () => {
    const results = await Promise.all([migrate(pool, [first]), migrate(pool, [first])]);
    expect(results.flat()).toEqual([1]);
    expect(await migrate(pool, [first, second])).toEqual([2]);
    expect(await migrate(pool, [first, second])).toEqual([]);
    const { rows } = await pool.query('select version, name from schema_migrations order by version');
    expect(rows).toEqual([
      { version: 1, name: 'first' },
      { version: 2, name: 'second' },
    ]);
  });

  it('leaves the database as it was when a migration fails', async () => {
    await expect(migrate(pool, [first, second, broken])).rejects.toThrow(/migration 3 \(broken\) failed/);
    const { rows } = await pool.query(
      `select to_regclass('three') as three, max(version) as latest from schema_migrations`,
    );
    expect(rows[0]).toEqual({ three: null, latest: 2 });
  });
});
