import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Question } from '../../contract/questions.js';
import type { LogEntry, Task } from '../../contract/tasks.js';
import { FileBarrier } from '../../../test/support/barrier.js';
import { ScriptedRuntime, untilAborted } from '../../../test/support/scripted-runtime.js';
import type { TestServer } from '../../../test/support/server.js';
import { git, makeRepository, startServerWithProject, type ownerApi } from '../../../test/support/tasks.js';
import { addUser } from '../thread/testing.js';

let server: TestServer;
let agent: ScriptedRuntime;
let repo: string;
let projectId: string;
let owner: ReturnType<typeof ownerApi>;
let barrier: FileBarrier;

beforeAll(async () => {
  barrier = await FileBarrier.create();
  ({ server, agent, owner, repo, projectId } = await startServerWithProject({
    checkCommand: 'test -f ok.txt',
    env: { MAINLOOP_SANDBOX_READ_ONLY: barrier.dir },
  }));
}, 60_000);
afterAll(async () => {
  await server?.close();
  await barrier?.remove();
});

describe('a command task', () => {
  it('runs in a scratch workspace, logs its output line by line, and completes', async () => {
    const task = await createTask({
      title: 'Say hello',
      prompt: 'greet',
      runtime: 'command',
      command: 'echo hello; echo oops >&2',
    });
    const done = await waitForTask(task.id, (t) => t.status === 'completed');
    expect(done.attempt).toBe(1);
    const logs = await logsOf(task.id);
    expect(logs.map((entry) => [entry.kind, entry.text])).toEqual(
      expect.arrayContaining([
        ['system', '$ echo hello; echo oops >&2'],
        ['stdout', 'hello'],
        ['stderr', 'oops'],
      ]),
    );
    expect(logs.map((entry) => entry.seq)).toEqual(logs.map((_, index) => index + 1));
  });

  it('fails with the exit code and the end of the output, and a retry runs it again', async () => {
    const task = await createTask({
      title: 'Flaky job',
      prompt: 'x',
      runtime: 'command',
      command: 'test -f "$HOME/go" || { echo "not yet"; exit 3; }',
    });
    const failed = await waitForTask(task.id, (t) => t.status === 'failed');
    expect(failed.error).toMatch(/exited with code 3[\s\S]*not yet/);
    // The task's own HOME, which its sandbox shows it.
    await writeFile(path.join(server.dataDir, 'homes', task.id, 'go'), '');
    const retried = await api('POST', `/api/tasks/${task.id}/retry`);
    expect(retried.statusCode).toBe(200);
    expect(retried.json().task).toMatchObject({ attempt: 2, status: 'queued' });
    const done = await waitForTask(task.id, (t) => t.status === 'completed');
    expect(done.attempt).toBe(2);
    expect(done.error).toBeUndefined();
  });

  it('runs at most MAINLOOP_WORKER_CONCURRENCY (4) at once; cancel frees a slot and ends one still waiting for good', async () => {
    // Each command says it arrived and is held at its own gate until the test opens it.
    const tasks: Task[] = [];
    for (let index = 1; index <= 6; index++) {
      tasks.push(
        await createTask({
          title: `Slot ${index}`,
          prompt: 'x',
          runtime: 'command',
          command: `echo arrived; ${barrier.wait(`job-${index}`)}`,
        }),
      );
    }
    const arrived = async () => {
      const logs = await Promise.all(tasks.map((task) => logsOf(task.id)));
      return tasks.flatMap((task, index) =>
        logs[index]!.some((entry) => entry.text === 'arrived') ? [`job-${index + 1}`] : [],
      );
    };
    await waitUntil(async () => (await arrived()).length === 4);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await arrived()).toEqual(['job-1', 'job-2', 'job-3', 'job-4']);
    expect((await getTask(tasks[5]!.id)).status).toBe('queued');

    // The sixth, still waiting for a slot, and the first, running: the first's slot goes to the fifth.
    await api('POST', `/api/tasks/${tasks[5]!.id}/cancel`);
    await api('POST', `/api/tasks/${tasks[0]!.id}/cancel`);
    await waitUntil(async () => (await arrived()).includes('job-5'));
    for (let index = 1; index <= 6; index++) await barrier.open(`job-${index}`);
    for (const task of tasks.slice(1, 5)) await waitForTask(task.id, (t) => t.status === 'completed');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await arrived()).not.toContain('job-6');
    for (const task of [tasks[0]!, tasks[5]!]) expect((await getTask(task.id)).status).toBe('cancelled');
  });

  it('sees a scrubbed environment: none of the server’s secrets', async () => {
    process.env.MAINLOOP_TEST_SECRET = 'do-not-leak';
    const task = await createTask({ title: 'Env', prompt: 'x', runtime: 'command', command: 'env' });
    await waitForTask(task.id, (t) => t.status === 'completed');
    const text = (await logsOf(task.id)).map((entry) => entry.text).join('\n');
    expect(text).not.toContain('do-not-leak');
    expect(text).not.toContain('DATABASE_URL');
    expect(text).not.toContain('MAINLOOP_API_TOKEN');
    expect(text).toMatch(/^HOME=.*homes/m);
    delete process.env.MAINLOOP_TEST_SECRET;
  });
});

