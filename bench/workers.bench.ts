/**
 * Workers: 50 `command` tasks (`sleep 2`) submitted at once with MAINLOOP_WORKER_CONCURRENCY=10.
 *
 *   wall     = first POST → last task `completed`, against the ideal 5 waves × 2 s = 10 s.
 *              Target: ≤ 1.3× the ideal.
 *   overhead = per task, (its queued → completed time) − 2 s, against a bare `child_process`
 *              spawn of the same command in the same run (its spawn → exit time − 2 s): what
 *              mainloop adds per task (queueing, workspace, steps, events, logs). Reported.
 *   memory   = the server's RSS growth while 10 tasks run, per running task. Reported.
 *   timeline = what does not depend on the machine's load as much as the wall: the time until
 *              the first command starts and until all 50 tasks are accepted, the hand-over from a
 *              finished command to the next one started in its slot, the database statements
 *              per task (mainloop's and DBOS's) and the server process's CPU time per task. Reported.
 *
 *   npx tsx bench/workers.bench.ts          (or `npm run bench` for every benchmark)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import pino from 'pino';
import type { Task } from '../src/contract/tasks.js';
import { loadConfig } from '../src/server/config/index.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { median, runIfMain } from './lib/report.js';
import type { BenchResult } from './lib/result.js';

const TOKEN = 'bench-workers-token-0123456789abcdef';
const TASKS = 50;
const CONCURRENCY = 10;
const SLEEP_S = 2;
const TARGET_RATIO = 1.3;

export async function run(): Promise<BenchResult[]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-bench-workers-'));
  let server: RunningServer | undefined;
  try {
    const config = loadConfig({
      MAINLOOP_DATA_DIR: dataDir,
      PORT: '0',
      MAINLOOP_API_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
      MAINLOOP_MODEL_PROVIDER: 'none',
      MAINLOOP_WORKER_CONCURRENCY: String(CONCURRENCY),
    });
    server = await startServer({
      config,
      logger: pino({ level: 'warn' }),
      webRoot: false,
      setupLinkPrinter: { print() {} },
    });
    const api = apiOf(server.url);

    // Warm up: one task through every step (module loading, first connections).
    await api.waitCompleted([(await api.create('warm-up')).id]);

    const bare = await bareSpawns(CONCURRENCY);
    global.gc?.();
    // process.memoryUsage.rss(): the RSS alone (process.memoryUsage() walks the whole heap, ms a call).
    const rssBefore = process.memoryUsage.rss();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 100);
    const statements = countStatements();
    const cpuBefore = process.cpuUsage();
    const startedAt = Date.now();
    const started = performance.now();
    const created = await Promise.all(Array.from({ length: TASKS }, (_, index) => api.create(`job ${index + 1}`)));
    const acceptedMs = performance.now() - started;
    const finished = await api.waitCompleted(created.map((task) => task.id));
    // Until the last task completed, by its own record: not until the bench's polling noticed.
    const wall = Math.max(...finished.map((task) => Date.parse(task.updatedAt))) - startedAt;
    clearInterval(sampler);
    const counted = statements.stop();
    const cpu = process.cpuUsage(cpuBefore);

    const overheads = finished.map((task) => Date.parse(task.updatedAt) - Date.parse(task.createdAt));
    // Each task's own time minus its sleep and minus the time it waited for a slot (its wave).
    const perTask = perTaskOverhead(finished);
    const ideal = (TASKS / CONCURRENCY) * SLEEP_S * 1000;
    const bareOverhead = median(bare);
    const commandStarts = finished.map((task) => task.firstLogAt).sort((a, b) => a - b);
    const handovers = handoverTimes(commandStarts);
    return [
      {
        name: `${TASKS} command tasks (sleep ${SLEEP_S}), concurrency ${CONCURRENCY}: wall ms`,
        value: round(wall),
        floor: ideal,
        ratio: round(wall / ideal, 2),
        target: `≤ ${TARGET_RATIO}× ideal`,
        pass: wall / ideal <= TARGET_RATIO,
        details: { tasks: TASKS, concurrency: CONCURRENCY, slowestTaskMs: Math.max(...overheads) },
      },
      {
        name: 'mainloop overhead per task (run time − sleep), ms',
        value: round(median(perTask)),
        floor: round(bareOverhead, 2),
        ratio: round(median(perTask) / Math.max(bareOverhead, 0.01), 1),
        target: 'reported (vs a bare child_process spawn)',
        pass: true,
        details: { p90: round(percentile(perTask, 0.9)), bareSpawnMs: round(bareOverhead, 2) },
      },
      {
        name: 'server memory per running task, MB (RSS growth with 10 running)',
        value: round((rssPeak - rssBefore) / CONCURRENCY / 1024 / 1024, 2),
        floor: 0,
        ratio: 0,
        target: 'reported',
        pass: true,
        details: { rssBeforeMb: round(rssBefore / 1024 / 1024), rssPeakMb: round(rssPeak / 1024 / 1024) },
      },
      {
        name: 'first command started, ms after the first POST',
        value: round(commandStarts[0]! - startedAt),
        floor: 0,
        ratio: 0,
        target: 'reported',
        pass: true,
        details: {
          allAcceptedMs: round(acceptedMs),
          tenthStartedMs: round(commandStarts[CONCURRENCY - 1]! - startedAt),
        },
      },
      {
        name: 'slot hand-over (a command ends → the next starts), ms',
        value: round(median(handovers)),
        floor: 0,
        ratio: 0,
        target: 'reported',
        pass: true,
        details: { p90: round(percentile(handovers, 0.9)), max: round(Math.max(...handovers)) },
      },
      {
        name: 'database statements per task',
        value: round((counted.mainloop + counted.dbos) / TASKS, 1),
        floor: 0,
        ratio: 0,
        target: 'reported',
        pass: true,
        details: { mainloop: round(counted.mainloop / TASKS, 1), dbos: round(counted.dbos / TASKS, 1) },
      },
      {
        name: 'server CPU per task (its process, user + system), ms',
        value: round((cpu.user + cpu.system) / 1000 / TASKS, 1),
        floor: 0,
        ratio: 0,
        target: 'reported',
        pass: true,
        details: { userMs: round(cpu.user / 1000 / TASKS, 1), systemMs: round(cpu.system / 1000 / TASKS, 1) },
      },
    ];
  } finally {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** A task's own overhead: from its phase's start (first log line) to completion, minus the sleep. */
