/**
 * The main thread's overhead: time from `POST /api/thread/messages` to the first
 * `message.delta` on the event stream, with the fake model answering at once, minus the same
 * fake's own time to first token called directly from this process through the same model
 * client. Compared with the least that accepting a message durably can cost: one single-row
 * `INSERT … COMMIT` round trip on the same database, measured in the same run, interleaved.
 * Measured with an empty history and with 100,000 stored messages (context assembly must not
 * scan the history). Target: overhead p50 ≤ 10× the round trip in both cases. The delta counts
 * when it arrives, even before the 202 does (the time to the 202 is reported beside it); a round
 * starts once the previous turn's workflow has recorded its end.
 *
 *   npx tsx bench/thread.bench.ts          (or `npm run bench` for every benchmark)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { SseFrameParser } from '../src/contract/events.js';
import { loadConfig } from '../src/server/config/index.js';
import { setUpModels } from '../src/server/models/index.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { firstTurnId } from '../src/server/thread/index.js';
import { anthropicScenario, FakeAnthropicApi } from '../test/fakes/anthropic-api.js';
import type { BenchResult } from './lib/result.js';

const TOKEN = 'bench-thread-token-0123456789abcdef';
const ROUNDS = 60;
const WARM_UP = 5;
const HISTORY = 100_000;
const TARGET_RATIO = 10;

export async function run(): Promise<BenchResult[]> {
  const fake = await FakeAnthropicApi.start();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-bench-thread-'));
  const env = {
    MAINLOOP_DATA_DIR: dataDir,
    PORT: '0',
    MAINLOOP_API_TOKEN: TOKEN,
    LOG_LEVEL: 'warn',
    MAINLOOP_MODEL_PROVIDER: 'anthropic',
    ANTHROPIC_API_KEY: fake.apiKey,
    ANTHROPIC_BASE_URL: fake.url,
  };
  const config = loadConfig(env);
  let server: RunningServer | undefined;
  let stream: EventStream | undefined;
  try {
    server = await startServer({
      config,
      logger: pino({ level: 'warn' }),
      webRoot: false,
      setupLinkPrinter: { print() {} },
    });
    const { client: model } = await setUpModels(config);
    stream = await EventStream.open(server.url);
    await server.database.pool.query(
      'create table bench_floor (id bigserial primary key, at timestamptz default now())',
    );

    const results: BenchResult[] = [];
    for (const history of [0, HISTORY]) {
      if (history) await fillHistory(server, history);
      const overhead: number[] = [];
      const accepted: number[] = [];
      const floor: number[] = [];
      const direct: number[] = [];
      for (let round = 0; round < ROUNDS + WARM_UP; round++) {
        // The fake's own time to first token, through the same client, from this process.
        fake.enqueue(anthropicScenario.text('pong', ' and more'));
        const directStart = performance.now();
        for await (const event of model.stream({ system: 'bench', messages: [{ role: 'user', content: 'ping' }] })) {
          if (event.type === 'text-delta' && !direct[round]) direct[round] = performance.now() - directStart;
        }
        // The floor: one durable single-row insert, autocommitted.
        const floorStart = performance.now();
        await server.database.pool.query('insert into bench_floor default values');
        floor[round] = performance.now() - floorStart;
        // The real thing.
        fake.enqueue(anthropicScenario.text('pong', ' and more'));
        const firstDelta = stream.next('message.delta');
        const completed = stream.next(
          'message.completed',
          (data) => (data as { message: { role: string } }).message.role === 'assistant',
        );
        const postStart = performance.now();
        const response = await fetch(`${server.url}/api/thread/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ content: `ping ${history} ${round}`, clientId: `bench-${history}-${round}` }),
        });
        accepted[round] = performance.now() - postStart;
        if (response.status !== 202)
          throw new Error(`POST /api/thread/messages answered ${response.status}: ${await response.text()}`);
        const { message } = (await response.json()) as { message: { id: string } };
        // When the delta arrived (it may come before the 202 does).
        overhead[round] = (await firstDelta) - postStart - direct[round]!;
        await completed;
        // The turn's last checkpoints commit after its last event: let them, so no round overlaps the next.
        await turnFinished(server, message.id);
      }
      const o = percentiles(overhead.slice(WARM_UP));
      const f = percentiles(floor.slice(WARM_UP));
      const d = percentiles(direct.slice(WARM_UP));
      const a = percentiles(accepted.slice(WARM_UP));
      const ratio = o.p50 / f.p50;
      results.push({
        name: `thread: POST → first delta, overhead p50 (${history.toLocaleString('en')} messages stored)`,
        value: round3(o.p50),
        floor: round3(f.p50),
        ratio: round3(ratio),
        target: `overhead ≤ ${TARGET_RATIO}× one INSERT…COMMIT round trip`,
        pass: ratio <= TARGET_RATIO,
        details: {
          overheadP99: round3(o.p99),
          floorP99: round3(f.p99),
          fakeDirectTtftP50: round3(d.p50),
          acceptedP50: round3(a.p50),
          rounds: ROUNDS,
        },
      });
    }
    return results;
  } finally {
    stream?.close();
    await server?.close();
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** History as a long-running thread has it: alternating user and assistant messages over months. */
async function fillHistory(server: RunningServer, count: number): Promise<void> {
  await server.database.pool.query(
    `insert into messages (user_id, role, content, status, client_id, created_at, completed_at)
     select u.id,
            case when n % 2 = 0 then 'user' else 'assistant' end,
            'historical message number ' || n || ' about the project, the workers and what they did',
            'complete',
            case when n % 2 = 0 then 'history-' || n end,
            now() - interval '200 days' + (n * interval '1 minute') / 6,
            now() - interval '200 days' + (n * interval '1 minute') / 6
     from users u, generate_series(1, $1) n where u.is_owner`,
    [count],
  );
  // What autovacuum would long have done to a table that grew over months: statistics, the
  // visibility map, the full-text index's pending list merged. Left to run during the rounds, it
  // would compete with them for the two cores.
  await server.database.pool.query('vacuum (analyze) messages');
}