describe('an agent task on a project', () => {
  it('plans, waits for approval, implements, checks, asks for review and merges on approve', async () => {
    agent.then(
      () => ({ kind: 'plan', plan: '1. Add ok.txt\n2. Done', sessionId: 'session-1' }),
      async (request) => {
        await writeFile(path.join(request.cwd, 'ok.txt'), 'fine\n');
        return {
          kind: 'done',
          summary: 'Added ok.txt',
          sessionId: 'session-1',
          usage: { inputTokens: 100, outputTokens: 20, costUsd: 0.01 },
        };
      },
    );
    const task = await createTask({ title: 'Add ok file', prompt: 'Add ok.txt', projectId });
    const planned = await waitForTask(task.id, (t) => t.status === 'awaiting_plan_approval');
    expect(planned.plan).toBe('1. Add ok.txt\n2. Done');
    expect(planned.branch).toMatch(/^mainloop\/[a-z0-9]{8}-add-ok-file$/);
    expect(agent.requests.at(-1)).toMatchObject({ mode: 'plan' });

    expect((await api('POST', `/api/tasks/${task.id}/review`, { decision: 'approve' })).statusCode).toBe(409);
    expect((await api('POST', `/api/tasks/${task.id}/plan`, { decision: 'revise' })).statusCode).toBe(400);
    expect((await api('POST', `/api/tasks/${task.id}/plan`, { decision: 'approve' })).statusCode).toBe(200);

    const review = await waitForTask(task.id, (t) => t.status === 'awaiting_review');
    expect(agent.requests.at(-1)).toMatchObject({ mode: 'implement', sessionId: 'session-1' });
    expect(review.review).toMatchObject({
      files: [{ path: 'ok.txt', additions: 1, deletions: 0 }],
      additions: 1,
      deletions: 0,
      checks: { command: 'test -f ok.txt', passed: true, rounds: 1 },
      summary: 'Added ok.txt',
    });
    expect(review.usage).toEqual({ inputTokens: 100, outputTokens: 20, costUsd: 0.01 });
    // The branch is in the project already, for the person to look at.
    expect(git(repo, 'branch', '--list', review.branch!)).toContain(review.branch!);

    const diff = await api('GET', `/api/tasks/${task.id}/diff`);
    expect(diff.headers['content-type']).toMatch(/^text\/plain/);
    expect(diff.body).toContain('+++ b/ok.txt');
    const json = await server.app.inject({
      method: 'GET',
      url: `/api/tasks/${task.id}/diff`,
      headers: { ...server.authHeaders, accept: 'application/json' },
    });
    expect(json.json().files).toEqual([
      expect.objectContaining({ path: 'ok.txt', additions: 1, patch: expect.stringContaining('+fine') }),
    ]);

    const before = git(repo, 'rev-parse', 'main').trim();
    expect((await api('POST', `/api/tasks/${task.id}/review`, { decision: 'approve' })).statusCode).toBe(200);
    const done = await waitForTask(task.id, (t) => t.status === 'completed');
    expect(await readFile(path.join(repo, 'ok.txt'), 'utf8')).toBe('fine\n');
    expect(git(repo, 'log', '-1', '--format=%s')).toContain(`Merge ${review.branch}`);
    expect(existsSync(path.join(server.dataDir, 'workspaces', task.id))).toBe(false);

    // What was merged stays on the task, and its diff is read from the project once the workspace is gone.
    const merged = git(repo, 'rev-parse', 'main').trim();
    expect(done.merge).toEqual({
      commit: merged,
      onto: before,
      into: 'main',
      files: [{ path: 'ok.txt', additions: 1, deletions: 0 }],
      additions: 1,
      deletions: 0,
      at: expect.any(String),
    });
    const after = await server.app.inject({
      method: 'GET',
      url: `/api/tasks/${task.id}/diff`,
      headers: { ...server.authHeaders, accept: 'application/json' },
    });
    expect(after.json()).toEqual({
      base: before,
      head: merged,
      files: [expect.objectContaining({ path: 'ok.txt', additions: 1, patch: expect.stringContaining('+fine') })],
    });
    expect((await api('GET', `/api/tasks/${task.id}/diff`)).body).toContain('+++ b/ok.txt');
    expect((await logsOf(task.id)).filter((entry) => entry.kind === 'decision' || entry.kind === 'status')).toEqual([
      expect.objectContaining({ kind: 'decision', text: 'Plan approved.' }),
      expect.objectContaining({ kind: 'decision', text: 'Work approved, to be merged.' }),
      expect.objectContaining({ kind: 'status', text: `Completed: merged into main as ${merged.slice(0, 7)}.` }),
    ]);
    git(repo, 'rm', '-q', 'ok.txt');
    git(repo, 'commit', '-q', '-m', 'reset for the next test');
  });

  it('revises a plan with feedback, asks a question and resumes the same session with the answer', async () => {
    agent.then(
      () => ({ kind: 'plan', plan: 'Plan A', sessionId: 's-2' }),
      () => ({ kind: 'plan', plan: 'Plan B', sessionId: 's-2' }),
      () => ({
        kind: 'question',
        sessionId: 's-2',
        questions: [
          {
            header: 'Colour',
            text: 'Which colour?',
            options: [{ label: 'red' }, { label: 'blue' }],
            multiSelect: false,
          },
          { text: 'Which sizes?', options: [{ label: 'S' }, { label: 'M' }, { label: 'L' }], multiSelect: true },
        ],
      }),
      async (request) => {
        await writeFile(path.join(request.cwd, 'ok.txt'), 'sized\n');
        return { kind: 'done', summary: 'done', sessionId: 's-2' };
      },
    );
    const task = await createTask({ title: 'Paint', prompt: 'Paint it', projectId });
    await waitForTask(task.id, (t) => t.status === 'awaiting_plan_approval' && t.plan === 'Plan A');
    await api('POST', `/api/tasks/${task.id}/plan`, { decision: 'revise', feedback: 'Use B instead' });
    await waitForTask(task.id, (t) => t.status === 'awaiting_plan_approval' && t.plan === 'Plan B');
    expect(agent.requests.at(-1)).toMatchObject({
      mode: 'plan',
      sessionId: 's-2',
      prompt: expect.stringContaining('Use B instead'),
    });
    await api('POST', `/api/tasks/${task.id}/plan`, { decision: 'approve' });
    expect((await logsOf(task.id)).filter((entry) => entry.kind === 'decision').map((entry) => entry.text)).toEqual([
      'Plan sent back: Use B instead',
      'Plan approved.',
    ]);

    const asking = await waitForTask(task.id, (t) => t.needsInput);
    expect(asking.status).toBe('implementing');
    const open = (await api('GET', `/api/questions?status=open&taskId=${task.id}`)).json().questions as Question[];
    expect(open.map((q) => [q.header, q.text, q.multiSelect])).toEqual([
      ['Colour', 'Which colour?', false],
      [undefined, 'Which sizes?', true],
    ]);
    expect((await api('POST', `/api/questions/${open[0]!.id}/answer`, { answer: ['red', 'blue'] })).statusCode).toBe(
      400,
    );
    expect((await api('POST', `/api/questions/${open[0]!.id}/answer`, { answer: 'blue' })).statusCode).toBe(200);
    expect((await api('POST', `/api/questions/${open[0]!.id}/answer`, { answer: 'red' })).statusCode).toBe(409);
    // One of two answered: the agent waits for both.
    expect((await getTask(task.id)).needsInput).toBe(true);
    await api('POST', `/api/questions/${open[1]!.id}/answer`, { answer: ['S', 'L'] });

    await waitForTask(task.id, (t) => t.status === 'awaiting_review');
    const resumed = agent.requests.at(-1)!;
    expect(resumed).toMatchObject({ mode: 'implement', sessionId: 's-2' });
    expect(resumed.prompt).toContain('Which colour?\n  Answer: blue');
    expect(resumed.prompt).toContain('Which sizes?\n  Answer: S, L');
    await api('POST', `/api/tasks/${task.id}/cancel`);
  });

  it('sends failing checks back to the agent, then fails when the budget is spent; retry starts again', async () => {
    agent.then(
      () => ({ kind: 'done', summary: 'forgot the file' }),
      () => ({ kind: 'done', summary: 'still forgot' }),
      () => ({ kind: 'done', summary: 'and again' }),
    );
    const task = await createTask({ title: 'Checks', prompt: 'x', projectId, skipPlan: true });
    const failed = await waitForTask(task.id, (t) => t.status === 'failed');
    expect(failed.error).toMatch(/checks still fail after 3 rounds/);
    expect(agent.requests.slice(-2).map((request) => request.prompt)).toEqual([
      expect.stringContaining('checks failed (`test -f ok.txt`, round 1 of 3)'),
      expect.stringContaining('round 2 of 3'),
    ]);
    agent.then(async (request) => {
      await writeFile(path.join(request.cwd, 'ok.txt'), 'fixed\n');
      return { kind: 'done', summary: 'fixed' };
    });
    await api('POST', `/api/tasks/${task.id}/retry`);
    const review = await waitForTask(task.id, (t) => t.status === 'awaiting_review');
    expect(review.attempt).toBe(2);
    expect(review.review?.checks).toMatchObject({ passed: true });
    await api('POST', `/api/tasks/${task.id}/review`, { decision: 'request_changes', feedback: 'Say more' });
    agent.then(async (request) => {
      await writeFile(path.join(request.cwd, 'ok.txt'), 'fixed, with more words\n');
      return { kind: 'done', summary: 'said more' };
    });
    await waitForTask(task.id, (t) => t.status === 'awaiting_review' && t.review?.summary === 'said more');
    expect(agent.requests.at(-1)!.prompt).toContain('Say more');
    // The person's decisions are the task's history, with their words.
    expect((await logsOf(task.id)).filter((entry) => entry.kind === 'decision').map((entry) => entry.text)).toEqual([
      'Retried (attempt 2).',
      'Changes requested: Say more',
    ]);
    await api('POST', `/api/tasks/${task.id}/cancel`);
  });

  it('completes without a merge when the approved work changed nothing, and says so', async () => {
    agent.then(() => ({ kind: 'done', summary: 'Nothing needed changing: ok.txt is there.' }));
    await writeFile(path.join(repo, 'ok.txt'), 'already\n');
    git(repo, 'add', 'ok.txt');
    git(repo, 'commit', '-q', '-m', 'ok.txt for the next test');
    const main = git(repo, 'rev-parse', 'main').trim();
    const task = await createTask({ title: 'Nothing to do', prompt: 'x', projectId, skipPlan: true });
    const review = await waitForTask(task.id, (t) => t.status === 'awaiting_review');
    expect(review.review).toMatchObject({ files: [], additions: 0, deletions: 0 });

    expect((await api('POST', `/api/tasks/${task.id}/review`, { decision: 'approve' })).statusCode).toBe(200);
    const done = await waitForTask(task.id, (t) => t.status === 'completed');
    expect(done.merge).toBeUndefined();
    expect(git(repo, 'rev-parse', 'main').trim()).toBe(main);
    const logs = await logsOf(task.id);
    expect(logs.filter((entry) => entry.kind === 'decision').map((entry) => entry.text)).toEqual([
      'Work approved, nothing to merge.',
    ]);
    expect(logs.at(-1)).toMatchObject({ kind: 'status', text: 'Completed without a merge: nothing changed.' });
    const diff = await api('GET', `/api/tasks/${task.id}/diff`);
    expect(diff.statusCode).toBe(409);
    expect(diff.json().message).toContain(`#${task.number}`);
    git(repo, 'rm', '-q', 'ok.txt');
    git(repo, 'commit', '-q', '-m', 'reset for the next test');
  });

  it('cancel stops a running agent, removes the workspace and keeps the branch', async () => {
    agent.then(async (request) => {
      await writeFile(path.join(request.cwd, 'partial.txt'), 'half\n');
      return untilAborted(request);
    });
    const task = await createTask({ title: 'Long one', prompt: 'x', projectId, skipPlan: true });
    const before = agent.requests.length;
    await agent.started(before + 1);
    const cancelled = await api('POST', `/api/tasks/${task.id}/cancel`);
    expect(cancelled.json().task.status).toBe('cancelled');
    expect((await api('POST', `/api/tasks/${task.id}/cancel`)).statusCode).toBe(409);
    await waitUntil(() => !existsSync(path.join(server.dataDir, 'workspaces', task.id)));
    const final = await getTask(task.id);
    expect(final.status).toBe('cancelled');
    expect((await api('GET', `/api/tasks/${task.id}/diff`)).statusCode).toBe(409);
  });
});

