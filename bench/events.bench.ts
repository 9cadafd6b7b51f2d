/**
 * Live events: how long from a change being committed until its event has arrived at every
 * connected SSE client, with 1, 100 and 1,000 clients, against a floor measured in this run:
 *
 *   floor = bare Postgres NOTIFY → LISTEN (same database, same payload size)
 *         + a bare loop writing the same frame to as many open responses of a bare node:http server
 *
 * Three threads: the server (main thread: mainloop as `npm start` runs it, or the bare floor
 * servers), the writer (commits through the real EventService), the clients (reading every
 * stream). Times are one monotonic clock. A latency is taken per event and client, from the
 * writer seeing COMMIT acknowledged to that client holding the whole frame. The floor's two parts
 * are combined by sampling (notify + fan-out drawn independently), which models an event's
 * notify delay shared by all its clients plus each client's place in the write loop.
 *
 *   npx tsx bench/events.bench.ts          (or `npm run bench` for every benchmark)
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../src/server/config/index.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import type { BenchResult } from './lib/result.js';
import type { Arrival } from './lib/sse-clients.worker.js';
import { now, startTypeScriptWorker, WorkerChannel } from './lib/threads.js';

/** Client counts, and how many events to measure at each: more where they are cheap, so the p99 rests on more than a handful of samples. */
const RUNS = [
  { clients: 1, events: 1000 },
  { clients: 100, events: 600 },
  { clients: 1000, events: 300 },
];
const WARM_UP = 50;
const TARGET_RATIO = 2;
const TOKEN = 'bench-events-token-0123456789abcdef';
const FLOOR_CHANNEL = 'mainloop_bench_floor';
const DATA = { counts: { needsYou: 3, active: 2, failures: 1 } };

interface Measured {
  clients: number;
  events: number;
  real: Float64Array;
  notify: Float64Array;
  fanOut: Float64Array;
  floor: Float64Array;
}

