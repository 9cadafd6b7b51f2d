import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminQuery } from '../../../../test/support/database.js';
import { withDatabaseName } from '../database.js';
import { migrate } from '../migrate.js';
import { migrations } from './index.js';

/** Migration 8 on a database as issue 14 found it: work the person had put away comes back into view. */
const name = `test_inbox_waits_${randomBytes(6).toString('hex')}`;
let pool: pg.Pool;

beforeAll(async () => {
  await adminQuery(`create database "${name}"`);
  pool = new pg.Pool({ connectionString: withDatabaseName(inject('postgresAdminUrl'), name) });
  await migrate(
    pool,
    migrations.filter((migration) => migration.version < 8),
  );
});

afterAll(async () => {
  await pool?.end();
  await adminQuery(`drop database if exists "${name}" with (force)`);
});

describe('migration 8 (inbox-waits)', () => {
  it('reopens a review the person put away while it still waits, drops done from plans and reviews, and gives pending proposals their items', async () => {
    await pool.query(`
      insert into users (id, username) values ('u1', 'ada');
      insert into tasks (id, user_id, title, prompt, status, number) values
        ('waiting', 'u1', 'Waiting task', 'x', 'awaiting_review', 1),
        ('planned', 'u1', 'Planned task', 'x', 'awaiting_plan_approval', 2),
        ('moved-on', 'u1', 'Moved on', 'x', 'implementing', 3);
      insert into inbox_items (id, user_id, kind, title, task_id, dedupe_key, replies, state, done_at, resolution, created_at) values
        ('old-round', 'u1', 'review', 'Ready for review: Waiting task', 'waiting', 'task:waiting:review',
         '["approve", "request_changes", "cancel", "open", "snooze", "done"]', 'done', now(), 'person', now() - interval '2 hours'),
        ('put-away', 'u1', 'review', 'Ready for review: Waiting task', 'waiting', 'task:waiting:review',
         '["approve", "request_changes", "cancel", "open", "snooze", "done"]', 'done', now(), 'person', now() - interval '1 hour'),
        ('gone', 'u1', 'review', 'Ready for review: Moved on', 'moved-on', 'task:moved-on:review',
         '["approve", "request_changes", "cancel", "open", "snooze", "done"]', 'done', now(), 'person', now());
      insert into inbox_items (id, user_id, kind, title, task_id, dedupe_key, replies) values
        ('plan', 'u1', 'plan_review', 'Plan ready: Planned task', 'planned', 'task:planned:plan_review',
         '["approve", "revise", "cancel", "open", "snooze", "done"]');
      insert into messages (user_id, role, status) values ('u1', 'assistant', 'complete');
      insert into proposals (id, user_id, kind, status, payload, task_id, message_id, tool_call_id)
        select id, 'u1', kind, status, payload::jsonb, task_id, (select max(id) from messages), call from (values
          ('p-spawn', 'spawn_task', 'pending', '{"title": "Tidy up", "prompt": "Sort it.", "projectId": "garden"}', null, 'a'),
          ('p-cancel', 'cancel_task', 'pending', '{"taskId": "planned"}', 'planned', 'b'),
          ('p-done', 'spawn_task', 'dismissed', '{"title": "No", "prompt": "No."}', null, 'c')
        ) as p (id, kind, status, payload, task_id, call);
    `);

    expect(
      await migrate(
        pool,
        migrations.filter((migration) => migration.version <= 8),
      ),
    ).toEqual([8]);

    const { rows } = await pool.query(
      `select id, kind, title, body, url, state, resolution, replies, project_id, proposal_id, dedupe_key
         from inbox_items order by id`,
    );
    const byId = Object.fromEntries(rows.map((row) => [row.id, row]));
    // The newest item put away while its task still waits is open again, without `done`; older rounds stay history.
    expect(byId['put-away']).toMatchObject({
      state: 'open',
      resolution: null,
      replies: ['approve', 'request_changes', 'cancel', 'open', 'snooze'],
    });
    expect(byId['old-round']).toMatchObject({ state: 'done' });
    expect(byId['gone']).toMatchObject({ state: 'done' });
    expect(byId['plan']).toMatchObject({ state: 'open', replies: ['approve', 'revise', 'cancel', 'open', 'snooze'] });

    const proposals = rows.filter((row) => row.kind === 'proposal');
    expect(proposals.map((row) => row.proposal_id).sort()).toEqual(['p-cancel', 'p-spawn']);
    expect(proposals.find((row) => row.proposal_id === 'p-spawn')).toMatchObject({
      title: 'Proposed: Tidy up',
      body: 'Sort it.',
      state: 'open',
      project_id: 'garden',
      dedupe_key: 'proposal:p-spawn',
      replies: ['confirm', 'dismiss', 'snooze'],
    });
    expect(proposals.find((row) => row.proposal_id === 'p-cancel')).toMatchObject({
      title: 'Proposed: cancel “Planned task”',
      url: '/tasks/planned',
      replies: ['confirm', 'dismiss', 'open', 'snooze'],
    });
  });
});
