import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry, Task } from '../../contract/tasks.js';
import { FileBarrier } from '../../../test/support/barrier.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { ownerApi } from '../../../test/support/tasks.js';
import { EventStreamClient } from '../thread/testing.js';

/** Ten tasks at once, and the watchdog: a silent step is flagged stuck, then stopped. */
let server: TestServer;
let barrier: FileBarrier;

beforeAll(async () => {
  barrier = await FileBarrier.create();
  server = await startTestServer({
    env: {
      MAINLOOP_SANDBOX_READ_ONLY: barrier.dir,
      MAINLOOP_MODEL_PROVIDER: 'none',
      MAINLOOP_WORKER_CONCURRENCY: '10',
      MAINLOOP_STUCK_AFTER_MS: '600',
      MAINLOOP_STUCK_LIMIT_MS: '2500',
    },
  });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await barrier?.remove();
});

describe('workers', () => {
  it('run ten tasks at once', async () => {
    // A barrier: each task's command says it arrived and waits for the gate, opened only once all
    // ten have arrived, so the tasks can only finish if all ten run at the same time.
    const tasks = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        create({
          title: `Job ${index + 1}`,
          prompt: 'x',
          runtime: 'command',
          // (saying it still waits: the watchdog of this server calls a step silent for 2.5 s stuck)
          command: `echo arrived; while :; do sleep 0.5; echo waiting; done & ${barrier.wait('ten')}; kill $!; echo end`,
        }),
      ),
    );
    await expect
      .poll(async () => (await Promise.all(tasks.map((task) => logsOf(task.id)))).filter(hasArrived).length, {
        timeout: 150_000,
        interval: 200,
      })
      .toBe(10);
    await barrier.open('ten');
    await Promise.all(tasks.map((task) => waitFor(task.id, (t) => t.status === 'completed', 150_000)));
    for (const task of tasks) expect((await logsOf(task.id)).map((entry) => entry.text)).toContain('end');
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

function hasArrived(logs: LogEntry[]): boolean {
  return logs.some((entry) => entry.text === 'arrived');
}

async function logsOf(id: string): Promise<LogEntry[]> {
  return (await ownerApi(server).call('GET', `/api/tasks/${id}/logs`)).json().entries;
}
