import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxItem, InboxResponse } from '../../contract/inbox.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { ownerApi } from '../../../test/support/tasks.js';
import { EventStreamClient, ownerIdOf } from '../thread/testing.js';
import { IdleTaskRunner } from '../tasks/index.js';
import { QuestionRepository } from '../workers/index.js';

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

  it('a plan or a review cannot be put away while its task waits: done is a 409 saying what resolves it; snooze hides it until its time', async () => {
    const task = await owner.createTask({ title: 'Wait for me', prompt: 'x' });
    const { tasks } = server.services;
    await tasks.update(userId, task.id, { status: 'awaiting_plan_approval', plan: 'the plan' });
    const [plan] = await itemsOf(task.id);
    expect(plan!.replies).toEqual(['approve', 'revise', 'cancel', 'open', 'snooze']);
    const refused = await owner.call('POST', `/api/inbox/items/${plan!.id}/done`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'ITEM_STILL_WAITING',
      message:
        'This plan still waits on you, so it cannot be put away: approve it, ask for a revision, cancel the task or snooze it.',
    });
    let view: InboxResponse = (await owner.call('GET', '/api/inbox')).json();
    expect(view.needsYou.map((item) => item.id)).toContain(plan!.id);

    // Snoozed, it is out of the queue (listed as snoozed) until its time; then back where it was.
    const until = new Date(Date.now() + 1_000).toISOString();
    expect((await owner.call('POST', `/api/inbox/items/${plan!.id}/snooze`, { until })).statusCode).toBe(200);
    view = (await owner.call('GET', '/api/inbox')).json();
    expect(view.needsYou.map((item) => item.id)).not.toContain(plan!.id);
    expect(view.snoozed.map((item) => item.id)).toContain(plan!.id);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    view = (await owner.call('GET', '/api/inbox')).json();
    expect(view.needsYou.map((item) => item.id)).toContain(plan!.id);

    // A review likewise; a stuck task (still at work, under active) may be put away.
    await tasks.update(userId, task.id, { status: 'awaiting_review' });
    const review = (await itemsOf(task.id)).find((item) => item.kind === 'review')!;
    expect(review.replies).not.toContain('done');
    const again = await owner.call('POST', `/api/inbox/items/${review.id}/done`);
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toMatch(/^This review still waits on you.*request changes/);
    expect((await owner.call('GET', `/api/inbox/items/${review.id}`)).json().item.state).toBe('open');

    const busy = await owner.createTask({ title: 'Busy', prompt: 'x' });
    await tasks.update(userId, busy.id, { status: 'implementing' });
    await tasks.update(userId, busy.id, { stuckSince: new Date() });
    const [stuck] = await itemsOf(busy.id);
    expect((await owner.call('POST', `/api/inbox/items/${stuck!.id}/done`)).statusCode).toBe(200);
    view = (await owner.call('GET', '/api/inbox')).json();
    expect(view.active.map((active) => active.id)).toContain(busy.id);
    await owner.call('POST', `/api/tasks/${task.id}/cancel`);
    await owner.call('POST', `/api/tasks/${busy.id}/cancel`);
  });
});

describe('proposals', () => {
  it('a pending proposal needs the person: an item with confirm, dismiss and snooze, counted; confirming or dismissing resolves it', async () => {
    const { proposals, thread } = server.services;
    const message = await thread.postEvent(userId, { content: 'a reply' });
    const before: InboxResponse = (await owner.call('GET', '/api/inbox')).json();
    const events = await EventStreamClient.open(server, server.authHeaders);
    try {
      const proposal = await proposals.proposeTask(
        userId,
        { messageId: message.id, toolCallId: 'call-1' },
        { title: 'Tidy the shed', prompt: 'Sort the tools.' },
      );
      // The same tool call again (a turn run again) makes no second item.
      await proposals.proposeTask(
        userId,
        { messageId: message.id, toolCallId: 'call-1' },
        { title: 'Tidy the shed', prompt: 'Sort the tools.' },
      );
      await events.waitFor((received) =>
        received.some(
          (event) =>
            event.type === 'inbox.updated' &&
            (event.data as { counts: { needsYou: number } }).counts.needsYou === before.counts.needsYou + 1,
        ),
      );
      let view: InboxResponse = (await owner.call('GET', '/api/inbox')).json();
      const items = view.needsYou.filter((item) => item.proposalId === proposal.id);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({
        kind: 'proposal',
        title: 'Proposed: Tidy the shed',
        body: 'Sort the tools.',
        replies: ['confirm', 'dismiss', 'snooze'],
        proposal: { id: proposal.id, status: 'pending', payload: { title: 'Tidy the shed' } },
      });
      expect(view.counts.needsYou).toBe(before.counts.needsYou + 1);
      const done = await owner.call('POST', `/api/inbox/items/${items[0]!.id}/done`);
      expect(done.statusCode).toBe(409);
      expect(done.json().message).toBe(
        'This proposal still waits on you, so it cannot be put away: confirm it, dismiss it or snooze it.',
      );

      const confirmed = await owner.call('POST', `/api/proposals/${proposal.id}/confirm`, {});
      expect(confirmed.statusCode).toBe(200);
      view = (await owner.call('GET', '/api/inbox')).json();
      expect(view.needsYou.some((item) => item.proposalId === proposal.id)).toBe(false);
      expect(view.counts.needsYou).toBe(before.counts.needsYou);
      expect((await owner.call('GET', `/api/inbox/items/${items[0]!.id}`)).json().item.state).toBe('done');

      // A proposal to cancel a task names the task and links to it; dismissing it resolves its item.
      const task = confirmed.json().task as { id: string };
      const cancel = await proposals.proposeCancel(userId, { messageId: message.id, toolCallId: 'call-2' }, task.id);
      view = (await owner.call('GET', '/api/inbox')).json();
      const cancelItem = view.needsYou.find((item) => item.proposalId === cancel.id)!;
      expect(cancelItem).toMatchObject({
        title: 'Proposed: cancel “Tidy the shed”',
        url: `/tasks/${task.id}`,
        replies: ['confirm', 'dismiss', 'open', 'snooze'],
      });
      await owner.call('POST', `/api/proposals/${cancel.id}/dismiss`);
      view = (await owner.call('GET', '/api/inbox')).json();
      expect(view.needsYou.some((item) => item.proposalId === cancel.id)).toBe(false);
      await owner.call('POST', `/api/tasks/${task.id}/cancel`);
    } finally {
      events.close();
    }
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
