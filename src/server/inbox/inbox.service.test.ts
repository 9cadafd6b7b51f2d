import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxItem } from '../../contract/inbox.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { ownerApi } from '../../../test/support/tasks.js';
import { ownerIdOf } from '../thread/testing.js';
import { IdleTaskRunner } from '../tasks/index.js';
import { QuestionRepository } from '../workers/question.repository.js';

/**
 * The inbox's side of task changes, driven through TaskService as the task workflow drives it
 * (the runner is idle: nothing runs, the test moves the task), with real Postgres.
 */
let server: TestServer;
let owner: ReturnType<typeof ownerApi>;
let userId: string;

beforeAll(async () => {
  server = await startTestServer({ env: { MAINLOOP_MODEL_PROVIDER: 'none' }, taskRunner: new IdleTaskRunner() });
  owner = ownerApi(server);
  userId = await ownerIdOf(server);
}, 60_000);
afterAll(async () => {
  await server?.close();
});

describe('items that follow a task', () => {
  it('a stuck task gets one stuck item, pushed once; it goes when the agent speaks again', async () => {
    const task = await owner.createTask({ title: 'Slow', prompt: 'x' });
    const { tasks } = server.services;
    await tasks.update(userId, task.id, { status: 'implementing' });
    const since = new Date('2026-11-26T10:00:00Z');
    await tasks.update(userId, task.id, { stuckSince: since });
    // The flag set again (a step run again) adds nothing.
    await tasks.update(userId, task.id, { stuckSince: since });
    let items = await itemsOf(task.id);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      kind: 'stuck',
      state: 'open',
      priority: 'high',
      replies: ['cancel', 'open', 'done'],
    });
    // Worth a push: the dispatcher may have sent it already.
    expect(['pending', 'sent']).toContain(await pushStateOf(items[0]!.id));

    await tasks.update(userId, task.id, { stuckSince: null });
    items = await itemsOf(task.id);
    expect(items[0]).toMatchObject({ state: 'done' });
    expect(await resolutionOf(items[0]!.id)).toBe('resolved');
  });

  it('questions asked become items; the task ending resolves every live item of it', async () => {
    const task = await owner.createTask({ title: 'Curious', prompt: 'x' });
    const { tasks } = server.services;
    await tasks.update(userId, task.id, { status: 'implementing' });
    await new QuestionRepository().insertAsk(server.database.db, {
      userId,
      taskId: task.id,
      askId: `${task.id}:ask-1`,
      questions: [
        { text: 'A or B?', options: [{ label: 'A' }, { label: 'B' }], multiSelect: false },
        { header: 'Size', text: 'How big?', options: [], multiSelect: false },
      ],
      ids: [`${task.id}-q1`, `${task.id}-q2`],
      at: new Date(),
    });
    await tasks.update(userId, task.id, { needsInput: true });
    const asked = (await itemsOf(task.id)).filter((item) => item.kind === 'question');
    expect(asked.map((item) => [item.title, item.body, item.questionId])).toEqual([
      ['A or B?', `#${task.number} Curious`, `${task.id}-q1`],
      ['How big?', `#${task.number} Curious · Size`, `${task.id}-q2`],
    ]);
    const view = (await owner.call('GET', '/api/inbox')).json();
    const inQueue = view.needsYou.find((item: InboxItem) => item.questionId === `${task.id}-q1`);
    expect(inQueue.question).toMatchObject({ text: 'A or B?', options: [{ label: 'A' }, { label: 'B' }] });

    // Snoozed items of a task that ends are done too (and not pushed if they had not gone yet).
    await owner.call('POST', `/api/inbox/items/${asked[1]!.id}/snooze`, {
      until: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await owner.call('POST', `/api/tasks/${task.id}/cancel`);
    const after = await itemsOf(task.id);
    expect(after.every((item) => item.state === 'done')).toBe(true);
    expect(['skipped', 'sent']).toContain(await pushStateOf(asked[1]!.id));
  });

  it('a plan under review, revised and planned again, is a new item each round', async () => {
    const task = await owner.createTask({ title: 'Plan twice', prompt: 'x' });
    const { tasks } = server.services;
    await tasks.update(userId, task.id, { status: 'awaiting_plan_approval', plan: 'first' });
    await tasks.update(userId, task.id, { status: 'planning' });
    await tasks.update(userId, task.id, { status: 'awaiting_plan_approval', plan: 'second' });
    const plans = (await itemsOf(task.id)).filter((item) => item.kind === 'plan_review');
    expect(plans.map((item) => [item.body, item.state])).toEqual([
      ['first', 'done'],
      ['second', 'open'],
    ]);
  });

  it('the person marking an item done keeps it done while its cause stays', async () => {
    const task = await owner.createTask({ title: 'Ignore me', prompt: 'x' });
    const { tasks } = server.services;
    await tasks.update(userId, task.id, { status: 'awaiting_review' });
    const [review] = await itemsOf(task.id);
    await owner.call('POST', `/api/inbox/items/${review!.id}/done`);
    await tasks.update(userId, task.id, { stuckSince: null, usage: { inputTokens: 1, outputTokens: 1 } });
    expect((await itemsOf(task.id)).map((item) => item.state)).toEqual(['done']);
  });
});

async function itemsOf(taskId: string): Promise<InboxItem[]> {
  const rows = await server.database.db
    .selectFrom('inbox_items')
    .select('id')
    .where('task_id', '=', taskId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return Promise.all(rows.map(async (row) => (await owner.call('GET', `/api/inbox/items/${row.id}`)).json().item));
}

async function pushStateOf(id: string): Promise<string> {
  const row = await server.database.db
    .selectFrom('inbox_items')
    .select('push_state')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.push_state;
}

async function resolutionOf(id: string): Promise<string | null> {
  const row = await server.database.db
    .selectFrom('inbox_items')
    .select('resolution')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.resolution;
}