describe('a step that cannot be done', () => {
  it('fails the task with the reason, and a retry runs the step again', async () => {
    const gone = await makeRepository({ prefix: 'ml-gone-' });
    const project = (await api('POST', '/api/projects', { name: 'gone', repo: { kind: 'local', path: gone } })).json()
      .project as { id: string };
    await rm(path.join(gone, '.git'), { recursive: true, force: true });
    const task = await createTask({
      title: 'Doomed',
      prompt: 'x',
      runtime: 'command',
      command: 'true',
      projectId: project.id,
    });
    const failed = await waitForTask(task.id, (t) => t.status === 'failed');
    expect(failed.error).toMatch(/^prepare failed: git clone/);
    git(gone, 'init', '-q', '-b', 'main');
    git(
      gone,
      '-c',
      'user.name=Dev',
      '-c',
      'user.email=dev@example.com',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'again',
    );
    await api('POST', `/api/tasks/${task.id}/retry`);
    const done = await waitForTask(task.id, (t) => t.status === 'completed');
    expect(done.attempt).toBe(2);
  });
});

describe('what the person may do', () => {
  it('answers 404 for another user’s task and question, 400 for bad input', async () => {
    const other = await addUser(server, 'mallory');
    const task = await createTask({ title: 'Mine', prompt: 'x', runtime: 'command', command: 'true' });
    for (const url of [`/api/tasks/${task.id}/logs`, `/api/tasks/${task.id}/diff`]) {
      expect((await server.app.inject({ method: 'GET', url, headers: other.headers })).statusCode).toBe(404);
    }
    for (const [url, payload] of [
      [`/api/tasks/${task.id}/retry`, {}],
      [`/api/tasks/${task.id}/cancel`, {}],
      [`/api/tasks/${task.id}/plan`, { decision: 'approve' }],
      [`/api/tasks/${task.id}/review`, { decision: 'approve' }],
    ] as const) {
      expect((await server.app.inject({ method: 'POST', url, headers: other.headers, payload })).statusCode).toBe(404);
    }
    expect((await api('POST', `/api/tasks/${task.id}/plan`, { decision: 'maybe' })).statusCode).toBe(400);
    expect((await api('GET', `/api/tasks/${task.id}/logs?after=-1`)).statusCode).toBe(400);
    expect((await api('POST', '/api/questions/nope/answer', { answer: '' })).statusCode).toBe(400);
    expect((await api('POST', '/api/questions/nope/answer', { answer: 'x' })).statusCode).toBe(404);
    expect((await api('POST', '/api/tasks', { title: 't', prompt: 'p', projectId: 'no-such' })).statusCode).toBe(400);
  });
});

const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  owner.call(method, url, payload);
const createTask = (spec: object) => owner.createTask(spec);
const getTask = (id: string) => owner.task(id);
const waitForTask = (id: string, done: (task: Task) => boolean) => owner.waitForTask(id, done);

async function logsOf(id: string): Promise<LogEntry[]> {
  return (await api('GET', `/api/tasks/${id}/logs`)).json().entries;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
