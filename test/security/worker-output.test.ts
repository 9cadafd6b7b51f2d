import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/contract/tasks.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ownerApi } from '../support/tasks.js';

/**
 * Attack (issue 13, point 5): a task floods the server with output. One 600 MB line crashed the
 * server (readline's `RangeError: Invalid string length`, again at every restart); a million short
 * lines took it to 570 MB and Postgres to 497 MB. Now lines are cut, a run's log keeps its first and
 * last lines with a count of those folded between, and the output is read with backpressure: the
 * server stays up and its memory flat.
 */
let server: TestServer;
let owner: ReturnType<typeof ownerApi>;

beforeAll(async () => {
  server = await startTestServer({ env: { MAINLOOP_MODEL_PROVIDER: 'none' } });
  owner = ownerApi(server);
}, 60_000);
afterAll(async () => {
  await server?.close();
});

/** Generous: the old code grew by more than the whole output (600 MB) or crashed. */
const RSS_GROWTH_LIMIT = 200 * 1024 * 1024;
/** Loose bounds on a run's log; the exact numbers are the log writer's. */
const MAX_LOG_LINES = 5_000;
const MAX_LOG_LINE_CHARS = 10_000;

describe('a task that floods the server with output', () => {
  it('one 600 MB line: the line is cut, the task ends, the server stays up and small', async () => {
    const { task, logs, growth } = await runMeasured(
      "head -c 600000000 /dev/zero | tr '\\0' a; echo; echo after the long line",
    );
    expect(['completed', 'failed']).toContain(task.status);
    if (task.status === 'failed') expect(task.error).toBeTruthy();
    expect(growth).toBeLessThan(RSS_GROWTH_LIMIT);
    expect(logs.length).toBeLessThan(MAX_LOG_LINES);
    expect(Math.max(...logs.map((entry) => entry.text.length))).toBeLessThan(MAX_LOG_LINE_CHARS);
    const long = logs.find((entry) => entry.kind === 'stdout' && entry.text.startsWith('aaaa'));
    expect(long?.text).toMatch(/cut/);
    expect(logs.map((entry) => entry.text)).toContain('after the long line');
  }, 300_000);

  it('a million short lines: the task completes, its log keeps the first and last lines and counts the rest', async () => {
    const { task, logs, growth } = await runMeasured('yes | head -n 1000000; echo the end');
    expect(task.status).toBe('completed');
    expect(growth).toBeLessThan(RSS_GROWTH_LIMIT);
    expect(logs.length).toBeLessThan(MAX_LOG_LINES);
    expect(logs.some((entry) => /lines? folded/.test(entry.text))).toBe(true);
    const output = logs.filter((entry) => entry.kind === 'stdout').map((entry) => entry.text);
    expect(output[0]).toBe('y');
    expect(output.at(-1)).toBe('the end');
  }, 300_000);
});

/** Runs `command` as a task, watching the server's health and its peak RSS until the task ends. */
async function runMeasured(command: string) {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const created = await owner.createTask({ title: 'Flood', prompt: 'x', runtime: 'command', command });
    const deadline = Date.now() + 240_000;
    for (;;) {
      const health = await server.app.inject({ method: 'GET', url: '/api/health' });
      expect(health.statusCode).toBe(200);
      const task = await owner.task(created.id);
      if (task.status === 'completed' || task.status === 'failed') {
        return { task, logs: await logsOf(task.id), growth: peak - before };
      }
      if (Date.now() > deadline) throw new Error(`the task did not end; it is ${JSON.stringify(task)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    clearInterval(sampler);
  }
}

async function logsOf(taskId: string): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for (;;) {
    const response = await owner.call('GET', `/api/tasks/${taskId}/logs?after=${entries.at(-1)?.seq ?? 0}&limit=1000`);
    const page = response.json() as { entries: LogEntry[]; hasMore: boolean };
    entries.push(...page.entries);
    if (!page.hasMore) return entries;
  }
}
