import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry, Task } from '../../contract/tasks.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { ownerApi } from '../../../test/support/tasks.js';
import { EventStreamClient } from '../thread/testing.js';

/** Ten tasks at once, and the watchdog: a silent step is flagged stuck, then stopped. */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    env: {
      MAINLOOP_MODEL_PROVIDER: 'none',
      MAINLOOP_WORKER_CONCURRENCY: '10',
      MAINLOOP_STUCK_AFTER_MS: '600',
      MAINLOOP_STUCK_LIMIT_MS: '2500',
    },
  });
}, 60_000);
afterAll(async () => {
  await server?.close();
});

describe('workers', () => {
  it('run ten tasks at once', async () => {
    // A barrier: each task's command calls in and is answered only once all ten have, so the
    // tasks can only finish if all ten run at the same time.
    const arrived: Array<() => void> = [];
    const barrier = createServer((_, response) => {
      arrived.push(() => response.end('go'));
      if (arrived.length === 10) for (const release of arrived) release();
    });
    await new Promise<void>((resolve) => barrier.listen(0, '127.0.0.1', resolve));
    const { port } = barrier.address() as AddressInfo;
    try {
      const tasks = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          create({
            title: `Job ${index + 1}`,
            prompt: 'x',
            runtime: 'command',
            command: `echo begin; while :; do sleep 0.5; echo waiting; done & curl -sS --max-time 120 -o /dev/null http://127.0.0.1:${port}/; kill $!; echo end`,
          }),
        ),
      );
      await Promise.all(tasks.map((task) => waitFor(task.id, (t) => t.status === 'completed', 150_000)));
      expect(arrived).toHaveLength(10);
      for (const task of tasks) expect((await logsOf(task.id)).map((entry) => entry.text)).toContain('end');
    } finally {
      barrier.close();
    }
  }, 180_000);

  it('flag a silent step as stuck, then stop it and fail the task (retryable)', async () => {
    const stream = await EventStreamClient.open(server);
    const task = await create({ title: 'Hangs', prompt: 'x', runtime: 'command', command: 'echo waiting; sleep 30' });
    const failed = await waitFor(task.id, (t) => t.status === 'failed', 30_000);
    expect(failed.error).toMatch(/no output for \d+ s: stopped as stuck/);
    expect(failed.stuckSince).toBeUndefined();
    await stream.waitFor((events) =>
      events.some(
        (event) =>
          event.type === 'task.updated' &&
          (event.data as { task: Task }).task.id === task.id &&
          !!(event.data as { task: Task }).task.stuckSince,
      ),
    );
    stream.close();
    const texts = (await logsOf(task.id)).map((entry) => entry.text);
    expect(texts.some((text) => /^No output for \d+ s: this step may be stuck\.$/.test(text))).toBe(true);
    const retried = await server.app.inject({
      method: 'POST',
      url: `/api/tasks/${task.id}/retry`,
      headers: server.authHeaders,
    });
    expect(retried.json().task).toMatchObject({ status: 'queued', attempt: 2 });
    await server.app.inject({ method: 'POST', url: `/api/tasks/${task.id}/cancel`, headers: server.authHeaders });
  });
});

const create = (spec: object) => ownerApi(server).createTask(spec);
const waitFor = (id: string, done: (task: Task) => boolean, timeout: number) =>
  ownerApi(server).waitForTask(id, done, { timeout });

async function logsOf(id: string): Promise<LogEntry[]> {
  return (await ownerApi(server).call('GET', `/api/tasks/${id}/logs`)).json().entries;
}
