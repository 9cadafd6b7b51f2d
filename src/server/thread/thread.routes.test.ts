import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '../../contract/thread.js';
import { anthropicScenario, FakeAnthropicApi } from '../../../test/fakes/anthropic-api.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { IdleTaskRunner } from '../tasks/index.js';
import { addUser, EventStreamClient, ownerIdOf, settledReply } from './testing.js';

let fake: FakeAnthropicApi;
let server: TestServer;
let other: { userId: string; headers: { authorization: string } };
let ownerId: string;
let stream: EventStreamClient;

beforeAll(async () => {
  fake = await FakeAnthropicApi.start();
  server = await startTestServer({
    env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url },
    // The thread, not the work: a confirmed task stays queued (its worker would talk to the same fake model).
    taskRunner: new IdleTaskRunner(),
  });
  other = await addUser(server, 'grace');
  ownerId = await ownerIdOf(server);
  stream = await EventStreamClient.open(server);
});
afterAll(async () => {
  stream?.close();
  await server?.close();
  await fake?.close(); // fails if the fake saw a request it was not scripted for
});
beforeEach(() => {
  expect(fake.pending, 'a scenario queued by an earlier test was never used').toBe(0);
});

let clientIds = 0;
const nextClientId = () => `client-${++clientIds}-${Date.now()}`;

async function post(content: string, options: { clientId?: string; headers?: Record<string, string> } = {}) {
  return server.app.inject({
    method: 'POST',
    url: '/api/thread/messages',
    headers: options.headers ?? server.authHeaders,
    payload: { content, clientId: options.clientId ?? nextClientId() },
  });
}

async function send(content: string): Promise<{ message: Message; reply: Message }> {
  const response = await post(content);
  expect(response.statusCode, response.body).toBe(202);
  const message = response.json().message as Message;
  return { message, reply: await settledReply(server, message.id) };
}

const get = (url: string, headers: Record<string, string> = server.authHeaders) =>
  server.app.inject({ method: 'GET', url, headers });
const postJson = (url: string, payload?: object, headers: Record<string, string> = server.authHeaders) =>
  server.app.inject({ method: 'POST', url, headers, payload: payload ?? {} });

/** What the model was sent as the last message of request `index` (0-based). */
function lastSent(index: number): { role: string; content: Array<Record<string, unknown>> } {
  const body = fake.messageRequests[index]!.body as {
    messages: Array<{ role: string; content: Array<Record<string, unknown>> }>;
  };
  return body.messages.at(-1)!;
}

describe('a message and its reply', () => {
  it('is stored before the 202, then the reply streams to devices as deltas over SSE and completes with usage', async () => {
    fake.enqueue({
      ...anthropicScenario.slow(30, 'Hel', 'lo, ', 'how can ', 'I help?'),
      usage: { inputTokens: 900, outputTokens: 7 },
    });
    const requestsBefore = fake.messageRequests.length;

    const response = await post('Hello mainloop');
    expect(response.statusCode).toBe(202);
    const message = response.json().message as Message;
    expect(message).toMatchObject({ role: 'user', content: 'Hello mainloop', status: 'complete' });
    // stored before the answer
    const stored = await server.database.db
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', message.id as never)
      .executeTakeFirst();
    expect(stored?.content).toBe('Hello mainloop');

    const reply = await settledReply(server, message.id);
    expect(reply).toMatchObject({ role: 'assistant', status: 'complete', content: 'Hello, how can I help?' });
    expect(reply.usage).toEqual({ inputTokens: 900, outputTokens: 7, costUsd: 0.000935 });

    await stream.waitFor(() => stream.about(reply.id).some((event) => event.type === 'message.completed'));
    const events = stream.about(reply.id);
    expect(events[0]).toMatchObject({
      type: 'message.created',
      data: { message: { id: reply.id, status: 'streaming', content: '' } },
    });
    // one model request, begun as the turn started and taken over by its step: never reset, never asked twice
    expect(events.filter((event) => event.type === 'message.created')).toHaveLength(1);
    expect(fake.messageRequests.length - requestsBefore).toBe(1);
    const deltas = events.filter((event) => event.type === 'message.delta');
    expect(deltas.length).toBeGreaterThanOrEqual(2); // the first at once, the rest coalesced
    expect(deltas.map((event) => (event.data as { text: string }).text).join('')).toBe('Hello, how can I help?');
    expect(events.at(-1)).toMatchObject({
      type: 'message.completed',
      data: { message: { id: reply.id, status: 'complete' } },
    });
    expect(stream.about(message.id)[0]).toMatchObject({
      type: 'message.created',
      data: { message: { id: message.id, role: 'user' } },
    });
    // the model got the system prompt and the person's words
    const request = fake.messageRequests.at(-1)!.body as {
      system: Array<{ text: string }>;
      tools: Array<{ name: string }>;
    };
    expect(request.system[0]!.text).toContain('You are mainloop');
    expect(request.tools.map((tool) => tool.name)).toEqual([
      'spawn_task',
      'list_tasks',
      'get_task',
      'cancel_task',
      'answer_question',
      'recall',
    ]);
    expect(lastSent(fake.messageRequests.length - 1)).toMatchObject({
      role: 'user',
      content: [{ type: 'text', text: 'Hello mainloop' }],
    });
  });
});