/** Waits until the turn of a user message is over in DBOS (its workflow has recorded its result). */
async function turnFinished(server: RunningServer, userMessageId: string): Promise<void> {
  for (;;) {
    const { rows } = await server.database.pool.query<{ status: string }>(
      'select status from dbos.workflow_status where workflow_uuid = $1',
      [firstTurnId(userMessageId)],
    );
    if (rows[0] && rows[0].status !== 'PENDING') return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

class EventStream {
  private waiters: Array<{ type: string; match: (data: unknown) => boolean; resolve: (at: number) => void }> = [];
  private constructor(private readonly abort: AbortController) {}

  static async open(url: string): Promise<EventStream> {
    const abort = new AbortController();
    const response = await fetch(`${url}/api/events`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: abort.signal,
    });
    if (response.status !== 200 || !response.body) throw new Error(`GET /api/events answered ${response.status}`);
    const stream = new EventStream(abort);
    void stream.read(response.body);
    return stream;
  }

  /** Resolves with the time (performance.now()) the next matching event arrived. */
  next(type: string, match: (data: unknown) => boolean = () => true): Promise<number> {
    return new Promise((resolve) => this.waiters.push({ type, match, resolve }));
  }

  close(): void {
    this.abort.abort();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const parser = new SseFrameParser();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) {
        for (const frame of parser.feed(decoder.decode(chunk, { stream: true }))) {
          if (!frame.event || frame.data === undefined) continue;
          const at = performance.now();
          const data = JSON.parse(frame.data) as unknown;
          this.waiters = this.waiters.filter((waiter) => {
            if (waiter.type !== frame.event || !waiter.match(data)) return true;
            waiter.resolve(at);
            return false;
          });
        }
      }
    } catch {
      // closed
    }
  }
}

function percentiles(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const results = await run();
  for (const result of results) {
    console.log(
      `${result.pass ? 'PASS' : 'MISS'} ${result.name}: ${result.value} ms vs floor ${result.floor} ms → ${result.ratio}× (${result.target})`,
      result.details,
    );
  }
}
