import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../contract/tasks.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { addUser, EventStreamClient, ownerIdOf } from '../thread/testing.js';
import { IdleTaskRunner } from './task-runner.js';

let server: TestServer;
let other: { userId: string; headers: { authorization: string } };
let ownerId: string;

beforeAll(async () => {
  // The API of tasks, not their work: nothing runs a created task here (src/server/workers tests that).
  server = await startTestServer({ env: { MAINLOOP_MODEL_PROVIDER: 'none' }, taskRunner: new IdleTaskRunner() });
  other = await addUser(server, 'grace');
  for (const name of ['project-1', 'project-2']) await addProject(name);
  ownerId = await ownerIdOf(server);
});
afterAll(async () => {
  await server?.close();
});

const create = (payload: object, headers: Record<string, string> = server.authHeaders) =>
  server.app.inject({ method: 'POST', url: '/api/tasks', headers, payload });
const get = (url: string, headers: Record<string, string> = server.authHeaders) =>
  server.app.inject({ method: 'GET', url, headers });

describe('POST /api/tasks', () => {
  it('creates a queued claude-code task and publishes task.updated', async () => {
    const stream = await EventStreamClient.open(server);
    const response = await create({ title: 'Tidy the README', prompt: 'Shorter, with a quick start.' });
    expect(response.statusCode).toBe(201);
    const task = response.json().task as Task;
    expect(task).toEqual({
      id: expect.any(String),
      number: 1,
      title: 'Tidy the README',
      prompt: 'Shorter, with a quick start.',
      projectId: null,
      runtime: 'claude-code',
      skipPlan: false,
      status: 'queued',
      needsInput: false,
      attempt: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    await stream.waitFor((events) => events.some((event) => event.type === 'task.updated'));
    expect(stream.events.find((event) => event.type === 'task.updated')!.data).toEqual({ task });
    stream.close();
  });

  it('keeps what was asked: project, runtime, model, skipPlan, a command', async () => {
    const codex = await create({
      title: 'Port the parser',
      prompt: 'To Rust.',
      projectId: 'project-1',
      runtime: 'codex',
      model: 'gpt-5-codex',
      skipPlan: true,
    });
    expect(codex.json().task).toMatchObject({
      projectId: 'project-1',
      runtime: 'codex',
      model: 'gpt-5-codex',
      skipPlan: true,
    });
    const command = await create({
      title: 'Lint',
      prompt: 'Run the linter.',
      runtime: 'command',
      command: 'npm run lint',
    });
    expect(command.statusCode).toBe(201);
    expect(command.json().task).toMatchObject({ runtime: 'command', command: 'npm run lint', skipPlan: true });
  });

  it('answers 400 naming what is wrong: no title or prompt, a command task without command, a command elsewhere, an unknown runtime', async () => {
    const cases: Array<[object, string]> = [
      [{ prompt: 'no title' }, 'title'],
      [{ title: '   ', prompt: 'blank title' }, 'title is required'],
      [{ title: 'No prompt' }, 'prompt'],
      [{ title: 'Cmd', prompt: 'p', runtime: 'command' }, 'needs `command`'],
      [{ title: 'Cmd', prompt: 'p', command: 'make' }, 'only for runtime "command"'],
      [{ title: 'Odd', prompt: 'p', runtime: 'cobol' }, 'runtime'],
      [{ title: 'Odd', prompt: 'p', skipPlan: 'yes' }, 'skipPlan'],
    ];
    const before = (await get('/api/tasks')).json().tasks.length;
    for (const [payload, mentions] of cases) {
      const response = await create(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().code).toBe('VALIDATION_FAILED');
      expect(response.json().message).toContain(mentions);
    }
    expect((await get('/api/tasks')).json().tasks).toHaveLength(before);
  });
});

describe('GET /api/tasks and /api/tasks/:id', () => {
  it('lists your tasks newest first, by status and project; another user’s are neither listed nor found', async () => {
    const mine = (await create({ title: 'Mine', prompt: 'p', projectId: 'project-2' })).json().task as Task;
    const theirs = (await create({ title: 'Theirs', prompt: 'p', projectId: 'project-2-grace' }, other.headers)).json()
      .task as Task;

    const all = (await get('/api/tasks')).json().tasks as Task[];
    expect(all[0]!.id).toBe(mine.id);
    expect(all.map((task) => task.id)).not.toContain(theirs.id);
    expect((await get('/api/tasks?projectId=project-2')).json().tasks.map((task: Task) => task.id)).toEqual([mine.id]);
    expect((await get('/api/tasks?status=cancelled')).json().tasks).toEqual([]);
    expect((await get('/api/tasks?status=queued')).json().tasks.length).toBe(all.length);
    expect((await get('/api/tasks?status=sleeping')).statusCode).toBe(400);

    expect((await get(`/api/tasks/${mine.id}`)).json()).toEqual({ task: mine });
    const foreign = await get(`/api/tasks/${theirs.id}`);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('NOT_FOUND');
    expect((await get('/api/tasks/no-such-task')).statusCode).toBe(404);
  });
});

describe('task numbers', () => {
  it('numbers each user’s tasks from 1, one apart and never twice, also when many are created at once', async () => {
    const ada = await addUser(server, 'ada');
    const made = await Promise.all(
      Array.from({ length: 12 }, (_, index) => create({ title: `Job ${index}`, prompt: 'p' }, ada.headers)),
    );
    expect(made.map((response) => response.statusCode)).toEqual(made.map(() => 201));
    const numbers = made.map((response) => (response.json().task as Task).number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 12 }, (_, index) => index + 1));
    // Another user's count is their own.
    const next = (await create({ title: 'Next', prompt: 'p' })).json().task as Task;
    const owners = (await get('/api/tasks')).json().tasks as Task[];
    expect(next.number).toBe(Math.max(...owners.map((task) => task.number)));
    expect(new Set(owners.map((task) => task.number)).size).toBe(owners.length);
    expect((await get(`/api/tasks/${next.id}`)).json().task.number).toBe(next.number);
  });

  it('are in the OpenAPI document, with what a merge brought in', async () => {
    const document = (await get('/api/openapi.json')).json();
    const task =
      document.paths['/api/tasks/{id}'].get.responses['200'].content['application/json'].schema.properties.task;
    expect(task.required).toContain('number');
    expect(task.properties.number.type).toBe('integer');
    expect(Object.keys(task.properties.merge.properties)).toEqual(
      expect.arrayContaining(['commit', 'onto', 'into', 'files', 'additions', 'deletions', 'at']),
    );
  });
});