describe('POST /api/thread/messages', () => {
  it('returns the same message for the same clientId and starts no second turn', async () => {
    fake.enqueue(anthropicScenario.text('Once.'));
    const clientId = nextClientId();
    const first = await post('Only once, please', { clientId });
    const again = await post('Only once, please', { clientId });
    expect(again.statusCode).toBe(202);
    expect(again.json().message).toEqual(first.json().message);
    await settledReply(server, first.json().message.id);
    const rows = await server.database.db
      .selectFrom('messages')
      .select('id')
      .where('client_id', '=', clientId)
      .execute();
    expect(rows).toHaveLength(1);
    const replies = await server.database.db
      .selectFrom('messages')
      .select('id')
      .where('reply_to', '=', first.json().message.id)
      .execute();
    expect(replies).toHaveLength(1);
  });

  it('stores one message when the same post arrives several times at once', async () => {
    fake.enqueue(anthropicScenario.text('Just one answer.'));
    const clientId = nextClientId();
    const responses = await Promise.all(Array.from({ length: 6 }, () => post('Racing posts', { clientId })));
    expect(responses.map((response) => response.statusCode)).toEqual([202, 202, 202, 202, 202, 202]);
    const ids = new Set(responses.map((response) => response.json().message.id as string));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect((await settledReply(server, id!)).content).toBe('Just one answer.');
    const rows = await server.database.db
      .selectFrom('messages')
      .select('id')
      .where('client_id', '=', clientId)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('answers 400 for empty content, a missing clientId or a body that is no object, storing nothing', async () => {
    const before = await server.database.db.selectFrom('messages').select('id').execute();
    const empty = await post('   ');
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('content must not be empty'),
    });
    const noClientId = await server.app.inject({
      method: 'POST',
      url: '/api/thread/messages',
      headers: server.authHeaders,
      payload: { content: 'hi' },
    });
    expect(noClientId.statusCode).toBe(400);
    expect(noClientId.json().message).toContain('clientId');
    const notObject = await server.app.inject({
      method: 'POST',
      url: '/api/thread/messages',
      headers: server.authHeaders,
      payload: ['hi'],
    });
    expect(notObject.statusCode).toBe(400);
    expect(await server.database.db.selectFrom('messages').select('id').execute()).toHaveLength(before.length);
  });
});

