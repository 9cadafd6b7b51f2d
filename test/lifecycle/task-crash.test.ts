import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { LogEntry, Task } from '../../src/contract/tasks.js';
import { freePort } from '../../src/server/db/embedded-postgres.js';
import { ChildNode, poll } from './helpers/processes.js';

/**
 * The real entry point with its embedded Postgres, killed as a whole (SIGKILL to the process
 * group: Node, Postgres and the task's agent) in the middle of a task, then started again on the
 * same data directory: the task completes, its work is committed once, and the step that was cut
 * off starts again from the workspace's last checkpoint (so its effect is there once).
 */
const TOKEN = 'task-crash-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const HEALTHY_WITHIN_MS = 90_000;
/**
 * Where the test tells the command that the crash is over: a directory the task's sandbox shows
 * read-only (MAINLOOP_SANDBOX_READ_ONLY). Until the marker exists, the command sleeps long enough
 * to be killed mid-step however slow the machine; the run after the restart goes on.
 */
const MARKERS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-artifacts/task-crash');

const running: ChildNode[] = [];
const directories: string[] = [];
afterEach(async () => {
  for (const node of running.splice(0)) await node.kill({ group: node.detached });
});
afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

async function startMainloop(dataDir: string, markers: string): Promise<{ node: ChildNode; url: string }> {
  const port = await freePort();
  const node = new ChildNode('src/server/main.ts', {
    env: {
      MAINLOOP_DATA_DIR: dataDir,
      PORT: String(port),
      MAINLOOP_API_TOKEN: TOKEN,
      LOG_LEVEL: 'info',
      MAINLOOP_MODEL_PROVIDER: 'none',
      MAINLOOP_SANDBOX_READ_ONLY: markers,
    },
    detached: true,
  });
  running.push(node);
  const url = `http://127.0.0.1:${port}`;
  await poll(`${url} to be ready`, HEALTHY_WITHIN_MS, async () => {
    node.assertRunning();
    const response = await fetch(`${url}/api/tasks`, { headers: auth }).catch(() => undefined);
    return response?.ok ? true : undefined;
  });
  return { node, url };
}

async function call<T>(url: string, method: string, body?: unknown): Promise<T> {
  const response = await fetch(url, { method, headers: auth, ...(body ? { body: JSON.stringify(body) } : {}) });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

describe('a server killed with its Postgres in the middle of a task', () => {
  it('completes the task after a restart, with the interrupted step run again from its checkpoint and its work committed once', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-task-crash-'));
    directories.push(dataDir);
    await mkdir(MARKERS, { recursive: true });
    const restarted = await mkdtemp(path.join(MARKERS, 'restarted-'));
    directories.push(restarted);
    await chmod(restarted, 0o755); // the task user (when root) looks inside
    const first = await startMainloop(dataDir, restarted);
    const { task } = await call<{ task: Task }>(`${first.url}/api/tasks`, 'POST', {
      title: 'Append a line',
      prompt: 'a job',
      runtime: 'command',
      command: `echo started; echo line >> out.txt; [ -e '${restarted}/now' ] || sleep 600; echo finished`,
    });
    // Killed once the command has run its side effect and is sleeping.
    await poll('the command to start', 60_000, async () => {
      const { entries } = await call<{ entries: LogEntry[] }>(`${first.url}/api/tasks/${task.id}/logs`, 'GET');
      return entries.some((entry) => entry.text === 'started') ? true : undefined;
    });
    await first.node.kill({ group: true });
    await writeFile(path.join(restarted, 'now'), '');

    const second = await startMainloop(dataDir, restarted);
    const done = await poll('the task to complete', 60_000, async () => {
      second.node.assertRunning();
      const { task: current } = await call<{ task: Task }>(`${second.url}/api/tasks/${task.id}`, 'GET');
      if (current.status === 'failed') throw new Error(`the task failed: ${current.error}`);
      return current.status === 'completed' ? current : undefined;
    });
    expect(done.attempt).toBe(1);

    const workspace = path.join(dataDir, 'workspaces', task.id);
    expect(await readFile(path.join(workspace, 'out.txt'), 'utf8')).toBe('line\n');
    const commits = execFileSync('git', ['-c', 'safe.directory=*', 'log', '--format=%s%x09%b', 'main..HEAD'], {
      cwd: workspace,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .filter(Boolean);
    expect(commits).toHaveLength(1);
    expect(commits[0]).toContain('Append a line');
    expect(
      execFileSync('git', ['-c', 'safe.directory=*', 'status', '--porcelain'], { cwd: workspace, encoding: 'utf8' }),
    ).toBe('');

    const { entries } = await call<{ entries: LogEntry[] }>(`${second.url}/api/tasks/${task.id}/logs`, 'GET');
    const texts = entries.map((entry) => entry.text);
    expect(texts.filter((text) => text === 'started')).toHaveLength(2);
    expect(texts).toContain(
      'This step is running again after an interruption: the workspace is back at its last checkpoint.',
    );
    expect(texts.filter((text) => text === 'finished')).toHaveLength(1);
    expect(entries.map((entry) => entry.seq)).toEqual(entries.map((_, index) => index + 1));
  });
});
