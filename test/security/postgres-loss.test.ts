import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry, Task } from '../../src/contract/tasks.js';
import {
  ChildNode,
  isAlive,
  poll,
  postmasterPidFile,
  startBuiltServer,
  type BuiltServer,
} from '../lifecycle/helpers/processes.js';

/**
 * Attack (issue 13, point 8): the embedded Postgres is killed (SIGKILL) in the middle of a task,
 * and its port is held by something else for a while, so that it cannot come straight back.
 * Before: `/api/health` stayed 200, every route answered 500, and nothing restarted Postgres.
 * Now: health answers 503 while the database is down, a route answers 503 with `Retry-After`,
 * the server restarts Postgres by itself once it can, and the task — whose command ended while the
 * database was gone — completes, its command run once.
 *
 * The built server (`dist/server/main.js`) as `npm start` runs it.
 */
const TOKEN = 'postgres-loss-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const WITHIN_MS = 60_000;

let server: BuiltServer;
let node: ChildNode;
let url: string;
let dataDir: string;

beforeAll(async () => {
  server = await startBuiltServer({ token: TOKEN, detached: true, healthyWithinMs: WITHIN_MS });
  ({ node, url, dataDir } = server);
});

afterAll(() => server?.stop());

async function call<T>(method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${url}${route}`, {
    method,
    ...(body
      ? { headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : { headers: auth }),
  });
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The embedded Postgres's port, from its postmaster.pid (line 4). */
function postgresPort(): number {
  return Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3]);
}

/** Listens on `port` and drops every connection at once: Postgres cannot bind it meanwhile. */
async function holdPort(port: number): Promise<net.Server> {
  const squatter = net.createServer((socket) => socket.destroy());
  await poll(
    `port ${port} to be free`,
    10_000,
    () =>
      new Promise<true | undefined>((resolve) => {
        squatter.once('error', () => resolve(undefined));
        squatter.listen(port, '127.0.0.1', () => resolve(true));
      }),
  );
  return squatter;
}

describe('the embedded Postgres killed in the middle of a task', () => {
  it(
    'is reported, answered with 503, restarted by the server, and the task completes once',
    { timeout: 300_000 },
    async () => {
      const { task } = await call<{ task: Task }>('POST', '/api/tasks', {
        title: 'Count my runs',
        prompt: 'a job',
        runtime: 'command',
        // Each run adds a line to a file in the task's home (a rerun resets the workspace, not the home),
        // waits for the test's go, and says when it is done.
        command: `echo run >> "$HOME/runs"; echo started; until [ -e "$HOME/go" ]; do sleep 0.1; done; touch "$HOME/done"`,
      });
      const home = path.join(dataDir, 'homes', task.id);
      await poll('the command to start', WITHIN_MS, async () => {
        const { entries } = await call<{ entries: LogEntry[] }>('GET', `/api/tasks/${task.id}/logs`);
        return entries.some((entry) => entry.text === 'started') ? true : undefined;
      });

      const port = postgresPort();
      const killed = postmasterPidFile(dataDir)!;
      process.kill(killed, 'SIGKILL');
      await poll('the postmaster to die', 10_000, () => (isAlive(killed) ? undefined : true));
      const squatter = await holdPort(port);
      try {
        const health = await poll('health to report the database down', WITHIN_MS, async () => {
          node.assertRunning();
          const response = await fetch(`${url}/api/health`);
          return response.status === 503 ? response : undefined;
        });
        expect(await health.json()).toMatchObject({ status: 'unavailable', database: 'down' });

        for (const [method, route] of [
          ['GET', '/api/tasks'],
          ['GET', `/api/tasks/${task.id}`],
          ['POST', `/api/tasks/${task.id}/cancel`],
        ] as const) {
          const response = await fetch(`${url}${route}`, {
            method,
            headers: auth,
            signal: AbortSignal.timeout(30_000),
          });
          expect(response.status, `${method} ${route}`).toBe(503);
          expect(Number(response.headers.get('retry-after')), `${method} ${route}`).toBeGreaterThan(0);
          expect(await response.json()).toMatchObject({
            code: 'DATABASE_UNAVAILABLE',
            message: expect.stringMatching(/database/i),
          });
        }
        // The command ends while the database is still gone: the task's next step meets the outage.
        await writeFile(path.join(home, 'go'), '');
        await poll('the command to end', WITHIN_MS, () => (existsSync(path.join(home, 'done')) ? true : undefined));
        // While the port is taken, the server keeps trying, and says so each time: two more attempts.
        const exits = () =>
          node.logs().filter((line) => /^embedded postgres (exited|keeps exiting)/.test(String(line.msg)));
        const before = exits().length;
        await poll('two more restarts to fail on the taken port', WITHIN_MS, () => {
          node.assertRunning();
          return exits().length >= before + 2 ? true : undefined;
        });
      } finally {
        await new Promise((resolve) => squatter.close(resolve));
      }

      await poll('health to be back', WITHIN_MS, async () => {
        node.assertRunning();
        return (await fetch(`${url}/api/health`)).status === 200 ? true : undefined;
      });
      const restarted = postmasterPidFile(dataDir);
      expect(restarted).not.toBe(killed);
      expect(isAlive(restarted!)).toBe(true);
      expect(postgresPort()).toBe(port);

      const done = await poll('the task to complete', WITHIN_MS, async () => {
        node.assertRunning();
        const { task: current } = await call<{ task: Task }>('GET', `/api/tasks/${task.id}`);
        if (current.status === 'failed' || current.status === 'cancelled')
          throw new Error(`the task ended ${current.status}: ${current.error}`);
        return current.status === 'completed' ? current : undefined;
      });
      expect(done.attempt).toBe(1);
      expect(await readFile(path.join(home, 'runs'), 'utf8')).toBe('run\n');
      const { entries } = await call<{ entries: LogEntry[] }>('GET', `/api/tasks/${task.id}/logs`);
      expect(entries.filter((entry) => entry.text === 'started')).toHaveLength(1);

      // The death was told at warn level with Postgres's last words; DBOS's complaints stayed few: each
      // of its loops (what a line says before the error it quotes) said so once, not at every turn.
      const logs = node.logs();
      expect(logs.find((line) => line.msg === 'embedded postgres exited unexpectedly')).toMatchObject({
        level: 40,
        lastLog: expect.any(Array),
      });
      const complaints = new Map<string, number>();
      for (const line of logs.filter((entry) => entry.component === 'dbos' && Number(entry.level) >= 40)) {
        const loop = String(line.msg).split(': ')[0]!;
        complaints.set(loop, (complaints.get(loop) ?? 0) + 1);
      }
      expect(Math.max(0, ...complaints.values()), JSON.stringify([...complaints])).toBeLessThanOrEqual(2);
    },
  );
});
