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
    const tasks = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        create({
          title: `Job ${index + 1}`,
          prompt: 'x',
          runtime: 'command',
          command: 'echo begin; for i in $(seq 14); do sleep 0.5; echo tick; done; echo end',
        }),
      ),
    );
    await Promise.all(tasks.map((task) => waitFor(task.id, (t) => t.status === 'completed', 60_000)));
    const logs = await Promise.all(tasks.map((task) => logsOf(task.id)));
    const begins = logs.map((entries) => Date.parse(entries.find((entry) => entry.text === 'begin')!.at));
    const ends = logs.map((entries) => Date.parse(entries.find((entry) => entry.text === 'end')!.at));
    // Every task had begun before any of them ended: all ten ran at the same time.
    expect(Math.max(...begins)).toBeLessThan(Math.min(...ends));
  });

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
