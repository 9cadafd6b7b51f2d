import net from 'node:net';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SseFrameParser, type SseFrame } from '../../contract/events.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { DEFAULT_EVENT_HUB_TUNING } from './event.hub.js';
import { EventRetention } from './event-retention.js';

let server: TestServer;
let ownerId: string;
const clients: SseClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
  const { rows } = await server.database.pool.query<{ id: string }>('select id from users where is_owner');
  ownerId = rows[0]!.id;
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  server.services.eventHub.configure(DEFAULT_EVENT_HUB_TUNING);
});
afterAll(async () => {
  await server?.close();
});

const publish = (counts = { needsYou: 1, active: 0, failures: 0 }, userId = ownerId) =>
  server.services.events.publish(userId, 'inbox.updated', { counts });

/** A client of GET /api/events over real HTTP, collecting every frame it reads. */
class SseClient {
  readonly frames: SseFrame[] = [];
  ended = false;
  private constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {}

  static async open(options: { headers?: Record<string, string>; query?: string } = {}): Promise<SseClient> {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/api/events${options.query ?? ''}`, {
      headers: { ...server.authHeaders, ...options.headers },
      signal: controller.signal,
    });
    const client = new SseClient(response, controller);
    clients.push(client);
    if (response.ok) void client.read();
    return client;
  }

  /** the events received (frames with an `event:`), in order */
  get events(): Array<{ id: string; event: string; data: unknown }> {
    return this.frames
      .filter((frame) => frame.event !== undefined)
      .map((frame) => ({ id: frame.id!, event: frame.event!, data: JSON.parse(frame.data!) as unknown }));
  }

  get ids(): number[] {
    return this.events.map((event) => Number(event.id));
  }

  /** Resolves once the stream has told the client where it starts (the first frames are written). */
  async ready(): Promise<void> {
    await vi.waitFor(() => expect(this.frames.some((frame) => frame.retry !== undefined)).toBe(true));
  }

  close(): void {
    this.controller.abort();
  }

  private async read(): Promise<void> {
    const parser = new SseFrameParser();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.response.body!)
        this.frames.push(...parser.feed(decoder.decode(chunk, { stream: true })));
    } catch {
      // aborted by the test, or cut off by the server
    }
    this.ended = true;
  }
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, index) => from + index);

describe('GET /api/events', () => {
  it('answers 401 with a JSON body without credentials', async () => {
    const response = await fetch(`${server.url}/api/events`);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('answers 400 to a Last-Event-ID that is not an event id', async () => {
    const response = await fetch(`${server.url}/api/events`, {
      headers: { ...server.authHeaders, 'last-event-id': 'yesterday' },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    const query = await fetch(`${server.url}/api/events?lastEventId=-1`, { headers: server.authHeaders });
    expect(query.status).toBe(400);
  });

  it('opens an event stream for a bearer token, with the headers a stream needs', async () => {
    const client = await SseClient.open();
    expect(client.response.status).toBe(200);
    const headers = client.response.headers;
    expect(headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(headers.get('cache-control')).toContain('no-cache');
    expect(headers.get('x-accel-buffering')).toBe('no');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('x-request-id')).toBeTruthy();
    await client.ready();
    // retry first, then the id to resume after (no events yet), before any event
    expect(client.frames[0]).toMatchObject({ retry: 2000 });
    // the id frame may arrive in a later chunk than the retry frame
    await vi.waitFor(() => expect(client.frames[1]?.id).toMatch(/^\d+$/));
  });

  it('delivers an event published after connecting, with id, name and data', async () => {
    const client = await SseClient.open();
    await client.ready();
    const event = await publish({ needsYou: 2, active: 1, failures: 0 });
    await vi.waitFor(() => expect(client.events).toHaveLength(1));
    expect(client.events[0]).toEqual({
      id: event.id,
      event: 'inbox.updated',
      data: { counts: { needsYou: 2, active: 1, failures: 0 } },
    });
    expect(client.frames.find((frame) => frame.event)?.id).toBe(event.id);
  });

  it("does not deliver another user's events", async () => {
    await server.database.pool.query(
      `insert into users (id, username) values ('someone-else', 'someone') on conflict do nothing`,
    );
    const client = await SseClient.open();
    await client.ready();
    await publish({ needsYou: 99, active: 99, failures: 99 }, 'someone-else');
    const mine = await publish({ needsYou: 3, active: 0, failures: 0 });
    await vi.waitFor(() => expect(client.ids).toContain(Number(mine.id)));
    expect(client.events).toEqual([
      { id: mine.id, event: 'inbox.updated', data: { counts: { needsYou: 3, active: 0, failures: 0 } } },
    ]);
  });

  it('delivers an event too large for NOTIFY, fetched from the database, in order', async () => {
    const client = await SseClient.open();
    await client.ready();
    const big = await server.services.events.publish(ownerId, 'settings.updated', {
      settings: { theme: 'nord', timeZone: 'x'.repeat(20_000) },
    });
    // Few characters but many bytes: NOTIFY's limit is in bytes.
    const wide = await server.services.events.publish(ownerId, 'settings.updated', {
      settings: { theme: 'nord', timeZone: '€'.repeat(3000) },
    });
    const after = await publish();
    await vi.waitFor(() => expect(client.ids).toEqual([Number(big.id), Number(wide.id), Number(after.id)]));
    expect(client.events[0]!.data).toEqual({ settings: { theme: 'nord', timeZone: 'x'.repeat(20_000) } });
    expect(client.events[1]!.data).toEqual({ settings: { theme: 'nord', timeZone: '€'.repeat(3000) } });
  });

  it('rejects an event that does not match the contract, storing nothing', async () => {
    const before = await server.services.events.lastId(ownerId);
    await expect(
      server.services.events.publish(ownerId, 'inbox.updated', { counts: { needsYou: 'many' } } as never),
    ).rejects.toThrow(/does not match the contract/);
    expect(await server.services.events.lastId(ownerId)).toBe(before);
  });

  it('sends a heartbeat comment while idle', async () => {
    server.services.eventHub.configure({ heartbeatMs: 50 });
    const client = await SseClient.open();
    await vi.waitFor(() =>
      expect(client.frames.filter((frame) => frame.comments.includes('ping')).length).toBeGreaterThanOrEqual(2),
    );
    expect(client.events).toEqual([]);
  });
});

describe('resuming with Last-Event-ID', () => {
  it.each([
    ['the Last-Event-ID header', (id: string) => ({ headers: { 'last-event-id': id } })],
    ['the lastEventId query parameter', (id: string) => ({ query: `?lastEventId=${id}` })],
  ])('replays exactly what was missed, then goes live, with %s', async (_name, resumeFrom) => {
    server.services.eventHub.configure({ pageSize: 3 }); // a replay of many pages
    const first = await SseClient.open();
    await first.ready();
    const seen = [await publish(), await publish(), await publish()].map((event) => Number(event.id));
    await vi.waitFor(() => expect(first.ids).toEqual(seen));
    first.close();
    await vi.waitFor(() => expect(server.services.eventHub.stats().streams).toBe(0));

    const last = seen[2]!;
    for (let index = 0; index < 20; index++) await publish();

    // Reconnect while more events commit concurrently: some land during the replay.
    const concurrent = Promise.all(range(0, 20).map(() => publish()));
    const second = await SseClient.open(resumeFrom(String(last)));
    await concurrent;
    await vi.waitFor(() => expect(second.ids).toHaveLength(40));
    expect(second.ids).toEqual(range(last + 1, 40));

    const live = await publish();
    await vi.waitFor(() => expect(second.ids.at(-1)).toBe(Number(live.id)));
    expect(second.ids).toEqual(range(last + 1, 41));
  });

  it('delivers, after the replay, the events that committed while it was being read', async () => {
    const missed = [await publish(), await publish()].map((event) => Number(event.id));
    // Hold the replay's first page back until more events have committed (and been notified).
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const events = server.services.events;
    const original = events.listAfter.bind(events);
    const replayRead = vi.spyOn(events, 'listAfter').mockImplementationOnce(async (...args) => {
      const page = await original(...args);
      await gate;
      return page;
    });
    try {
      const client = await SseClient.open({ headers: { 'last-event-id': String(missed[0]! - 1) } });
      await vi.waitFor(() => expect(replayRead).toHaveBeenCalled());
      const during = [await publish(), await publish(), await publish()].map((event) => Number(event.id));
      release();
      await vi.waitFor(() => expect(client.ids).toEqual([...missed, ...during]));
    } finally {
      replayRead.mockRestore();
    }
  });

  it('prefers the header to the query parameter (an EventSource keeps its first URL)', async () => {
    const events = [await publish(), await publish()];
    const client = await SseClient.open({ headers: { 'last-event-id': events[0]!.id }, query: '?lastEventId=0' });
    await vi.waitFor(() => expect(client.ids).toEqual([Number(events[1]!.id)]));
  });

  it('treats an id from the future as now (a restored database must not silence the stream)', async () => {
    const client = await SseClient.open({ headers: { 'last-event-id': '999999999' } });
    await client.ready();
    const next = await publish();
    await vi.waitFor(() => expect(client.ids).toEqual([Number(next.id)]));
  });

  it('resumes a stream that started from now at the id it was given, even before any event arrived', async () => {
    const first = await SseClient.open();
    await first.ready();
    const resumeAfter = first.frames.find((frame) => frame.id !== undefined)!.id!;
    first.close();
    const missed = await publish();
    const second = await SseClient.open({ headers: { 'last-event-id': resumeAfter } });
    await vi.waitFor(() => expect(second.ids).toEqual([Number(missed.id)]));
  });
});

describe('slow clients', () => {
  it('drops a client that stops reading while the others keep receiving', async () => {
    server.services.eventHub.configure({ maxBufferedBytes: 256 * 1024, drainTimeoutMs: 500 });
    const fast = await SseClient.open();
    await fast.ready();
    const slow = await openStalledSocket();
    await vi.waitFor(() => expect(server.services.eventHub.stats().streams).toBe(2));
    const droppedBefore = server.services.eventHub.stats().dropped;

    const published: number[] = [];
    const bulky = { settings: { theme: 'nord' as const, timeZone: 'z'.repeat(50_000) } };
    while (server.services.eventHub.stats().dropped === droppedBefore) {
      if (published.length >= 1000) throw new Error('the stalled client was never dropped');
      published.push(Number((await server.services.events.publish(ownerId, 'settings.updated', bulky)).id));
    }
    await vi.waitFor(() => expect(server.services.eventHub.stats().streams).toBe(1));

    // The stalled socket was cut off: once it reads again it reaches the end of the stream.
    slow.resume();
    await vi.waitFor(() => expect(slow.destroyed || slow.readableEnded).toBe(true));

    // The fast client got everything, and keeps going.
    const after = await publish();
    await vi.waitFor(() => expect(fast.ids).toEqual([...published, Number(after.id)]), { timeout: 20_000 });
  });
});

describe('the listener connection', () => {
  it('reconnects after its backend is killed and catches streams up on what committed meanwhile', async () => {
    server.services.eventHub.configure({ reconnectMinMs: 500 });
    const client = await SseClient.open();
    await client.ready();
    const before = await publish();
    await vi.waitFor(() => expect(client.ids).toEqual([Number(before.id)]));

    const pidBefore = await listenerPid();
    await server.database.pool.query('select pg_terminate_backend($1)', [pidBefore]);
    await vi.waitFor(() => expect(server.services.eventHub.stats().listening).toBe(false));
    const duringGap = [await publish(), await publish()];

    await vi.waitFor(() => expect(server.services.eventHub.stats().listening).toBe(true), { timeout: 10_000 });
    expect(await listenerPid()).not.toBe(pidBefore);
    const afterwards = await publish();
    await vi.waitFor(() =>
      expect(client.ids).toEqual([before, ...duringGap, afterwards].map((event) => Number(event.id))),
    );
  });
});

describe('retention', () => {
  it('prunes events older than the retention period; a resuming client gets what remains', async () => {
    const old = [await publish(), await publish()];
    const recent = await publish();
    await server.database.pool.query(`update events set created_at = now() - interval '31 days' where id <= $1`, [
      old[1]!.id,
    ]);

    expect(await server.services.events.prune()).toBeGreaterThanOrEqual(2);
    const remaining = await server.services.events.listAfter(ownerId, '0', 1000);
    expect(remaining.map((event) => event.id)).toEqual([recent.id]);

    const client = await SseClient.open({ headers: { 'last-event-id': old[0]!.id } });
    await vi.waitFor(() => expect(client.ids).toEqual([Number(recent.id)]));
  });

  it('prunes on a timer, starting at once', async () => {
    const stale = await publish();
    await server.database.pool.query(`update events set created_at = now() - interval '40 days' where id = $1`, [
      stale.id,
    ]);
    const retention = new EventRetention({
      events: server.services.events,
      logger: pino({ level: 'silent' }),
      intervalMs: 50,
    });
    retention.start();
    try {
      await vi.waitFor(async () =>
        expect(await server.services.events.listAfter(ownerId, String(Number(stale.id) - 1), 1)).toEqual([]),
      );
      const later = await publish();
      await server.database.pool.query(`update events set created_at = now() - interval '40 days' where id = $1`, [
        later.id,
      ]);
      await vi.waitFor(async () =>
        expect(await server.services.events.listAfter(ownerId, String(Number(later.id) - 1), 1)).toEqual([]),
      );
    } finally {
      await retention.stop();
    }
  });
});

describe('shutdown', () => {
  it('ends open streams promptly when the server closes', async () => {
    const client = await SseClient.open();
    await client.ready();
    await server.close();
    await vi.waitFor(() => expect(client.ended).toBe(true));
  });
});

async function listenerPid(): Promise<number> {
  const { rows } = await server.database.pool.query<{ pid: number }>(
    `select pid from pg_stat_activity where application_name = 'mainloop-event-hub' and datname = current_database()`,
  );
  expect(rows).toHaveLength(1);
  return rows[0]!.pid;
}

/** A raw HTTP client that opens the stream, reads the response head, then stops reading. */
async function openStalledSocket(): Promise<net.Socket> {
  const { hostname, port } = new URL(server.url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(
    `GET /api/events HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: ${server.authHeaders.authorization}\r\n\r\n`,
  );
  const head = await new Promise<string>((resolve) =>
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString())),
  );
  expect(head).toMatch(/^HTTP\/1\.1 200/);
  socket.pause();
  socket.on('error', () => {});
  return socket;
}
