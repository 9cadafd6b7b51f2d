/**
 * HTTP throughput: requests per second of an authenticated JSON route of the real app, started
 * as `npm start` runs it (`node dist/server/main.js` when built, else the sources through tsx;
 * default configuration, so request logging included, to /dev/null), against a floor measured in
 * this run:
 *
 *   floor = a bare Fastify route in this process answering JSON of the same shape
 *
 * Both over real HTTP: 50 keep-alive connections from a load generator in a worker thread, each
 * sending its next request as soon as the previous answer arrived. After 2 s of warm-up each,
 * three rounds of 3 s alternate between the servers; each one's best round counts (the machine's
 * other load only ever slows a round down). Target: ≥ 0.6×. `/api/health` of the same app is
 * reported beside it: the HTTP stack's own cost, without authentication, and with one database
 * query a second whatever the rate (DatabaseHealth asks at most that often).
 *
 *   npx tsx bench/http.bench.ts          (or `npm run bench` for every benchmark)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { freePort } from '../src/server/db/embedded-postgres.js';
import type { LoadOptions, LoadResult } from './lib/http-load.worker.js';
import { runIfMain } from './lib/report.js';
import type { BenchResult } from './lib/result.js';
import { startTypeScriptWorker, WorkerChannel } from './lib/threads.js';

/** The measured route: authenticated (bearer token), answered by a service that reads Postgres. */
const ROUTE = '/api/settings';
const CONNECTIONS = 50;
const DURATION_MS = 3_000;
const WARM_UP_MS = 2_000;
const ROUNDS = 3;
const TARGET_RATIO = 0.6;
const TOKEN = 'bench-http-token-0123456789abcdef';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST_ENTRY = path.join(ROOT, 'dist/server/main.js');
const headers = { authorization: `Bearer ${TOKEN}` };

export async function run(): Promise<BenchResult[]> {
  const entry = existsSync(DIST_ENTRY)
    ? { label: 'dist', args: [DIST_ENTRY] }
    : { label: 'tsx', args: ['--import', 'tsx', path.join(ROOT, 'src/server/main.ts')] };
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-bench-http-'));
  const load = new WorkerChannel(startTypeScriptWorker(new URL('./lib/http-load.worker.ts', import.meta.url)));
  const bare = await startBareFastify();
  let app: ChildProcess | undefined;
  try {
    const port = await freePort();
    app = await startMainloop(entry.args, dataDir, port);
    const targets = {
      floor: `${bare.url}/bare`,
      route: `http://127.0.0.1:${port}${ROUTE}`,
      health: `http://127.0.0.1:${port}/api/health`,
    };
    const measure = (url: string, durationMs: number) =>
      load.call<LoadResult>('load', { url, headers, connections: CONNECTIONS, durationMs } satisfies LoadOptions);
    for (const url of Object.values(targets)) await measure(url, WARM_UP_MS);
    const rounds: Record<keyof typeof targets, LoadResult[]> = { floor: [], route: [], health: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, url] of Object.entries(targets) as Array<[keyof typeof targets, string]>) {
        const result = await measure(url, DURATION_MS);
        rounds[name].push(result);
        log(
          `round ${round} ${name}: ${Math.round(rps(result))} req/s (p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ${result.failed} failed)`,
        );
      }
    }
    const best = (results: LoadResult[]) => results.reduce((a, b) => (rps(b) > rps(a) ? b : a));
    const floor = best(rounds.floor);
    const result = (name: string, measured: LoadResult): BenchResult => {
      const ratio = rps(measured) / rps(floor);
      return {
        name,
        value: rps(measured),
        floor: rps(floor),
        ratio,
        target: `≥ ${TARGET_RATIO}× floor`,
        pass: ratio >= TARGET_RATIO && measured.failed === 0,
        details: {
          connections: CONNECTIONS,
          seconds: DURATION_MS / 1000,
          p50Ms: measured.p50,
          p99Ms: measured.p99,
          floorP50Ms: floor.p50,
          floorP99Ms: floor.p99,
          failed: measured.failed,
        },
      };
    };
    return [
      result(`GET ${ROUTE} (authenticated), req/s (${entry.label})`, best(rounds.route)),
      // The same app without auth or a database query: what the HTTP stack alone costs.
      result(`GET /api/health (no auth, no database), req/s (${entry.label})`, best(rounds.health)),
    ];
  } finally {
    if (app && app.exitCode === null) {
      app.kill('SIGTERM');
      await new Promise((resolve) => app!.once('exit', resolve));
    }
    await bare.app.close();
    await load.terminate();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const rps = (result: LoadResult) => (result.ok / result.elapsedMs) * 1000;

/** Starts mainloop and waits until the measured route answers 200 (start-up done, token known). */
async function startMainloop(args: string[], dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      MAINLOOP_DATA_DIR: dataDir,
      PORT: String(port),
      MAINLOOP_API_TOKEN: TOKEN,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const errors: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => errors.push(chunk));
  const deadline = Date.now() + 120_000;
  let last: string | undefined;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mainloop exited (${child.exitCode}):\n${errors.join('')}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}${ROUTE}`, { headers });
      if (response.status === 200) return child;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = String(error);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`mainloop did not answer ${ROUTE} (last: ${last ?? 'no answer'}):\n${errors.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The floor: Fastify with nothing but one route, answering what /api/settings answers. */
async function startBareFastify() {
  const app = Fastify();
  app.get('/bare', async () => ({ settings: { theme: 'eighties', timeZone: 'UTC' } }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, url: `http://127.0.0.1:${port}` };
}

const log = (message: string) => process.stderr.write(`[http bench] ${message}\n`);

await runIfMain(import.meta.url, run);
