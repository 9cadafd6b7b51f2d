import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Task } from '../../src/contract/tasks.js';
import type { TestServer } from './server.js';

/** Helpers for tests of tasks and workers: a project repository, the API, waiting for a task's state. */

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
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