describe('a task that needs the person', () => {
  it('puts a compact event message in the thread when it fails, is ready for review or has a question — and only then', async () => {
    const task = (await create({ title: 'Migrate the database', prompt: 'To Postgres 18.' })).json().task as Task;
    const tasks = server.services.tasks;
    const events = () =>
      server.database.db
        .selectFrom('messages')
        .select(['role', 'content', 'task_id', 'status'])
        .where('user_id', '=', ownerId)
        .where('role', '=', 'event')
        .orderBy('id')
        .execute();

    await tasks.update(ownerId, task.id, { status: 'implementing' });
    expect(await events()).toEqual([]);
    await tasks.update(ownerId, task.id, { needsInput: true });
    await tasks.update(ownerId, task.id, { needsInput: false, status: 'awaiting_review' });
    await tasks.update(ownerId, task.id, { status: 'failed', error: 'the checks failed twice' });
    expect(await events()).toEqual([
      {
        role: 'event',
        status: 'complete',
        task_id: task.id,
        content: `Task #${task.number} “Migrate the database”: asked a question`,
      },
      {
        role: 'event',
        status: 'complete',
        task_id: task.id,
        content: `Task #${task.number} “Migrate the database”: ready for review`,
      },
      {
        role: 'event',
        status: 'complete',
        task_id: task.id,
        content: `Task #${task.number} “Migrate the database” failed: the checks failed twice`,
      },
    ]);
    expect((await get(`/api/tasks/${task.id}`)).json().task).toMatchObject({
      status: 'failed',
      error: 'the checks failed twice',
    });
    // no turn started: no reply exists for an event message
    const replies = await server.database.db
      .selectFrom('messages')
      .select('id')
      .where('role', '=', 'assistant')
      .execute();
    expect(replies).toEqual([]);
    await expect(tasks.update(other.userId, task.id, { status: 'failed' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

/** A project row with a chosen id (the owner's, and Grace's for the other user's task). */
async function addProject(id: string): Promise<void> {
  for (const userId of [await ownerIdOf(server), other.userId]) {
    await server.database.db
      .insertInto('projects')
      .values({
        id: userId === other.userId ? `${id}-grace` : id,
        user_id: userId,
        name: id,
        repo: JSON.stringify({ kind: 'local', path: '/nowhere' }),
        default_branch: 'main',
      })
      .execute();
  }
}
