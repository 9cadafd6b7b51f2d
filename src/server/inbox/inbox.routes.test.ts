import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxItem, InboxResponse } from '../../contract/inbox.js';
import type { Task } from '../../contract/tasks.js';
import { ScriptedRuntime } from '../../../test/support/scripted-runtime.js';
import type { TestServer } from '../../../test/support/server.js';
import { startServerWithProject, type ownerApi } from '../../../test/support/tasks.js';
import { addUser, EventStreamClient } from '../thread/testing.js';

let server: TestServer;
let agent: ScriptedRuntime;
let owner: ReturnType<typeof ownerApi>;
let projectId: string;

beforeAll(async () => {
  ({ server, agent, owner, projectId } = await startServerWithProject({ checkCommand: 'true' }));
}, 60_000);
afterAll(async () => {
  await server?.close();
});

describe('external items', () => {
  it('are posted by a script with a token, and the same dedupeKey updates the same item', async () => {
    const first = await api('POST', '/api/inbox/items', {
      title: 'Nightly build failed',
      body: 'see the log',
      priority: 'high',
      url: 'https://ci.example.com/run/1',
      source: 'ci',
      dedupeKey: 'ci:nightly',
    });
    expect(first.statusCode).toBe(201);
    const item = first.json().item as InboxItem;
    expect(item).toMatchObject({
      kind: 'external',
      priority: 'high',
      state: 'open',
      source: 'ci',
      dedupeKey: 'ci:nightly',
      replies: ['open', 'done', 'snooze'],
    });

    const again = await api('POST', '/api/inbox/items', {
      title: 'Nightly build failed twice',
      priority: 'urgent',
      dedupeKey: 'ci:nightly',
    });
    expect(again.statusCode).toBe(201);
    // What is left out stays as it was; what is given replaces it.
    expect(again.json().item).toMatchObject({
      id: item.id,
      title: 'Nightly build failed twice',
      priority: 'urgent',
      body: 'see the log',
      url: 'https://ci.example.com/run/1',
      source: 'ci',
      replies: ['open', 'done', 'snooze'],
    });
    const inbox = await view();
    expect(inbox.needsYou.filter((entry) => entry.dedupeKey === 'ci:nightly')).toHaveLength(1);

    // Done: it leaves the queue; the same key later is a new item.
    expect((await api('POST', `/api/inbox/items/${item.id}/done`)).json().item).toMatchObject({ state: 'done' });
    expect((await view()).needsYou.some((entry) => entry.id === item.id)).toBe(false);
    const reborn = (await api('POST', '/api/inbox/items', { title: 'Nightly again', dedupeKey: 'ci:nightly' })).json()
      .item as InboxItem;
    expect(reborn.id).not.toBe(item.id);
    const history = (await api('GET', '/api/inbox/history?q=twice')).json();
    expect(history.items.map((entry: InboxItem) => entry.id)).toEqual([item.id]);
  });

  it('answers 400 with what was wrong, 401 without credentials, 404 for another user’s item', async () => {
    for (const [payload, message] of [
      [{}, /title/],
      [{ title: '' }, /title/],
      [{ title: 'x', priority: 'meh' }, /priority/],
      [{ title: 'x', url: 'javascript:alert(1)' }, /url/],
      [{ title: 'x', extra: 1 }, /extra|unrecognized/i],
    ] as const) {
      const response = await api('POST', '/api/inbox/items', payload);
      expect(response.statusCode).toBe(400);
      expect(response.json().message).toMatch(message);
    }
    expect((await server.app.inject({ method: 'GET', url: '/api/inbox' })).statusCode).toBe(401);
    expect(
      (await server.app.inject({ method: 'POST', url: '/api/inbox/items', payload: { title: 'x' } })).statusCode,
    ).toBe(401);

    const mine = (await api('POST', '/api/inbox/items', { title: 'Mine' })).json().item as InboxItem;
    const other = await addUser(server, 'eve');
    for (const url of [`/api/inbox/items/${mine.id}/done`, `/api/inbox/items/${mine.id}/snooze`]) {
      const response = await server.app.inject({
        method: 'POST',
        url,
        headers: other.headers,
        payload: { until: new Date(Date.now() + 60_000).toISOString() },
      });
      expect(response.statusCode).toBe(404);
    }
    const theirs = await server.app.inject({ method: 'GET', url: '/api/inbox', headers: other.headers });
    expect((theirs.json() as InboxResponse).needsYou).toEqual([]);

    expect((await api('POST', `/api/inbox/items/${mine.id}/snooze`, { until: 'tomorrow' })).statusCode).toBe(400);
    const past = await api('POST', `/api/inbox/items/${mine.id}/snooze`, { until: '2020-01-01T00:00:00Z' });
    expect(past.statusCode).toBe(400);
    expect(past.json().message).toMatch(/future/);
    expect((await api('POST', '/api/inbox/items/nope/done')).statusCode).toBe(404);
    await api('POST', `/api/inbox/items/${mine.id}/done`);
  });

  it('snoozed items leave the queue and come back when due, announced with inbox.updated', async () => {
    const item = (await api('POST', '/api/inbox/items', { title: 'Later please' })).json().item as InboxItem;
    const until = new Date(Date.now() + 1_500).toISOString();
    const snoozed = (await api('POST', `/api/inbox/items/${item.id}/snooze`, { until })).json().item;
    expect(snoozed).toMatchObject({ state: 'snoozed', snoozedUntil: until });
    let inbox = await view();
    expect(inbox.needsYou.some((entry) => entry.id === item.id)).toBe(false);
    expect(inbox.snoozed.map((entry) => entry.id)).toContain(item.id);

    const events = await EventStreamClient.open(server, server.authHeaders);
    try {
      await waitUntil(async () => Date.now() > Date.parse(until));
      // Due items are open in the view at once; the waker tells every device.
      inbox = await view();
      expect(inbox.needsYou.some((entry) => entry.id === item.id)).toBe(true);
      expect(await server.services.inbox.wakeDue()).toBeGreaterThanOrEqual(1);
      await events.waitFor((received) => received.some((event) => event.type === 'inbox.updated'));
      expect((await api('GET', `/api/inbox/items/${item.id}`)).json().item).toMatchObject({ state: 'open' });
    } finally {
      events.close();
    }
    await api('POST', `/api/inbox/items/${item.id}/done`);
  });

  it('orders what blocks a worker first, then by priority', async () => {
    const low = (await api('POST', '/api/inbox/items', { title: 'low one', priority: 'low' })).json().item;
    const urgent = (await api('POST', '/api/inbox/items', { title: 'urgent one', priority: 'urgent' })).json().item;
    const normal = (await api('POST', '/api/inbox/items', { title: 'normal one' })).json().item;
    const order = (await view()).needsYou
      .map((entry) => entry.id)
      .filter((id) => [low.id, urgent.id, normal.id].includes(id));
    expect(order).toEqual([urgent.id, normal.id, low.id]);
    for (const entry of [low, urgent, normal]) await api('POST', `/api/inbox/items/${entry.id}/done`);
  });
});