function perTaskOverhead(tasks: Array<Task & { firstLogAt: number }>): number[] {
  return tasks.map((task) => Date.parse(task.updatedAt) - task.firstLogAt - SLEEP_S * 1000);
}

/**
 * With the commands' start times in order, the k-th start (k ≥ concurrency) takes the slot of
 * the (k − concurrency)-th command to end; each ends `SLEEP_S` after it started. What lies
 * between is mainloop's hand-over (finishing one task, starting the next).
 */
function handoverTimes(starts: number[]): number[] {
  const ends = starts.map((start) => start + SLEEP_S * 1000).sort((a, b) => a - b);
  return starts.slice(CONCURRENCY).map((start, index) => start - ends[index]!);
}

/**
 * Counts the statements sent to Postgres by this process (the server runs in it), mainloop's and
 * DBOS's (its pool names itself `mainloop-dbos`) apart. The bench's own API calls add none.
 */
function countStatements(): { stop(): { mainloop: number; dbos: number } } {
  const counts = { mainloop: 0, dbos: 0 };
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  prototype.query = function (this: { connectionParameters?: { application_name?: string } }, ...args: unknown[]) {
    counts[this.connectionParameters?.application_name === 'mainloop-dbos' ? 'dbos' : 'mainloop']++;
    return original.apply(this, args);
  };
  return {
    stop() {
      prototype.query = original;
      return { ...counts };
    },
  };
}

/** Spawn → exit of `sleep 2` through /bin/sh, `count` at once, minus the sleep: the floor. */
async function bareSpawns(count: number): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<number>((resolve, reject) => {
          const started = performance.now();
          const child = spawn('/bin/sh', ['-c', `sleep ${SLEEP_S}`], { stdio: 'ignore' });
          child.once('error', reject);
          child.once('exit', () => resolve(performance.now() - started - SLEEP_S * 1000));
        }),
    ),
  );
}

function apiOf(base: string) {
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const call = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${base}${url}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  return {
    async create(title: string): Promise<Task> {
      return (
        await call<{ task: Task }>('POST', '/api/tasks', {
          title,
          prompt: 'bench',
          runtime: 'command',
          command: `sleep ${SLEEP_S}`,
        })
      ).task;
    },
    async waitCompleted(ids: string[]): Promise<Array<Task & { firstLogAt: number }>> {
      const done = new Map<string, Task & { firstLogAt: number }>();
      while (done.size < ids.length) {
        const { tasks } = await call<{ tasks: Task[] }>('GET', '/api/tasks?status=completed');
        for (const task of tasks) {
          if (!ids.includes(task.id) || done.has(task.id)) continue;
          const { entries } = await call<{ entries: Array<{ at: string }> }>(
            'GET',
            `/api/tasks/${task.id}/logs?limit=1`,
          );
          done.set(task.id, { ...task, firstLogAt: Date.parse(entries[0]?.at ?? task.createdAt) });
        }
        const failed = (await call<{ tasks: Task[] }>('GET', '/api/tasks?status=failed')).tasks.filter((task) =>
          ids.includes(task.id),
        );
        if (failed.length) throw new Error(`tasks failed: ${failed.map((task) => task.error).join('; ')}`);
        // Seldom: the polling runs in the server's process and would compete with the tasks.
        if (done.size < ids.length) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      return ids.map((id) => done.get(id)!);
    },
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const round = (value: number, digits = 0) => Number(value.toFixed(digits));

await runIfMain(import.meta.url, run);
