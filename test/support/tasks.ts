import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Task } from '../../src/contract/tasks.js';
import { CommandRuntime } from '../../src/server/workers/index.js';
import { ScriptedRuntime } from './scripted-runtime.js';
import { startTestServer, type TestServer } from './server.js';

/** Helpers for tests of tasks and workers: a project repository, the API, waiting for a task's state. */

/** git as the test's user; a task's workspace belongs to the task user when the tests run as root: safe.directory. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'safe.directory=*', ...args], { cwd, encoding: 'utf8' });
}

/** A git repository with one commit (README.md) on `branch`, in a temporary directory. */
export async function makeRepository(options: { branch?: string; prefix?: string } = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), options.prefix ?? 'ml-project-'));
  git(dir, 'init', '-q', '-b', options.branch ?? 'main');
  git(dir, 'config', 'user.email', 'dev@example.com');
  git(dir, 'config', 'user.name', 'Dev');
  await writeFile(path.join(dir, 'README.md'), '# project\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

/** The owner's calls to the server's API, in process. */
export function ownerApi(server: TestServer) {
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    server.app.inject({ method, url, headers: server.authHeaders, ...(payload ? { payload } : {}) });
  return {
    call,
    async createTask(spec: object): Promise<Task> {
      const response = await call('POST', '/api/tasks', spec);
      if (response.statusCode !== 201) throw new Error(`POST /api/tasks: ${response.statusCode} ${response.body}`);
      return response.json().task;
    },
    /** A `command` task (on a project, when given), waited for until it ends or asks for review. */
    async runCommand(command: string, options: { projectId?: string } = {}): Promise<Task> {
      const task = await this.createTask({ title: 'Run', prompt: 'x', runtime: 'command', command, ...options });
      return this.waitForTask(task.id, (t) => ['completed', 'failed', 'awaiting_review'].includes(t.status), {
        timeout: 60_000,
      });
    },
    /** A task's whole log, one line per entry. */
    async logText(id: string): Promise<string> {
      const response = await call('GET', `/api/tasks/${id}/logs?limit=1000`);
      return (response.json().entries as Array<{ text: string }>).map((entry) => entry.text).join('\n');
    },
    /** The sandbox in force, as GET /api/providers says. */
    async sandbox(): Promise<{ kind: string; summary: string; install?: string }> {
      return (await call('GET', '/api/providers')).json().sandbox;
    },
    async task(id: string): Promise<Task> {
      return (await call('GET', `/api/tasks/${id}`)).json().task;
    },
    /** Polls the task until `done` holds; fails with the task as it is when time runs out. */
    async waitForTask(
      id: string,
      done: (task: Task) => boolean,
      options: { timeout?: number; failFast?: boolean } = {},
    ): Promise<Task> {
      const deadline = Date.now() + (options.timeout ?? 30_000);
      for (;;) {
        const task = await this.task(id);
        if (done(task)) return task;
        if (options.failFast && task.status === 'failed') throw new Error(`task ${id} failed: ${task.error}`);
        if (Date.now() > deadline) throw new Error(`task ${id} did not get there; it is ${JSON.stringify(task)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

/**
 * A server whose tasks run on a scripted `claude-code` agent (or real commands), four at a time,
 * with one project on a fresh local repository: what the tests of tasks through the API start with.
 */
export async function startServerWithProject(options: { checkCommand: string; env?: Record<string, string> }) {
  const agent = new ScriptedRuntime('claude-code');
  const server = await startTestServer({
    env: { MAINLOOP_MODEL_PROVIDER: 'none', MAINLOOP_WORKER_CONCURRENCY: '4', ...options.env },
    runtimes: [agent, new CommandRuntime()],
  });
  try {
    const owner = ownerApi(server);
    const repo = await makeRepository();
    const created = await owner.call('POST', '/api/projects', {
      repo: { kind: 'local', path: repo },
      checkCommand: options.checkCommand,
    });
    if (created.statusCode !== 201) throw new Error(`POST /api/projects: ${created.statusCode} ${created.body}`);
    const projectId: string = created.json().project.id;
    return { server, agent, owner, repo, projectId };
  } catch (error) {
    await server.close();
    throw error;
  }
}
