import type { ServerResponse } from 'node:http';
import pg from 'pg';
import type { Logger } from 'pino';
import { SSE_RETRY_MS, type EventType } from '../../contract/events.js';
import { EVENTS_CHANNEL } from './event.repository.js';
import { LogThrottle } from '../lib/log-throttle.js';
import type { EventService } from './event.service.js';
import { EventStream, type EventStreamTuning } from './event-stream.js';
import { eventFrame, resumeFrame, retryFrame } from './sse.js';

export interface EventHubTuning extends EventStreamTuning {
  /** a comment line goes to every stream this often, so proxies and clients see it alive */
  heartbeatMs: number;
  /** first and longest wait between attempts to reconnect the listener */
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export const DEFAULT_EVENT_HUB_TUNING: Readonly<EventHubTuning> = Object.freeze({
  heartbeatMs: 10_000,
  maxBufferedBytes: 1024 * 1024,
  drainTimeoutMs: 10_000,
  pageSize: 200,
  maxHeld: 10_000,
  reconnectMinMs: 100,
  reconnectMaxMs: 5_000,
});

export interface EventHubStats {
  /** open streams */
  streams: number;
  /** streams cut off for not keeping up, since start */
  dropped: number;
  /** whether the LISTEN connection is up */
  listening: boolean;
  /** times the LISTEN connection was re-established, since start */
  reconnects: number;
}

export interface EventHubDeps {
  /** the hub keeps one connection of its own (not from the pool) for LISTEN */
  databaseUrl: string;
  events: EventService;
  logger: Logger;
  tuning?: Partial<EventHubTuning>;
}

/** A NOTIFY payload, as EventRepository.append writes it: the event, or (too big for NOTIFY) where to fetch it. */
type Notice = { id: string; userId: string; type: EventType } & (
  { data: unknown; large?: undefined } | { large: true }
);

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
  // Those of SECURITY_HEADERS (src/server/http/security-headers.ts) that apply to a stream: they go into
  // Fastify's reply, and a hijacked reply writes its head itself.
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
} as const;

/**
 * Live events for this server instance: one dedicated Postgres connection LISTENs on the
 * events channel, and each notification is encoded once and written to the open streams of
 * the user it belongs to. When that connection drops it is re-established with backoff and
 * every stream catches up from the database, so nothing is missed.
 */
export class EventHub {
  private readonly tuning: EventHubTuning;
  private readonly users = new Map<string, UserStreams>();
  private listener: pg.Client | undefined;
  private stopped = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private readonly failures = new LogThrottle();
  private dropped = 0;
  private reconnects = 0;

  constructor(private readonly deps: EventHubDeps) {
    this.tuning = { ...DEFAULT_EVENT_HUB_TUNING, ...deps.tuning };
  }

  /** Connects the listener (failing if Postgres cannot be reached) and starts the heartbeat. */
  async start(): Promise<void> {
    this.listener = await this.listen();
    this.startHeartbeat();
  }

  /** Ends every stream and closes the listener. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    clearTimeout(this.reconnectTimer);
    this.endStreams();
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
  }

  /** Ends every open stream now (server shutdown: clients reconnect to another instance or later). */
  endStreams(): void {
    for (const user of this.users.values()) for (const stream of user.streams) stream.end();
  }

  /** Changes timings and limits at run time: for tests and benchmarks; production keeps the defaults. */
  configure(tuning: Partial<EventHubTuning>): void {
    Object.assign(this.tuning, tuning);
    if (this.heartbeat) this.startHeartbeat();
  }

  stats(): EventHubStats {
    let streams = 0;
    for (const user of this.users.values()) streams += user.streams.size;
    return { streams, dropped: this.dropped, listening: !!this.listener, reconnects: this.reconnects };
  }

  /**
   * Serves one `text/event-stream` on a raw response (the route has hijacked it). With
   * `lastEventId` the stream first replays every stored event after it, then goes live with
   * no gap and no duplicate; without, it starts from now. Resolves once the stream is live.
   */
  async open(options: {
    userId: string;
    response: ServerResponse;
    lastEventId?: string;
    headers?: Record<string, string>;
  }): Promise<void> {
    const { userId, response } = options;
    if (this.stopped) {
      response.writeHead(503, { 'content-type': 'application/json; charset=utf-8' });
      response.end(JSON.stringify({ code: 'INTERNAL', message: 'the server is shutting down; reconnect in a moment' }));
      return;
    }
    response.writeHead(200, { ...SSE_HEADERS, ...options.headers });
    response.socket?.setNoDelay(true);
    const stream = new EventStream(userId, response, {
      source: this.deps.events,
      tuning: this.tuning,
      logger: this.deps.logger,
      onDropped: (dropped, reason) => {
        this.dropped++;
        this.deps.logger.info({ userId: dropped.userId, reason }, 'dropped a slow event stream');
      },
    });
    // Registered for live events before the database is read: nothing can fall between the two.
    this.add(stream);
    response.on('close', () => this.remove(stream));
    stream.send(retryFrame(SSE_RETRY_MS));
    try {
      const head = Number(await this.deps.events.lastId(userId));
      if (options.lastEventId === undefined) stream.send(resumeFrame(String(head)));
      // An id from the future (a restored database, a bogus header) would silence the stream: clamp it.
      const cursor = options.lastEventId === undefined ? head : Math.min(Number(options.lastEventId), head);
      await stream.start(cursor);
    } catch (error) {
      if (stream.closed) return;
      this.deps.logger.warn({ err: error, userId }, 'could not open an event stream');
      response.destroy();
    }
  }

