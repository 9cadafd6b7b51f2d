import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminQuery } from '../../../../test/support/database.js';
import { withDatabaseName } from '../database.js';
import { migrate } from '../migrate.js';
import { migrations } from './index.js';

const name = `test_numbers_${randomBytes(6).toString('hex')}`;
let pool: pg.Pool;

beforeAll(async () => {
  await adminQuery(`create database "${name}"`);
  pool = new pg.Pool({ connectionString: withDatabaseName(inject('postgresAdminUrl'), name) });
});
afterAll(async () => {
  await pool?.end();
  await adminQuery(`drop database if exists "${name}" with (force)`);
});

describe('migration 7 (task numbers) on a database in use', () => {
  it('numbers each user’s tasks in the order they were made, continues from there, and rewords the thread’s notes as history', async () => {
    await migrate(
      pool,
      migrations.filter((migration) => migration.version < 7),
    );
    await pool.query(`insert into users (id, username) values ('ada', 'ada'), ('bob', 'bob')`);
    await pool.query(
      `insert into tasks (id, user_id, title, prompt, created_at) values
         ('t-a2', 'ada', 'Second', 'p', '2025-01-02'), ('t-a1', 'ada', 'First', 'p', '2025-01-01'),
         ('t-b1', 'bob', 'Only', 'p', '2025-01-03')`,
    );
    const notes = [
      ['t-a2', 'Task “Second” is ready for review.'],
      ['t-a2', 'Task “Second” has a plan waiting for your approval.'],
      ['t-a2', 'Task “Second” has a question for you.'],
      ['t-a2', 'Task “Second” failed: spawn codex ENOENT'],
      ['t-a2', 'Task “Second” failed.'],
      [null, 'Task “Nothing” is ready for review.'],
    ];
    for (const [taskId, content] of notes) {
      await pool.query(
        `insert into messages (user_id, role, content, status, task_id) values ('ada', 'event', $1, 'complete', $2)`,
        [content, taskId],
      );
    }

    expect(
      await migrate(
        pool,
        migrations.filter((migration) => migration.version <= 7),
      ),
    ).toEqual([7]);
    const numbered = await pool.query('select id, number from tasks order by id');
    expect(numbered.rows).toEqual([
      { id: 't-a1', number: 1 },
      { id: 't-a2', number: 2 },
      { id: 't-b1', number: 1 },
    ]);
    const counters = await pool.query('select user_id, last from task_numbers order by user_id');
    expect(counters.rows).toEqual([
      { user_id: 'ada', last: 2 },
      { user_id: 'bob', last: 1 },
    ]);
    const reworded = await pool.query(`select content from messages order by id`);
    expect(reworded.rows.map((row: { content: string }) => row.content)).toEqual([
      'Task #2 “Second”: ready for review',
      'Task #2 “Second”: plan ready for approval',
      'Task #2 “Second”: asked a question',
      'Task #2 “Second” failed: spawn codex ENOENT',
      'Task #2 “Second” failed',
      'Task “Nothing” is ready for review.',
    ]);
    await expect(
      pool.query(`insert into tasks (id, user_id, title, prompt, number) values ('t-a3', 'ada', 'x', 'p', 2)`),
    ).rejects.toThrow(/tasks_user_number/);
  });
});
