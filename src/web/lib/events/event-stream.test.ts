import { describe, expect, it, vi } from 'vitest';
import { Backoff } from './backoff.js';
import { EventStream, type NetworkChange, type NetworkMonitor, type Timers } from './event-stream.js';

/** Timers that run only when the test moves the clock. */
class ManualTimers implements Timers {
  now = 0;
  #nextId = 1;
  readonly pending = new Map<number, { at: number; callback: () => void; delay: number }>();

  setTimeout(callback: () => void, milliseconds: number): number {
    const id = this.#nextId++;
    this.pending.set(id, { at: this.now + milliseconds, callback, delay: milliseconds });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Delays of the timers waiting now, shortest first. */
  delays(): number[] {
    return [...this.pending.values()].map((timer) => timer.delay).sort((a, b) => a - b);
  }
  advance(milliseconds: number): void {
    const target = this.now + milliseconds;
    for (;;) {
      const due = [...this.pending.entries()]
        .filter(([, timer]) => timer.at <= target)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].callback();
    }
    this.now = target;
  }
}

interface Connection {
  url: string;
  headers: Record<string, string>;
  send(text: string): void;
  end(): void;
  aborted: boolean;
}

/** A fake `/api/events`: every request opens a stream the test writes to, unless told to fail. */
function fakeServer() {
  const connections: Connection[] = [];
  const failures: Array<number | 'network'> = [];
  const encoder = new TextEncoder();
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const failure = failures.shift();
    if (failure === 'network') throw new TypeError('fetch failed');
    if (failure !== undefined) {
      return new Response(JSON.stringify({ code: 'X', message: 'no' }), { status: failure });
    }
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    const connection: Connection = {
      url: String(input),
      headers: init?.headers as Record<string, string>,
      aborted: false,
      send: (text) => controller.enqueue(encoder.encode(text)),
      end: () => controller.close(),
    };
    init?.signal?.addEventListener('abort', () => {
      connection.aborted = true;
      try {
        controller.error(new DOMException('aborted', 'AbortError'));
      } catch {
        // already closed
      }
    });
    connections.push(connection);
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  });
  return { fetch, connections, failures, latest: () => connections.at(-1)! };
}

function fakeNetwork(online = true) {
  let listener: ((change: NetworkChange) => void) | undefined;
  const network: NetworkMonitor & { online: boolean; emit(change: NetworkChange): void } = {
    online,
    isOnline: () => network.online,
    subscribe(callback) {
      listener = callback;
      return () => (listener = undefined);
    },
    emit(change) {
      if (change === 'online') network.online = true;
      if (change === 'offline') network.online = false;
      listener?.(change);
    },
  };
  return network;
}

const settle = async () => {
  for (let index = 0; index < 5; index++) await new Promise((resolve) => setTimeout(resolve, 0));
};

function setUp(options: { online?: boolean } = {}) {
  const server = fakeServer();
  const timers = new ManualTimers();
  const network = fakeNetwork(options.online ?? true);
  const onUnauthorized = vi.fn();
  const onError = vi.fn();
  const stream = new EventStream({
    fetch: server.fetch as unknown as typeof fetch,
    timers,
    network,
    backoff: new Backoff({ initialMs: 500, maxMs: 10_000, random: () => 0.999999 }),
    onUnauthorized,
    onError,
  });
  const statuses: string[] = [];
  stream.onStatus((status) => statuses.push(status));
  return { server, timers, network, stream, statuses, onUnauthorized, onError };
}