  private add(stream: EventStream): void {
    let user = this.users.get(stream.userId);
    if (!user) this.users.set(stream.userId, (user = new UserStreams(this.deps.logger)));
    user.streams.add(stream);
  }

  private remove(stream: EventStream): void {
    const user = this.users.get(stream.userId);
    if (!user) return;
    user.streams.delete(stream);
    if (user.streams.size === 0 && user.idle) this.users.delete(stream.userId);
  }

  private readonly onNotification = (message: pg.Notification): void => {
    if (message.channel !== EVENTS_CHANNEL || !message.payload) return;
    let notice: Notice;
    try {
      notice = JSON.parse(message.payload) as Notice;
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'ignored a malformed event notification');
      return;
    }
    const user = this.users.get(notice.userId);
    if (!user || user.streams.size === 0) return;
    const id = Number(notice.id);
    if (!notice.large) {
      const frame = eventFrame(notice);
      user.run(() => user.fanOut(id, frame));
      return;
    }
    user.run(async () => {
      const [event] = await this.deps.events.listAfter(notice.userId, String(id - 1), 1).catch((error: unknown) => {
        // The streams notice the gap at the next event and read it themselves.
        this.deps.logger.warn({ err: error, id }, 'could not fetch a large event');
        return [];
      });
      if (event && event.id === notice.id) user.fanOut(id, eventFrame(event));
    });
  };

  private async listen(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.deps.databaseUrl,
      application_name: 'mainloop-event-hub',
      keepAlive: true,
    });
    client.on('notification', this.onNotification);
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    return client;
  }

  private lost(client: pg.Client, error?: Error): void {
    if (client !== this.listener || this.stopped) return;
    this.listener = undefined;
    this.deps.logger.warn({ err: error }, 'lost the event listener connection; reconnecting');
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const { reconnectMinMs, reconnectMaxMs } = this.tuning;
    const wait = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** this.attempts) * (0.75 + Math.random() / 2);
    this.attempts++;
    this.reconnectTimer = setTimeout(() => void this.reconnect(), wait);
  }

  private async reconnect(): Promise<void> {
    if (this.stopped) return;
    let client: pg.Client;
    try {
      client = await this.listen();
    } catch (error) {
      // Each attempt fails alike while the database is gone: said once a minute.
      this.failures.log(
        this.deps.logger,
        'warn',
        'reconnect',
        { err: error, attempt: this.attempts },
        'could not reconnect the event listener; trying again',
      );
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.listener = client;
    this.attempts = 0;
    this.reconnects++;
    this.deps.logger.info('event listener reconnected; catching streams up');
    // Listening again: whatever committed while we were not is in the database.
    for (const user of this.users.values()) for (const stream of user.streams) void stream.catchUp();
  }

  private startHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      for (const user of this.users.values()) for (const stream of user.streams) stream.ping();
    }, this.tuning.heartbeatMs);
    this.heartbeat.unref();
  }
}

/**
 * One user's open streams, and the order their events go out in: a large event must be fetched
 * before it can be sent, and the events after it wait for it.
 */
class UserStreams {
  readonly streams = new Set<EventStream>();
  private busy = false;
  private readonly waiting: Array<() => void | Promise<void>> = [];

  constructor(private readonly logger: Logger) {}

  get idle(): boolean {
    return !this.busy;
  }

  fanOut(id: number, frame: Buffer): void {
    for (const stream of this.streams) stream.offer(id, frame);
  }

  run(task: () => void | Promise<void>): void {
    if (this.busy) {
      this.waiting.push(task);
      return;
    }
    const result = task();
    if (result) {
      this.busy = true;
      this.after(result);
    }
  }

  private after(result: Promise<void>): void {
    result
      .catch((error: unknown) => this.logger.error({ err: error }, 'event delivery failed'))
      .finally(() => this.next());
  }

  private next(): void {
    while (this.waiting.length) {
      const result = this.waiting.shift()!();
      if (result) {
        this.after(result);
        return;
      }
    }
    this.busy = false;
  }
}