export async function run(): Promise<BenchResult[]> {
  checkFileLimit(Math.max(...RUNS.map((entry) => entry.clients)) * 4 + 500);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-bench-events-'));
  const config = loadConfig({ MAINLOOP_DATA_DIR: dataDir, PORT: '0', MAINLOOP_API_TOKEN: TOKEN, LOG_LEVEL: 'warn' });
  let server: RunningServer | undefined;
  const arrivals = new Arrivals();
  const clients = new WorkerChannel<Arrival>(
    startTypeScriptWorker(new URL('./lib/sse-clients.worker.ts', import.meta.url)),
    (arrival) => arrivals.add(arrival),
  );
  const writer = new WorkerChannel(startTypeScriptWorker(new URL('./lib/publisher.worker.ts', import.meta.url)));
  const bare = await BareSseServer.start();
  let listener: pg.Client | undefined;
  try {
    server = await startServer({ config, logger: pino({ level: 'warn' }), webRoot: false });
    const { rows } = await server.database.pool.query<{ id: string }>('select id from users where is_owner');
    await writer.call('init', { databaseUrl: server.database.url, userId: rows[0]!.id });

    // The floor's listener: a connection of its own in this thread, as the hub's is.
    listener = new pg.Client({ connectionString: server.database.url });
    await listener.connect();
    await listener.query(`LISTEN ${FLOOR_CHANNEL}`);
    const notices = new Notices(listener);

    // The exact frame and notification size the real path produces.
    const sample = await writer.call<{ id: number; notice: number }>('publish', DATA);
    const noticeBytes = sample.notice;

    const measured: Measured[] = [];
    for (const { clients: count, events } of RUNS) {
      log(`${count} client(s): connecting to mainloop and to the bare server …`);
      await clients.call('open', { group: 'bare', url: `${bare.url}/`, headers: {}, count });
      await clients.call('open', {
        group: 'real',
        url: `${server.url}/api/events`,
        headers: { authorization: `Bearer ${TOKEN}` },
        count,
        // Live once the hub has read where each stream starts: the first event measured would
        // otherwise be part of that start for a stream still reading it, and never sent to it.
        untilResumeId: true,
      });
      await waitFor(() => bare.responses.length === count && server!.services.eventHub.stats().streams === count);

      // The three measurements take turns, event by event, in a shuffled order: whatever else
      // the machine does meanwhile falls on the floor and on mainloop alike.
      log(`${count} client(s): measuring …`);
      const real: number[] = [];
      const notify: number[] = [];
      const fanOut: number[] = [];
      for (let round = 0; round < WARM_UP + events; round++) {
        const keep = round >= WARM_UP;
        for (const step of shuffled(['real', 'notify', 'fanOut'] as const)) {
          if (step === 'real') await measureReal(writer, arrivals, keep ? real : undefined);
          if (step === 'notify') await measureNotify(writer, notices, noticeBytes, keep ? notify : undefined);
          if (step === 'fanOut') await measureBareFanOut(bare, arrivals, round, keep ? fanOut : undefined);
          await pause();
        }
      }
      await clients.call('close');
      await waitFor(() => bare.responses.length === 0 && server!.services.eventHub.stats().streams === 0);
      const floor = combine(Float64Array.from(notify), Float64Array.from(fanOut));
      measured.push({
        clients: count,
        events,
        real: Float64Array.from(real),
        notify: Float64Array.from(notify),
        fanOut: Float64Array.from(fanOut),
        floor,
      });
    }
    printTable(measured, noticeBytes);
    return measured.map(toResult);
  } finally {
    await listener?.end().catch(() => {});
    await clients.call('close').catch(() => {});
    await writer.call('close').catch(() => {});
    await clients.terminate();
    await writer.terminate();
    await bare.close();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Commit → every client has the event, through mainloop. */
async function measureReal(writer: WorkerChannel, arrivals: Arrivals, into: number[] | undefined): Promise<void> {
  const { id, committedAt } = await writer.call<{ id: number; committedAt: number }>('publish', DATA);
  const { times } = await arrivals.wait('real', id);
  if (into) for (const at of times) into.push(at - committedAt);
}

/** Bare NOTIFY acknowledged → the LISTEN connection has it. */
async function measureNotify(
  writer: WorkerChannel,
  notices: Notices,
  bytes: number,
  into: number[] | undefined,
): Promise<void> {
  const received = notices.next();
  const { committedAt } = await writer.call<{ committedAt: number }>('notify', {
    channel: FLOOR_CHANNEL,
    payload: 'n'.repeat(bytes),
  });
  const at = await received;
  into?.push(at - committedAt);
}

/** The same frame written in a bare loop to every open response → every client has it. */
async function measureBareFanOut(
  bare: BareSseServer,
  arrivals: Arrivals,
  round: number,
  into: number[] | undefined,
): Promise<void> {
  const id = 1_000_000_000 + round;
  const frame = Buffer.from(`id: ${id}\nevent: inbox.updated\ndata: ${JSON.stringify(DATA)}\n\n`);
  const arrived = arrivals.wait('bare', id);
  const sentAt = now();
  for (const response of bare.responses) response.write(frame);
  const { times } = await arrived;
  if (into) for (const at of times) into.push(at - sentAt);
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

/** notify + fan-out, drawn independently (seeded, so runs compare). */
function combine(notify: Float64Array, fanOut: Float64Array): Float64Array {
  let seed = 0x9e3779b9;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const draws = Math.max(fanOut.length, 100_000);
  const sums = new Float64Array(draws);
  for (let index = 0; index < draws; index++) {
    sums[index] = notify[Math.floor(random() * notify.length)]! + fanOut[Math.floor(random() * fanOut.length)]!;
  }
  return sums;
}

function quantile(values: Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function toResult(m: Measured): BenchResult {
  const value = quantile(m.real, 0.99);
  const floor = quantile(m.floor, 0.99);
  const ratio = value / floor;
  return {
    name: `events: commit → SSE p99 (ms), ${m.clients} client${m.clients === 1 ? '' : 's'}`,
    value: round(value),
    floor: round(floor),
    ratio: round(ratio),
    target: `p99 ≤ ${TARGET_RATIO}× floor (bare NOTIFY round trip + bare fan-out)`,
    pass: ratio <= TARGET_RATIO,
    details: {
      clients: m.clients,
      events: m.events,
      p50: round(quantile(m.real, 0.5)),
      floorP50: round(quantile(m.floor, 0.5)),
      ratioP50: round(quantile(m.real, 0.5) / quantile(m.floor, 0.5)),
      max: round(quantile(m.real, 1)),
      notifyP50: round(quantile(m.notify, 0.5)),
      notifyP99: round(quantile(m.notify, 0.99)),
      fanOutP50: round(quantile(m.fanOut, 0.5)),
      fanOutP99: round(quantile(m.fanOut, 0.99)),
    },
  };
}

function printTable(measured: Measured[], noticeBytes: number): void {
  const header = [
    'clients',
    'events',
    'p50',
    'p99',
    'floor p50',
    'floor p99',
    'NOTIFY p99',
    'fan-out p99',
    'ratio p50',
    'ratio p99',
    'p99 ≤ 2×',
  ];
  const rows = measured.map((m) => {
    const result = toResult(m);
    const d = result.details!;
    return [
      m.clients,
      m.events,
      d.p50,
      result.value,
      d.floorP50,
      result.floor,
      d.notifyP99,
      d.fanOutP99,
      d.ratioP50,
      result.ratio,
    ]
      .map((value) => String(value))
      .concat(result.pass ? 'pass' : 'FAIL');
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padStart(widths[column]!)).join('  ');
  process.stdout.write(
    [
      '',
      `Live events: commit acknowledged → frame complete at each SSE client (ms; ${WARM_UP} warm-up events first; notification ${noticeBytes} bytes)`,
      'floor = bare NOTIFY → LISTEN + bare write loop to as many node:http responses, combined by sampling',
      '',
      line(header),
      line(widths.map((width) => '─'.repeat(width))),
      ...rows.map(line),
      '',
      '',
    ].join('\n'),
  );
}

/** Arrival reports from the clients thread, matched to the event ids the main thread waits for. */
class Arrivals {
  private readonly arrived = new Map<string, Arrival>();
  private readonly waiting = new Map<string, (arrival: Arrival) => void>();

  add(arrival: Arrival): void {
    const key = `${arrival.group}:${arrival.id}`;
    const waiter = this.waiting.get(key);
    if (waiter) {
      this.waiting.delete(key);
      waiter(arrival);
    } else this.arrived.set(key, arrival);
  }

  wait(group: string, id: number, timeoutMs = 30_000): Promise<Arrival> {
    const key = `${group}:${id}`;
    const arrival = this.arrived.get(key);
    if (arrival) {
      this.arrived.delete(key);
      return Promise.resolve(arrival);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`event ${key} did not reach every client within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiting.set(key, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  }
}

/** The floor's LISTEN side: the arrival time of each notification, nothing else. */
class Notices {
  private waiter: ((at: number) => void) | undefined;

  constructor(client: pg.Client) {
    client.on('notification', () => {
      const at = now();
      this.waiter?.(at);
      this.waiter = undefined;
    });
  }

  next(): Promise<number> {
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

/** A node:http server that holds every request open as an event stream, and does nothing else. */
class BareSseServer {
  readonly responses: http.ServerResponse[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<BareSseServer> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const bare = new BareSseServer(server, `http://127.0.0.1:${port}`);
    server.on('request', (_request, response: http.ServerResponse) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.write('retry: 2000\n\n');
      bare.responses.push(response);
      response.on('close', () => bare.responses.splice(bare.responses.indexOf(response), 1));
    });
    return bare;
  }

  closeAll(): void {
    for (const response of [...this.responses]) response.destroy();
  }

  async close(): Promise<void> {
    this.closeAll();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Each client is two sockets in this process (its end and the server's), for mainloop and the bare server alike. */
function checkFileLimit(needed: number): void {
  let limit = Number.POSITIVE_INFINITY;
  try {
    const soft = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    if (/^\d+$/.test(soft)) limit = Number(soft);
  } catch {
    return; // no shell to ask: find out the hard way
  }
  if (limit < needed) {
    throw new Error(
      `the events benchmark opens about ${needed} sockets but the open-file limit is ${limit}: run \`ulimit -n ${needed * 2}\` first`,
    );
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the clients to connect or disconnect');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A short, slightly irregular gap between events, the same in every phase. */
const pause = () => new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 2));
const round = (value: number) => Math.round(value * 1000) / 1000;
const log = (message: string) => process.stderr.write(`[events bench] ${message}\n`);

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const results = await run();
  process.exitCode = results.every((result) => result.pass) ? 0 : 1;
}