describe('worker items', () => {
  it('follow a task: plan review, question, review; each resolved by its cause, everywhere', async () => {
    agent.then(
      () => ({ kind: 'plan', plan: 'Write ok.txt', sessionId: 's-1' }),
      () => ({
        kind: 'question',
        sessionId: 's-1',
        questions: [{ text: 'Which colour?', options: [{ label: 'red' }, { label: 'blue' }], multiSelect: false }],
      }),
      async (request) => {
        await writeFile(path.join(request.cwd, 'ok.txt'), 'ok\n');
        return {
          kind: 'done',
          summary: 'Wrote ok.txt',
          sessionId: 's-1',
          usage: { inputTokens: 1, outputTokens: 1, costUsd: 0.02 },
        };
      },
    );
    const task = await owner.createTask({ title: 'Paint the shed', prompt: 'paint', projectId });
    const plan = await itemFor(task.id, 'plan_review');
    expect(plan).toMatchObject({
      priority: 'high',
      title: `Plan ready: #${task.number} Paint the shed`,
      body: 'Write ok.txt',
      replies: ['approve', 'revise', 'cancel', 'open', 'snooze'],
      url: `/tasks/${task.id}`,
      projectId,
      task: { id: task.id, status: 'awaiting_plan_approval' },
    });
    expect((await view({ projectId })).needsYou.map((entry) => entry.id)).toContain(plan.id);
    expect((await view({ projectId: 'another' })).needsYou.map((entry) => entry.id)).not.toContain(plan.id);

    await api('POST', `/api/tasks/${task.id}/plan`, { decision: 'approve' });
    const question = await itemFor(task.id, 'question');
    expect(question).toMatchObject({ title: 'Which colour?', replies: ['answer', 'open', 'snooze'] });
    expect(question.question).toMatchObject({ text: 'Which colour?', status: 'open' });
    expect((await api('GET', `/api/inbox/items/${plan.id}`)).json().item).toMatchObject({ state: 'done' });

    await api('POST', `/api/questions/${question.questionId}/answer`, { answer: 'blue' });
    expect((await api('GET', `/api/inbox/items/${question.id}`)).json().item).toMatchObject({ state: 'done' });

    const review = await itemFor(task.id, 'review');
    expect(review.title).toBe(`Ready for review: #${task.number} Paint the shed`);
    expect(review.body).toMatch(/1 file changed, \+1 −0 · checks passed · Wrote ok.txt/);
    expect(review.task?.review?.files).toEqual([{ path: 'ok.txt', additions: 1, deletions: 0 }]);
    const counts = (await view()).counts;
    expect(counts.needsYou).toBeGreaterThanOrEqual(1);

    await api('POST', `/api/tasks/${task.id}/review`, { decision: 'approve' });
    await owner.waitForTask(task.id, (t) => t.status === 'completed');
    expect((await api('GET', `/api/inbox/items/${review.id}`)).json().item).toMatchObject({
      state: 'done',
    });
    const inbox = await view();
    expect(inbox.needsYou.some((entry) => entry.taskId === task.id)).toBe(false);
    expect(inbox.completed.map((t: Task) => t.id)).toContain(task.id);
  });

  it('a failed task is in failures with a failure item; retry resolves it; cancel resolves everything', async () => {
    const task = await owner.createTask({ title: 'Broken', prompt: 'x', runtime: 'command', command: 'exit 4' });
    await owner.waitForTask(task.id, (t) => t.status === 'failed');
    const inbox = await view();
    expect(inbox.failures.map((t) => t.id)).toContain(task.id);
    expect(inbox.counts.failures).toBeGreaterThanOrEqual(1);
    // Failures are their own section, not in needs-you.
    expect(inbox.needsYou.some((entry) => entry.taskId === task.id)).toBe(false);

    await api('POST', `/api/tasks/${task.id}/retry`);
    await owner.waitForTask(task.id, (t) => t.status === 'failed' && t.attempt === 2);
    expect((await view()).failures.map((t) => t.id)).toContain(task.id);
    await api('POST', `/api/tasks/${task.id}/cancel`);
    expect((await view()).failures.map((t) => t.id)).not.toContain(task.id);
    const history = (await api('GET', '/api/inbox/history?q=Broken')).json().items as InboxItem[];
    expect(history.map((entry) => entry.kind)).toEqual(['failure', 'failure']);
  });
});

const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  owner.call(method, url, payload);

async function view(query: { projectId?: string } = {}): Promise<InboxResponse> {
  const response = await api('GET', `/api/inbox${query.projectId ? `?projectId=${query.projectId}` : ''}`);
  expect(response.statusCode).toBe(200);
  return response.json();
}

async function itemFor(taskId: string, kind: InboxItem['kind']): Promise<InboxItem> {
  let found: InboxItem | undefined;
  await waitUntil(async () => {
    found = (await view()).needsYou.find((entry) => entry.taskId === taskId && entry.kind === kind);
    return !!found;
  });
  return found!;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
