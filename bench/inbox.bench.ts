/**
 * The inbox: `GET /api/inbox` over HTTP for a user with 100,000 historical tasks and 10,000
 * inbox items (most done, a few hundred live: questions, reviews, external items, some snoozed),
 * p50 and p99, against the floor of a single indexed primary-key SELECT through the same pool,
 * measured in the same run, interleaved round by round. Target: p99 ≤ 10× the floor's p99.
 *
 *   npx tsx bench/inbox.bench.ts          (or `npm run bench` for every benchmark)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { loadConfig } from '../src/server/config/index.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { runIfMain } from './lib/report.js';
import type { BenchResult } from './lib/result.js';

const TOKEN = 'bench-inbox-token-0123456789abcdef';
const TASKS = 100_000;
const ITEMS = 10_000;
const LIVE_ITEMS = 300;
const ROUNDS = 400;
const WARM_UP = 30;
const TARGET_RATIO = 10;

export async function run(): Promise<BenchResult[]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-bench-inbox-'));
  const config = loadConfig({
    MAINLOOP_DATA_DIR: dataDir,
    PORT: '0',
    MAINLOOP_API_TOKEN: TOKEN,
    LOG_LEVEL: 'warn',
    MAINLOOP_MODEL_PROVIDER: 'none',
  });
  let server: RunningServer | undefined;
  try {
    server = await startServer({
      config,
      logger: pino({ level: 'warn' }),
      webRoot: false,
      setupLinkPrinter: { print() {} },
    });
    const seeded = await seed(server);
    log(`seeded ${TASKS.toLocaleString('en')} tasks and ${ITEMS.toLocaleString('en')} items`);

    const inbox: number[] = [];
    const floor: number[] = [];
    let needsYou = 0;
    for (let round = 0; round < ROUNDS + WARM_UP; round++) {
      const id = `bench-task-${1 + ((round * 7919) % TASKS)}`;
      const floorStart = performance.now();
      await server.database.pool.query('select * from tasks where id = $1', [id]);
      floor.push(performance.now() - floorStart);

      const start = performance.now();
      const response = await fetch(`${server.url}/api/inbox`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const body = (await response.json()) as { needsYou: unknown[] };
      inbox.push(performance.now() - start);
      if (response.status !== 200) throw new Error(`GET /api/inbox answered ${response.status}`);
      needsYou = body.needsYou.length;
    }
    const value = percentiles(inbox.slice(WARM_UP));
    const base = percentiles(floor.slice(WARM_UP));
    const ratio = value.p99 / base.p99;
    log(
      `GET /api/inbox p50 ${value.p50.toFixed(2)} ms, p99 ${value.p99.toFixed(2)} ms; ` +
        `floor p50 ${base.p50.toFixed(2)} ms, p99 ${base.p99.toFixed(2)} ms; ${needsYou} items in needs-you`,
    );
    return [
      {
        name: `inbox: GET /api/inbox p99 (ms), ${TASKS.toLocaleString('en')} tasks, ${ITEMS.toLocaleString('en')} items`,
        value: round3(value.p99),
        floor: round3(base.p99),
        ratio: round3(ratio),
        target: `p99 ≤ ${TARGET_RATIO}× one indexed primary-key SELECT through the same pool`,
        pass: ratio <= TARGET_RATIO,
        details: {
          p50: round3(value.p50),
          floorP50: round3(base.p50),
          ratioP50: round3(value.p50 / base.p50),
          needsYou,
          liveItems: seeded.live,
          rounds: ROUNDS,
        },
      },
    ];
  } finally {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * A year of use: 100,000 tasks (nearly all finished long ago; a few at work, failed, or done
 * today) and 10,000 items, all but a few hundred done. Live items: questions, plan reviews and
 * reviews on tasks waiting for the person, external items of every priority, some snoozed.
 */
async function seed(server: RunningServer): Promise<{ live: number }> {
  const { pool } = server.database;
  const owner = (await pool.query<{ id: string }>('select id from users where is_owner')).rows[0]!.id;
  await pool.query(
    `insert into tasks (id, user_id, number, title, prompt, runtime, status, needs_input, created_at, updated_at)
     select 'bench-task-' || n, $1, n, 'Historical task ' || n, 'do thing ' || n, 'claude-code',
            case
              when n <= 40 then 'implementing'
              when n <= 60 then 'failed'
              when n <= 160 then 'awaiting_review'
              when n <= 260 then 'completed'
              when n % 17 = 0 then 'cancelled'
              else 'completed'
            end,
            false,
            case when n <= 260 then now() - interval '2 hours' else now() - interval '400 days' + n * interval '5 minutes' end,
            case when n <= 260 then now() - interval '1 hour' else now() - interval '400 days' + n * interval '5 minutes' end
     from generate_series(1, $2) n`,
    [owner, TASKS],
  );
  await pool.query('insert into task_numbers (user_id, last) values ($1, $2)', [owner, TASKS]);
  // Live items: reviews for the tasks awaiting review, external items; then the done history.
  await pool.query(
    `insert into inbox_items (id, user_id, kind, priority, title, body, task_id, dedupe_key, replies, state,
                              snoozed_until, push_state, created_at, updated_at, done_at, resolution)
     select 'bench-item-' || n, $1,
            case when n <= 100 then 'review' else 'external' end,
            (array['urgent', 'high', 'normal', 'low'])[1 + n % 4],
            'Item ' || n || ' needs a look', 'Some words about item ' || n,
            case when n <= 100 then 'bench-task-' || (60 + n) end,
            'bench:' || n,
            '["done", "snooze"]',
            case when n > $3 then 'done' when n % 10 = 0 then 'snoozed' else 'open' end,
            case when n <= $3 and n % 10 = 0 then now() + interval '1 day' end,
            'sent',
            now() - interval '300 days' + n * interval '30 minutes',
            now() - interval '300 days' + n * interval '30 minutes',
            case when n > $3 then now() - interval '300 days' + n * interval '30 minutes' end,
            case when n > $3 then 'person' end
     from generate_series(1, $2) n`,
    [owner, ITEMS, LIVE_ITEMS],
  );
  await pool.query('analyze tasks');
  await pool.query('analyze inbox_items');
  return { live: LIVE_ITEMS };
}

function percentiles(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
const log = (line: string) => process.stderr.write(`  ${line}\n`);

await runIfMain(import.meta.url, run);