describe('EventStream', () => {
  it('goes live and delivers events by name with their JSON data', async () => {
    const { server, stream, statuses } = setUp();
    const settings = vi.fn();
    const inbox = vi.fn();
    stream.on('settings.updated', settings);
    const unsubscribe = stream.on('inbox.updated', inbox);

    stream.start();
    await settle();
    expect(statuses).toEqual(['connecting', 'live']);
    expect(server.latest().url).toBe('/api/events');
    expect(server.latest().headers.Accept).toBe('text/event-stream');

    server.latest().send('id: 4\nevent: settings.updated\ndata: {"settings":{"theme":"nord","timeZone":"UTC"}}\n\n');
    server.latest().send('id: 5\nevent: inbox.updated\ndata: {"counts":{"needsYou":1,"active":0,"failures":0}}\n\n');
    await settle();
    expect(settings).toHaveBeenCalledWith({ settings: { theme: 'nord', timeZone: 'UTC' } }, { id: '4' });
    expect(inbox).toHaveBeenCalledTimes(1);
    expect(stream.lastEventId).toBe('5');

    unsubscribe();
    server.latest().send('id: 6\nevent: inbox.updated\ndata: {"counts":{"needsYou":0,"active":0,"failures":0}}\n\n');
    await settle();
    expect(inbox).toHaveBeenCalledTimes(1);
    expect(stream.lastEventId).toBe('6');
  });

  it('reconnects after the stream drops, asking for what it missed since the last id', async () => {
    const { server, timers, stream, statuses } = setUp();
    stream.start();
    await settle();
    server.latest().send('id: 41\nevent: inbox.updated\ndata: {}\n\n');
    await settle();
    server.latest().end();
    await settle();
    expect(stream.status).toBe('reconnecting');
    expect(timers.delays()).toEqual([500]);

    timers.advance(500);
    await settle();
    expect(server.connections).toHaveLength(2);
    expect(server.latest().url).toBe('/api/events?lastEventId=41');
    expect(statuses).toEqual(['connecting', 'live', 'reconnecting', 'live']);
  });

  it('backs off exponentially while the server is down, up to the cap, and starts over once connected', async () => {
    const { server, timers, stream } = setUp();
    server.failures.push('network', 503, 'network', 502, 'network', 'network', 'network');
    stream.start();
    const delays: number[] = [];
    for (let attempt = 0; attempt < 7; attempt++) {
      await settle();
      expect(stream.status).toBe('reconnecting');
      const [delay] = timers.delays().filter((value) => value !== 35_000);
      delays.push(delay!);
      timers.advance(delay!);
    }
    await settle();
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(stream.status).toBe('live');

    server.latest().end();
    await settle();
    expect(timers.delays().filter((value) => value !== 35_000)).toEqual([500]);
  });

  it('reconnects when neither an event nor a heartbeat arrives for 35 s', async () => {
    const { server, timers, stream } = setUp();
    stream.start();
    await settle();
    timers.advance(20_000);
    server.latest().send(': heartbeat\n\n');
    await settle();
    timers.advance(20_000);
    await settle();
    expect(stream.status).toBe('live'); // the comment at 20 s counted as life

    timers.advance(15_001);
    await settle();
    expect(server.connections[0]!.aborted).toBe(true);
    expect(stream.status).toBe('reconnecting');
    timers.advance(500);
    await settle();
    expect(server.connections).toHaveLength(2);
    expect(stream.status).toBe('live');
  });

  it('goes offline with the device, does not retry meanwhile, and reconnects at once when back online', async () => {
    const { server, timers, network, stream } = setUp();
    stream.start();
    await settle();
    network.emit('offline');
    await settle();
    expect(stream.status).toBe('offline');
    expect(server.connections[0]!.aborted).toBe(true);
    expect(timers.pending.size).toBe(0);

    network.emit('online');
    await settle();
    expect(server.connections).toHaveLength(2);
    expect(stream.status).toBe('live');
  });

  it('starts offline when the device is, and connects when it comes online', async () => {
    const { server, network, stream } = setUp({ online: false });
    stream.start();
    await settle();
    expect(stream.status).toBe('offline');
    expect(server.fetch).not.toHaveBeenCalled();
    network.emit('online');
    await settle();
    expect(stream.status).toBe('live');
  });

  it('retries at once when the page comes back to the front while waiting to reconnect', async () => {
    const { server, timers, network, stream } = setUp();
    server.failures.push('network', 'network', 'network');
    stream.start();
    for (let attempt = 0; attempt < 3; attempt++) {
      await settle();
      timers.advance(timers.delays()[0]!);
    }
    await settle();
    expect(stream.status).toBe('live');
    server.latest().end();
    await settle();
    server.failures.push('network');
    timers.advance(500);
    await settle();
    expect(timers.delays()).toEqual([1000]);
    network.emit('wake');
    await settle();
    expect(stream.status).toBe('live');
  });

  it('stops and reports a 401 without retrying', async () => {
    const { server, timers, stream, onUnauthorized } = setUp();
    server.failures.push(401);
    stream.start();
    await settle();
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(stream.status).toBe('offline');
    expect(timers.pending.size).toBe(0);
  });

  it('skips an event whose data is not JSON, and one whose handler throws, and carries on', async () => {
    const { server, stream, onError } = setUp();
    const received: unknown[] = [];
    stream.on('inbox.updated', (data) => {
      if ((data as { boom?: boolean }).boom) throw new Error('handler failed');
      received.push(data);
    });
    stream.start();
    await settle();
    server.latest().send('event: inbox.updated\ndata: {not json\n\n');
    server.latest().send('event: inbox.updated\ndata: {"boom":true}\n\n');
    server.latest().send('event: inbox.updated\ndata: {"ok":1}\n\n');
    await settle();
    expect(onError).toHaveBeenCalledTimes(2);
    expect(received).toEqual([{ ok: 1 }]);
    expect(stream.status).toBe('live');
  });

  it('stop() closes the connection and schedules nothing', async () => {
    const { server, timers, stream } = setUp();
    stream.start();
    await settle();
    stream.stop();
    await settle();
    expect(server.connections[0]!.aborted).toBe(true);
    expect(stream.status).toBe('offline');
    expect(timers.pending.size).toBe(0);
    expect(server.connections).toHaveLength(1);
  });

  it('assembles events split across chunks and CRLF line ends, and resumes from a bare id frame', async () => {
    const { server, stream } = setUp();
    const received: unknown[] = [];
    stream.on('inbox.updated', (data, meta) => received.push([data, meta.id]));
    stream.start();
    await settle();
    const text =
      'id: 7\r\nevent: inbox.updated\r\ndata: {"n":\r\ndata: 1}\r\n\r\n: hb\n\n' +
      'id: 8\nevent: inbox.updated\ndata: {"n":2}\n\nid: 9\n\n';
    for (const piece of text.match(/[\s\S]{1,5}/g)!) {
      server.latest().send(piece);
      await settle();
    }
    expect(received).toEqual([
      [{ n: 1 }, '7'],
      [{ n: 2 }, '8'],
    ]);
    expect(stream.lastEventId).toBe('9');
  });

  it('adds the last event id to a URL that already has a query', () => {
    const stream = new EventStream({ url: '/api/events?x=1', lastEventId: 'a b' });
    expect(stream.requestUrl()).toBe('/api/events?x=1&lastEventId=a%20b');
  });
});
