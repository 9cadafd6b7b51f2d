/**
 * Push fan-out: the time from `POST /api/inbox/items` (an urgent external item) until the 100th
 * subscribed device's push service has received its encrypted, VAPID-signed message, against a
 * floor measured in this run:
 *
 *   floor = 100 bare HTTP POSTs of the same size to the same fake push service, all at once
 *
 * The fake (test/fakes/push-service.ts) verifies each JWT and decrypts each payload, on both
 * sides alike for the real path; the floor's posts skip that. Rounds alternate; medians count.
 * No target is set (issue 5 asks for the figure): the ratio is reported.
 *
 *   npx tsx bench/push.bench.ts          (or `npm run bench -- push`)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/server/config/index.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { FakePushService } from '../test/fakes/push-service.js';
import { median, runIfMain } from './lib/report.js';
import type { BenchResult } from './lib/result.js';

const DEVICES = 100;
const ROUNDS = 15;
const WARM_UP = 3;
const TOKEN = 'bench-push-token-0123456789abcdef';
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

export async function run(): Promise<BenchResult[]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-bench-push-'));
  const config = loadConfig({
    MAINLOOP_DATA_DIR: dataDir,
    PORT: '0',
    MAINLOOP_API_TOKEN: TOKEN,
    MAINLOOP_MODEL_PROVIDER: 'none',
    LOG_LEVEL: 'warn',
  });
  const fake = await FakePushService.start();
  let server: RunningServer | undefined;
  try {
    server = await startServer({ config, logger: pino({ level: 'warn' }), webRoot: false });
    for (let index = 0; index < DEVICES; index++) {
      const response = await server.app.inject({
        method: 'POST',
        url: '/api/push/subscriptions',
        headers,
        payload: fake.device().subscription,
      });
      if (response.statusCode !== 201) throw new Error(`subscribe: ${response.statusCode} ${response.body}`);
    }
    const real: number[] = [];
    const floor: number[] = [];
    let bytes = 0;
    for (let round = 0; round < WARM_UP + ROUNDS; round++) {
      const keep = round >= WARM_UP;
      const realMs = await measureReal(server, fake, round);
      bytes = fake.received.at(-1)!.bytes;
      const floorMs = await measureFloor(fake, bytes);
      if (keep) {
        real.push(realMs);
        floor.push(floorMs);
      }
      log(`round ${round + 1}: push ${realMs.toFixed(1)} ms, floor ${floorMs.toFixed(1)} ms`);
    }
    fake.assertNoProblems();
    const value = median(real);
    const base = median(floor);
    return [
      {
        name: `push: one item to ${DEVICES} devices (median ms)`,
        value,
        floor: base,
        ratio: value / base,
        target: 'report (no target)',
        pass: true,
        details: { devices: DEVICES, rounds: ROUNDS, encryptedBytes: bytes, p90: quantile(real, 0.9) },
      },
    ];
  } finally {
    await server?.close();
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function measureReal(server: RunningServer, fake: FakePushService, round: number): Promise<number> {
  const target = fake.received.length + DEVICES;
  const started = performance.now();
  const response = await fetch(`${server.url}/api/inbox/items`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ title: `Deploy ${round} is blocked`, body: 'two approvals missing', priority: 'urgent' }),
  });
  if (response.status !== 201) throw new Error(`POST /api/inbox/items: ${response.status}`);
  while (fake.received.length < target) await new Promise((resolve) => setImmediate(resolve));
  return performance.now() - started;
}

async function measureFloor(fake: FakePushService, bytes: number): Promise<number> {
  const body = new Uint8Array(bytes);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: DEVICES }, async () => {
      const response = await fetch(`${fake.url}/floor`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body,
      });
      await response.arrayBuffer();
    }),
  );
  return performance.now() - started;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function log(line: string): void {
  process.stderr.write(`  push: ${line}\n`);
}

await runIfMain(import.meta.url, run);
