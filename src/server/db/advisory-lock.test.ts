import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { withAdvisoryLock } from './advisory-lock.js';

let testDatabase: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  pool = new pg.Pool({ connectionString: testDatabase.url, max: 4 });
});

afterAll(async () => {
  await pool?.end();
  await testDatabase?.drop();
});

describe('withAdvisoryLock', () => {
  it('runs actions under one key one at a time, under another key alongside, and frees the lock when one fails', async () => {
    const KEY = 0x6d6c2d74657374n;
    const order: string[] = [];
    const action = (name: string, ms: number) => async () => {
      order.push(`${name} starts`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      order.push(`${name} ends`);
      return name;
    };
    const first = withAdvisoryLock(pool, KEY, action('first', 150));
    await new Promise((resolve) => setTimeout(resolve, 30)); // the first holds the lock
    const second = withAdvisoryLock(pool, KEY, action('second', 10));
    const other = withAdvisoryLock(pool, KEY + 1n, action('other', 10));
    expect(await Promise.all([first, second, other])).toEqual(['first', 'second', 'other']);
    expect(order.indexOf('second starts')).toBeGreaterThan(order.indexOf('first ends'));
    expect(order.indexOf('other ends')).toBeLessThan(order.indexOf('first ends'));

    await expect(
      withAdvisoryLock(pool, KEY, async () => {
        throw new Error('failed inside');
      }),
    ).rejects.toThrow('failed inside');
    expect(await withAdvisoryLock(pool, KEY, async () => 'free again')).toBe('free again');
    const { rows } = await pool.query(
      `select count(*)::int as held from pg_locks
       where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`,
    );
    expect(rows[0].held).toBe(0);
  });
});