describe('GET /api/thread/messages', () => {
  let pager: { userId: string; headers: { authorization: string } };
  let notes: Message[];

  beforeAll(async () => {
    pager = await addUser(server, 'pager');
    notes = [];
    for (let index = 1; index <= 7; index++) {
      notes.push(await server.services.thread.postEvent(pager.userId, { content: `note ${index}` }));
    }
  });

  it('pages backwards, newest last, saying whether older messages exist', async () => {
    const latest = await get('/api/thread/messages?limit=3', pager.headers);
    expect(latest.statusCode).toBe(200);
    expect(latest.json().messages.map((message: Message) => message.content)).toEqual(['note 5', 'note 6', 'note 7']);
    expect(latest.json().hasMore).toBe(true);
    const older = await get(`/api/thread/messages?limit=3&before=${latest.json().messages[0].id}`, pager.headers);
    expect(older.json().messages.map((message: Message) => message.content)).toEqual(['note 2', 'note 3', 'note 4']);
    expect(older.json().hasMore).toBe(true);
    const oldest = await get(`/api/thread/messages?limit=3&before=${older.json().messages[0].id}`, pager.headers);
    expect(oldest.json()).toMatchObject({
      messages: [{ content: 'note 1', role: 'event', status: 'complete' }],
      hasMore: false,
    });
    const all = await get('/api/thread/messages', pager.headers);
    expect(all.json().messages).toHaveLength(7);
    expect(all.json().hasMore).toBe(false);
  });

  it('returns every message in a time range, both ends included', async () => {
    const from = notes[2]!.createdAt;
    const to = notes[4]!.createdAt;
    await server.database.db
      .updateTable('messages')
      .set({ created_at: new Date('2020-01-01T00:00:00Z') as never })
      .where('id', '=', notes[0]!.id as never)
      .execute();
    const range = await get(
      `/api/thread/messages?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
      pager.headers,
    );
    expect(range.statusCode).toBe(200);
    const contents = range.json().messages.map((message: Message) => message.content);
    expect(contents).toContain('note 3');
    expect(contents).toContain('note 5');
    expect(contents).not.toContain('note 1');
    const old = await get('/api/thread/messages?from=2019-12-31T00:00:00Z&to=2020-01-02T00:00:00Z', pager.headers);
    expect(old.json()).toEqual({ messages: [expect.objectContaining({ content: 'note 1' })], hasMore: false });
    const capped = await get('/api/thread/messages?from=2000-01-01T00:00:00Z&limit=2', pager.headers);
    expect(capped.json().messages).toHaveLength(2);
    expect(capped.json().hasMore).toBe(true);
  });

  it('answers 400 for a bad limit, a bad time, or before mixed with a range', async () => {
    for (const query of ['limit=0', 'limit=201', 'limit=abc', 'from=yesterday', 'before=1&from=2020-01-01T00:00:00Z']) {
      const response = await get(`/api/thread/messages?${query}`, pager.headers);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().code).toBe('VALIDATION_FAILED');
    }
    const reversed = await get('/api/thread/messages?from=2021-01-01T00:00:00Z&to=2020-01-01T00:00:00Z', pager.headers);
    expect(reversed.statusCode).toBe(400);
  });

  it("answers 404 when `before` is another user's message, and never shows it", async () => {
    const theirs = await get(`/api/thread/messages?before=${notes[3]!.id}`);
    expect(theirs.statusCode).toBe(404);
    expect(
      (await get('/api/thread/messages?limit=200')).json().messages.map((message: Message) => message.id),
    ).not.toContain(notes[3]!.id);
    expect((await get('/api/thread/messages?before=not-an-id')).statusCode).toBe(404);
  });
});

describe('POST /api/thread/messages/:id/retry', () => {
  it('reruns a reply cut off mid-stream: the same message, emptied, written again', async () => {
    fake.enqueue(anthropicScenario.cut(2, 'This answer ', 'breaks ', 'off here.'));
    const { message, reply } = await send('Tell me something');
    expect(reply).toMatchObject({ status: 'error', content: 'This answer breaks ' });
    expect(reply.error).toMatch(/lost the connection/i);

    fake.enqueue(anthropicScenario.text('A whole answer.'));
    const retried = await postJson(`/api/thread/messages/${reply.id}/retry`);
    expect(retried.statusCode).toBe(202);
    expect(retried.json().message).toMatchObject({ id: reply.id, status: 'streaming', content: '' });
    await stream.waitFor(() =>
      stream
        .about(reply.id)
        .some(
          (event) =>
            event.type === 'message.completed' && (event.data as { message: Message }).message.status === 'complete',
        ),
    );
    const again = await settledReply(server, message.id);
    expect(again).toMatchObject({ id: reply.id, status: 'complete', content: 'A whole answer.' });
    expect(again.error).toBeUndefined();
    // the devices were told to start the reply over before its new text
    const events = stream.about(reply.id).map((event) => event.type);
    expect(events.lastIndexOf('message.created')).toBeGreaterThan(events.indexOf('message.completed'));
  });

  it('answers 409 with a reason for a user message or a complete reply, 404 for another user’s, and runs nothing', async () => {
    fake.enqueue(anthropicScenario.text('Fine.'));
    const { message, reply } = await send('All good?');
    const user = await postJson(`/api/thread/messages/${message.id}/retry`);
    expect(user.statusCode).toBe(409);
    expect(user.json()).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('not an assistant reply') });
    const complete = await postJson(`/api/thread/messages/${reply.id}/retry`);
    expect(complete.statusCode).toBe(409);
    expect(complete.json().message).toContain('only a reply that ended in error');
    const theirs = await postJson(`/api/thread/messages/${reply.id}/retry`, {}, other.headers);
    expect(theirs.statusCode).toBe(404);
    expect((await postJson('/api/thread/messages/999999999/retry')).statusCode).toBe(404);
  });
});

describe('model errors', () => {
  it('retries a 429 and then answers', async () => {
    fake.enqueue(anthropicScenario.rateLimited(0), anthropicScenario.text('Made it.'));
    const before = fake.messageRequests.length;
    const { reply } = await send('Busy over there?');
    expect(reply).toMatchObject({ status: 'complete', content: 'Made it.' });
    expect(fake.messageRequests.length - before).toBe(2);
  });

  it('ends the reply in error with a readable reason when the request is refused', async () => {
    fake.enqueue(anthropicScenario.badRequest('prompt is too long'));
    const { reply } = await send('Something the API refuses');
    expect(reply.status).toBe('error');
    expect(reply.error).toMatch(/rejected the request.*prompt is too long/);
  });
});

/** The tool results the model was sent in request `index`. */
function toolResults(index: number): Array<{ tool_use_id: string; content: unknown; is_error?: boolean }> {
  const last = lastSent(index);
  expect(last.role).toBe('user');
  return last.content.filter((block) => block.type === 'tool_result') as never;
}
const resultText = (result: { content: unknown }) =>
  typeof result.content === 'string'
    ? result.content
    : (result.content as Array<{ text: string }>).map((block) => block.text).join('');

describe('the tools', () => {
  it('spawn_task proposes (no task), confirm creates a queued task as POST /api/tasks does, and a second confirm is a 409', async () => {
    const tasksBefore = (await get('/api/tasks')).json().tasks.length;
    fake.enqueue(
      anthropicScenario.toolCall({
        id: 'toolu_spawn_1',
        name: 'spawn_task',
        input: { title: 'Fix the login button', prompt: 'It does nothing on Safari.' },
        text: ['I can start a worker on that.'],
      }),
      anthropicScenario.text('Proposed — confirm the card to start it.'),
    );
    const { reply } = await send('The login button is broken on Safari');
    expect(reply.status).toBe('complete');
    expect(reply.content).toBe('I can start a worker on that.\n\nProposed — confirm the card to start it.');
    expect(reply.proposalIds).toHaveLength(1);
    expect((await get('/api/tasks')).json().tasks).toHaveLength(tasksBefore); // nothing started
    const [result] = toolResults(fake.messageRequests.length - 1);
    expect(result!.tool_use_id).toBe('toolu_spawn_1');
    expect(JSON.parse(resultText(result!))).toMatchObject({ proposalId: reply.proposalIds![0], status: 'pending' });

    const pending = (await get('/api/proposals?status=pending')).json().proposals;
    const proposal = pending.find((candidate: { id: string }) => candidate.id === reply.proposalIds![0]);
    expect(proposal).toMatchObject({
      kind: 'spawn_task',
      status: 'pending',
      messageId: reply.id,
      payload: { title: 'Fix the login button', prompt: 'It does nothing on Safari.' },
    });
    await stream.waitFor(() =>
      stream.events.some(
        (event) =>
          event.type === 'proposal.updated' && (event.data as { proposal: { id: string } }).proposal.id === proposal.id,
      ),
    );

    const confirmed = await postJson(`/api/proposals/${proposal.id}/confirm`);
    expect(confirmed.statusCode).toBe(200);
    const { task } = confirmed.json();
    expect(confirmed.json().proposal).toMatchObject({ id: proposal.id, status: 'confirmed', taskId: task.id });
    expect(task).toMatchObject({
      title: 'Fix the login button',
      status: 'queued',
      runtime: 'claude-code',
      skipPlan: false,
      attempt: 1,
    });
    expect((await get('/api/tasks')).json().tasks.map((listed: { id: string }) => listed.id)).toContain(task.id);
    await stream.waitFor(() =>
      stream.events.some(
        (event) => event.type === 'task.updated' && (event.data as { task: { id: string } }).task.id === task.id,
      ),
    );
    expect(
      (await get('/api/proposals?status=pending')).json().proposals.map((listed: { id: string }) => listed.id),
    ).not.toContain(proposal.id);

    const twice = await postJson(`/api/proposals/${proposal.id}/confirm`);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().message).toContain('already confirmed');
    expect((await postJson(`/api/proposals/${proposal.id}/dismiss`)).statusCode).toBe(409);
    expect((await get('/api/tasks')).json().tasks).toHaveLength(tasksBefore + 1);
  });

  it('an edited confirm uses the edited payload; a bad edit is a 400 that leaves the proposal pending', async () => {
    fake.enqueue(
      anthropicScenario.toolCall({ name: 'spawn_task', input: { title: 'Run the tests', prompt: 'Run them all.' } }),
      anthropicScenario.text('Proposed.'),
    );
    const { reply } = await send('Could you run the tests?');
    const proposalId = reply.proposalIds![0]!;

    const bad = await postJson(`/api/proposals/${proposalId}/confirm`, {
      payload: { title: 'Run the tests', prompt: 'Run them all.', runtime: 'command' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('command');
    const noTitle = await postJson(`/api/proposals/${proposalId}/confirm`, { payload: { prompt: 'x' } });
    expect(noTitle.statusCode).toBe(400);

    const edited = await postJson(`/api/proposals/${proposalId}/confirm`, {
      payload: {
        title: 'Run the unit tests',
        prompt: 'npm test, then report.',
        runtime: 'command',
        command: 'npm test',
      },
    });
    expect(edited.statusCode).toBe(200);
    expect(edited.json().task).toMatchObject({
      title: 'Run the unit tests',
      prompt: 'npm test, then report.',
      runtime: 'command',
      command: 'npm test',
      skipPlan: true,
      status: 'queued',
    });
    expect(edited.json().proposal.payload).toMatchObject({ title: 'Run the unit tests', command: 'npm test' });
  });

  it('dismiss says no; 404 for another user’s proposal', async () => {
    fake.enqueue(
      anthropicScenario.toolCall({ name: 'spawn_task', input: { title: 'Rewrite it in Rust', prompt: 'All of it.' } }),
      anthropicScenario.text('Proposed.'),
    );
    const { reply } = await send('Rewrite everything?');
    const proposalId = reply.proposalIds![0]!;
    expect((await postJson(`/api/proposals/${proposalId}/dismiss`, {}, other.headers)).statusCode).toBe(404);
    expect((await postJson(`/api/proposals/${proposalId}/confirm`, {}, other.headers)).statusCode).toBe(404);
    expect((await get('/api/proposals', other.headers)).json().proposals).toEqual([]);
    const dismissed = await postJson(`/api/proposals/${proposalId}/dismiss`);
    expect(dismissed.statusCode).toBe(200);
    expect(dismissed.json().proposal).toMatchObject({ id: proposalId, status: 'dismissed' });
    expect((await postJson(`/api/proposals/${proposalId}/confirm`)).statusCode).toBe(409);
    // a decided proposal can still be read (a card after a reload), but only by its owner
    expect((await get(`/api/proposals/${proposalId}`)).json().proposal).toMatchObject({ status: 'dismissed' });
    expect((await get(`/api/proposals/${proposalId}`, other.headers)).statusCode).toBe(404);
    expect(
      (await get('/api/proposals?status=dismissed')).json().proposals.map((listed: { id: string }) => listed.id),
    ).toContain(proposalId);
    expect((await get('/api/proposals?status=maybe')).statusCode).toBe(400);
  });

  it('list_tasks and get_task give the model real data; an unknown or foreign task id is an error result', async () => {
    const created = await postJson('/api/tasks', { title: 'Index the wiki', prompt: 'Build a search index.' });
    expect(created.statusCode).toBe(201);
    const task = created.json().task;
    const foreign = await postJson('/api/tasks', { title: 'Grace’s task', prompt: 'Private.' }, other.headers);

    fake.enqueue(
      anthropicScenario.toolCall({ id: 'toolu_list', name: 'list_tasks', input: { status: 'queued' } }),
      anthropicScenario.toolCall({ id: 'toolu_get', name: 'get_task', input: { taskId: task.id } }),
      anthropicScenario.toolCall({ id: 'toolu_foreign', name: 'get_task', input: { taskId: foreign.json().task.id } }),
      anthropicScenario.text('You have a few queued tasks.'),
    );
    const start = fake.messageRequests.length;
    const { reply } = await send('What is queued?');
    expect(reply).toMatchObject({ status: 'complete', content: 'You have a few queued tasks.' });

    const [listed] = toolResults(start + 1);
    const tasks = JSON.parse(resultText(listed!)).tasks as Array<{
      id: string;
      number: number;
      status: string;
      title: string;
    }>;
    expect(tasks.map((entry) => entry.id)).toContain(task.id);
    // The number the person sees (`#12`), so that the model can tell which task they mean.
    expect(tasks.find((entry) => entry.id === task.id)!.number).toBe(task.number);
    expect(tasks.every((entry) => entry.status === 'queued')).toBe(true);
    expect(tasks.map((entry) => entry.title)).not.toContain('Grace’s task');
    const [got] = toolResults(start + 2);
    expect(JSON.parse(resultText(got!)).task).toMatchObject({
      id: task.id,
      title: 'Index the wiki',
      prompt: 'Build a search index.',
    });
    const [refused] = toolResults(start + 3);
    expect(refused!.is_error).toBe(true);
    expect(resultText(refused!)).toContain('no task with id');
  });

  it('cancel_task proposes; confirming cancels the task; a finished task cannot be cancelled twice', async () => {
    const task = (await postJson('/api/tasks', { title: 'Long job', prompt: 'Takes a while.' })).json().task;
    fake.enqueue(
      anthropicScenario.toolCall({ name: 'cancel_task', input: { taskId: task.id } }),
      anthropicScenario.text('I proposed cancelling it.'),
    );
    const { reply } = await send('Stop the long job');
    const proposal = (await get('/api/proposals?status=pending'))
      .json()
      .proposals.find((candidate: { id: string }) => candidate.id === reply.proposalIds![0]);
    expect(proposal).toMatchObject({ kind: 'cancel_task', payload: { taskId: task.id }, taskId: task.id });
    expect((await get(`/api/tasks/${task.id}`)).json().task.status).toBe('queued');

    const confirmed = await postJson(`/api/proposals/${proposal.id}/confirm`);
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toMatchObject({
      proposal: { status: 'confirmed' },
      task: { id: task.id, status: 'cancelled' },
    });
    expect((await get(`/api/tasks/${task.id}`)).json().task.status).toBe('cancelled');

    fake.enqueue(
      anthropicScenario.toolCall({ id: 'toolu_cancel_again', name: 'cancel_task', input: { taskId: task.id } }),
      anthropicScenario.text('It was already cancelled.'),
    );
    const start = fake.messageRequests.length;
    const again = await send('Cancel it again');
    expect(again.reply.proposalIds).toBeUndefined();
    const [refused] = toolResults(start + 1);
    expect(refused!.is_error).toBe(true);
    expect(resultText(refused!)).toContain('already cancelled');
  });

  it('invalid tool input and unknown tools come back to the model as error results, and the turn goes on', async () => {
    fake.enqueue(
      anthropicScenario.toolCall({ name: 'spawn_task', input: { title: '', prompt: 'no title' } }),
      anthropicScenario.toolCall({ name: 'launch_rockets', input: {} }),
      anthropicScenario.toolCall({ name: 'answer_question', input: { questionId: 'q-1', answer: 'yes' } }),
      anthropicScenario.text('Sorry, I could not do that.'),
    );
    const start = fake.messageRequests.length;
    const { reply } = await send('Do something odd');
    expect(reply).toMatchObject({ status: 'complete', content: 'Sorry, I could not do that.' });
    expect(reply.proposalIds).toBeUndefined();
    const [invalid] = toolResults(start + 1);
    expect(invalid!.is_error).toBe(true);
    expect(resultText(invalid!)).toContain('invalid input for spawn_task: title: title is required');
    const [unknown] = toolResults(start + 2);
    expect(resultText(unknown!)).toContain('there is no tool named launch_rockets');
    const [question] = toolResults(start + 3);
    expect(question!.is_error).toBe(true);
    expect(resultText(question!)).toContain('no open question with id q-1');
  });

  it('recall finds an older message by its words, and a time range', async () => {
    const old = await server.services.thread.postEvent(ownerId, {
      content: 'Reminder: the staging deploy key lives in the team vault under "ops/staging".',
    });
    await server.database.db
      .updateTable('messages')
      .set({ created_at: new Date('2021-06-01T10:00:00Z') as never })
      .where('id', '=', old.id as never)
      .execute();
    fake.enqueue(
      anthropicScenario.toolCall({ name: 'recall', input: { query: 'staging deploy keys' } }),
      anthropicScenario.toolCall({
        name: 'recall',
        input: { from: '2021-06-01T00:00:00Z', to: '2021-06-02T00:00:00Z' },
      }),
      anthropicScenario.toolCall({ name: 'recall', input: {} }),
      anthropicScenario.text('It is in the vault.'),
    );
    const start = fake.messageRequests.length;
    await send('Where was the deploy key again?');
    const [search] = toolResults(start + 1);
    expect(JSON.parse(resultText(search!)).messages[0]).toMatchObject({
      id: old.id,
      role: 'event',
      content: expect.stringContaining('ops/staging'),
    });
    const [range] = toolResults(start + 2);
    expect(JSON.parse(resultText(range!)).messages).toEqual([
      { id: old.id, role: 'event', at: '2021-06-01T10:00:00.000Z', content: expect.stringContaining('deploy key') },
    ]);
    const [empty] = toolResults(start + 3);
    expect(empty!.is_error).toBe(true);
  });

  it('a later turn shows the model its earlier tool calls as tool_use and tool_result blocks, not as prose', async () => {
    fake.enqueue(
      anthropicScenario.toolCall({
        id: 'toolu_earlier_spawn',
        name: 'spawn_task',
        input: { title: 'Tidy the README', prompt: 'Shorten the intro.' },
        text: ['I will propose it.'],
      }),
      anthropicScenario.text('Proposed: confirm the card to start it.'),
    );
    const { reply } = await send('Tidy the README please');
    expect(reply.content).toBe('I will propose it.\n\nProposed: confirm the card to start it.');

    fake.enqueue(anthropicScenario.text('It waits for your confirmation.'));
    await send('Is it running?');

    const { messages } = fake.messageRequests.at(-1)!.body as {
      messages: Array<{ role: string; content: Array<Record<string, unknown>> }>;
    };
    const asked = messages.findIndex((message) =>
      message.content.some((block) => block.type === 'tool_use' && block.id === 'toolu_earlier_spawn'),
    );
    expect(messages[asked]).toMatchObject({
      role: 'assistant',
      content: [
        { type: 'text', text: 'I will propose it.' },
        {
          type: 'tool_use',
          id: 'toolu_earlier_spawn',
          name: 'spawn_task',
          input: { title: 'Tidy the README', prompt: 'Shorten the intro.' },
        },
      ],
    });
    const [result] = messages[asked + 1]!.content;
    expect(messages[asked + 1]!.role).toBe('user');
    expect(result).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_earlier_spawn' });
    expect(JSON.parse(resultText(result as { content: unknown }))).toMatchObject({
      proposalId: reply.proposalIds![0],
      status: 'pending',
    });
    expect(messages[asked + 2]).toMatchObject({
      role: 'assistant',
      content: [{ type: 'text', text: 'Proposed: confirm the card to start it.' }],
    });
    expect(messages.at(-1)).toMatchObject({ role: 'user', content: [{ type: 'text', text: 'Is it running?' }] });
    // the call is nowhere retold as text
    const texts = messages.flatMap((message) => message.content.filter((block) => block.type === 'text'));
    expect(JSON.stringify(texts)).not.toContain('spawn_task');
  });
});

describe('workers report back', () => {
  it('postEvent stores an event message and publishes it, starts no turn, and the next turn reads it', async () => {
    const requests = fake.messageRequests.length;
    const task = (await postJson('/api/tasks', { title: 'Upgrade Node', prompt: 'To 22.' })).json().task;
    const note = await server.services.thread.postEvent(ownerId, {
      content: 'Task “Upgrade Node” is ready for review.',
      taskId: task.id,
    });
    expect(note).toMatchObject({ role: 'event', status: 'complete', taskId: task.id });
    await stream.waitFor(() => stream.about(note.id).some((event) => event.type === 'message.created'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fake.messageRequests.length).toBe(requests);
    expect((await get('/api/thread/messages?limit=1')).json().messages[0]).toMatchObject({
      id: note.id,
      role: 'event',
    });

    fake.enqueue(anthropicScenario.text('Go have a look.'));
    await send('Anything new?');
    const sent = fake.messageRequests.at(-1)!.body as {
      messages: Array<{ role: string; content: Array<{ text?: string }> }>;
    };
    const text = JSON.stringify(sent.messages);
    expect(text).toContain(`[event · task ${task.id}] Task “Upgrade Node” is ready for review.`);
  });
});

describe('GET /api/providers', () => {
  it('says which provider the main thread uses and why each is or is not available', async () => {
    const response = await get('/api/providers');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      active: { provider: 'anthropic', model: 'claude-haiku-4-5' },
      setting: 'auto',
      summary: expect.stringContaining('the Anthropic API'),
    });
    expect(response.json().providers).toEqual([
      { name: 'anthropic', available: true, reason: expect.stringContaining(fake.url) },
      { name: 'openai-compatible', available: false, reason: expect.stringContaining('OPENAI_BASE_URL is not set') },
      { name: 'claude-subscription', available: expect.any(Boolean), reason: expect.any(String) },
    ]);
  });
});
