import type { EventData, EventType } from '../../../contract/events.js';
import { SseFrameParser, type SseFrame } from '../../../contract/sse.js';
import { Backoff } from './backoff.js';

/**
 * The one connection to `GET /api/events`: a fetch-stream reader over the contract's SSE
 * frame parser (not `EventSource`, so that heartbeat comments count as signs of life and a
 * 401 can be told apart from a network failure). It remembers the last event id and passes
 * it on reconnect so that the server replays what was missed; it reconnects with
 * exponential backoff, goes `offline` while the device is, and reconnects when nothing at
 * all arrived for `idleTimeoutMs`.
 * Plain TypeScript: the web app wraps it in a `*.svelte.ts` class; the CLI can use it as is.
 */
export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

export type NetworkChange = 'online' | 'offline' | 'wake';

/** Where the stream learns that the device went offline or online, or that the page is in front again. */
export interface NetworkMonitor {
  isOnline(): boolean;
  subscribe(listener: (change: NetworkChange) => void): () => void;
}

export interface Timers {
  setTimeout(callback: () => void, milliseconds: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface EventMeta {
  id: string | undefined;
}

type Handler = (data: unknown, meta: EventMeta) => void;

export interface EventStreamOptions {
  /** Default `/api/events` (same origin). */
  url?: string;
  fetch?: typeof fetch;
  /** Extra request headers, e.g. `Authorization: Bearer …` for the CLI. */
  headers?: Record<string, string>;
  backoff?: Backoff;
  /** Reconnect when neither an event nor a comment arrived for this long. The server comments every 15 s. */
  idleTimeoutMs?: number;
  network?: NetworkMonitor;
  timers?: Timers;
  /** Resume after this id (e.g. one kept from an earlier session). */
  lastEventId?: string;
  /** The server answered 401: the stream stops; the app should sign in again. */
  onUnauthorized?: () => void;
  /** A malformed event or a throwing handler; the stream carries on. */
  onError?: (error: unknown) => void;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 35_000;

const realTimers: Timers = {
  setTimeout: (callback, milliseconds) => globalThis.setTimeout(callback, milliseconds),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

const alwaysOnline: NetworkMonitor = { isOnline: () => true, subscribe: () => () => {} };

export class EventStream {
  readonly #url: string;
  readonly #fetch: typeof fetch;
  readonly #headers: Record<string, string>;
  readonly #backoff: Backoff;
  readonly #idleTimeoutMs: number;
  readonly #network: NetworkMonitor;
  readonly #timers: Timers;
  readonly #onUnauthorized: (() => void) | undefined;
  readonly #onError: (error: unknown) => void;

  readonly #handlers = new Map<string, Set<Handler>>();
  readonly #statusListeners = new Set<(status: ConnectionStatus) => void>();

  #status: ConnectionStatus = 'offline';
  #lastEventId: string | undefined;
  #running = false;
  #everConnected = false;
  /** Bumped whenever the current attempt is abandoned, so its late callbacks do nothing. */
  #generation = 0;
  #abort: AbortController | undefined;
  #retryTimer: unknown;
  #idleTimer: unknown;
  #unsubscribeNetwork: (() => void) | undefined;

  constructor(options: EventStreamOptions = {}) {
    this.#url = options.url ?? '/api/events';
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#headers = options.headers ?? {};
    this.#backoff = options.backoff ?? new Backoff();
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#network = options.network ?? alwaysOnline;
    this.#timers = options.timers ?? realTimers;
    this.#lastEventId = options.lastEventId;
    this.#onUnauthorized = options.onUnauthorized;
    this.#onError = options.onError ?? ((error) => console.warn('event stream:', error));
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** Subscribe to one event by its SSE `event:` name; returns the unsubscribe function. */
  on<T extends EventType>(type: T, handler: (data: EventData<T>, meta: EventMeta) => void): () => void {
    let handlers = this.#handlers.get(type);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(type, handlers);
    }
    const stored = handler as Handler;
    handlers.add(stored);
    return () => handlers.delete(stored);
  }

  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribeNetwork = this.#network.subscribe((change) => this.#onNetwork(change));
    if (this.#network.isOnline()) void this.#connect();
    else this.#setStatus('offline');
  }

  stop(): void {
    this.#running = false;
    this.#teardown();
    this.#unsubscribeNetwork?.();
    this.#unsubscribeNetwork = undefined;
    this.#setStatus('offline');
  }

  /** The URL of the next attempt: it carries the last event id so that the server replays what was missed. */
  requestUrl(): string {
    if (!this.#lastEventId) return this.#url;
    const separator = this.#url.includes('?') ? '&' : '?';
    return `${this.#url}${separator}lastEventId=${encodeURIComponent(this.#lastEventId)}`;
  }

  async #connect(): Promise<void> {
    this.#teardown();
    const generation = this.#generation;
    const controller = new AbortController();
    this.#abort = controller;
    this.#setStatus(this.#everConnected ? 'reconnecting' : 'connecting');

    let response: Response;
    try {
      response = await this.#fetch(this.requestUrl(), {
        headers: { ...this.#headers, Accept: 'text/event-stream' },
        credentials: 'same-origin',
        cache: 'no-store',
        signal: controller.signal,
      });
    } catch {
      if (generation === this.#generation) this.#retryLater();
      return;
    }
    if (generation !== this.#generation) {
      void response.body?.cancel().catch(() => {});
      return;
    }
    if (response.status === 401) {
      void response.body?.cancel().catch(() => {});
      this.stop();
      this.#onUnauthorized?.();
      return;
    }
    if (!response.ok || !response.body) {
      void response.body?.cancel().catch(() => {});
      this.#retryLater();
      return;
    }

    this.#everConnected = true;
    this.#backoff.reset();
    this.#setStatus('live');
    this.#armIdleTimer(generation);
    try {
      await this.#read(response.body, generation);
    } catch {
      // aborted or the connection broke: either way, reconnect below unless abandoned
    }
    if (generation === this.#generation) this.#retryLater();
  }

  async #read(body: ReadableStream<Uint8Array>, generation: number): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseFrameParser();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (generation !== this.#generation || done) return;
        this.#armIdleTimer(generation);
        for (const frame of parser.feed(decoder.decode(value, { stream: true }))) {
          this.#handle(frame);
          if (generation !== this.#generation) return;
        }
      }
    } finally {
      void reader.cancel().catch(() => {});
    }
  }

  #handle(frame: SseFrame): void {
    // An id moves the resume point even on a frame without data (as in EventSource).
    if (frame.id !== undefined && !frame.id.includes('\0')) this.#lastEventId = frame.id;
    if (frame.data === undefined) return; // a heartbeat comment, or a bare id/retry
    const type = frame.event || 'message';
    const handlers = this.#handlers.get(type);
    if (!handlers || handlers.size === 0) return;
    let data: unknown;
    try {
      data = JSON.parse(frame.data);
    } catch (error) {
      this.#onError(new Error(`event ${type} (id ${frame.id ?? '?'}) has data that is not JSON`, { cause: error }));
      return;
    }
    for (const handler of [...handlers]) {
      try {
        handler(data, { id: frame.id });
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  #onNetwork(change: NetworkChange): void {
    if (!this.#running) return;
    if (change === 'offline') {
      this.#teardown();
      this.#setStatus('offline');
    } else if (change === 'online') {
      this.#backoff.reset();
      void this.#connect();
    } else if (this.#status === 'reconnecting' && this.#network.isOnline()) {
      // back in front while waiting to retry: do not make the person wait for the timer
      void this.#connect();
    }
  }

  #retryLater(): void {
    this.#teardown();
    if (!this.#running) return;
    if (!this.#network.isOnline()) {
      this.#setStatus('offline');
      return;
    }
    this.#setStatus('reconnecting');
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#connect();
    }, this.#backoff.next());
  }

  #armIdleTimer(generation: number): void {
    if (this.#idleTimer !== undefined) this.#timers.clearTimeout(this.#idleTimer);
    this.#idleTimer = this.#timers.setTimeout(() => {
      this.#idleTimer = undefined;
      if (generation === this.#generation) this.#retryLater();
    }, this.#idleTimeoutMs);
  }

  /** Abandon the current attempt: abort its request, cancel its timers. */
  #teardown(): void {
    this.#generation++;
    this.#abort?.abort();
    this.#abort = undefined;
    if (this.#retryTimer !== undefined) this.#timers.clearTimeout(this.#retryTimer);
    if (this.#idleTimer !== undefined) this.#timers.clearTimeout(this.#idleTimer);
    this.#retryTimer = undefined;
    this.#idleTimer = undefined;
  }

  #setStatus(status: ConnectionStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    for (const listener of [...this.#statusListeners]) listener(status);
  }
}

/** The browser's view of the network: `online`/`offline` events, and the page coming back to the front. */
export function browserNetwork(target: Window): NetworkMonitor {
  return {
    isOnline: () => target.navigator.onLine !== false,
    subscribe(listener) {
      const online = () => listener('online');
      const offline = () => listener('offline');
      const visible = () => {
        if (target.document.visibilityState === 'visible') listener('wake');
      };
      target.addEventListener('online', online);
      target.addEventListener('offline', offline);
      target.document.addEventListener('visibilitychange', visible);
      return () => {
        target.removeEventListener('online', online);
        target.removeEventListener('offline', offline);
        target.document.removeEventListener('visibilitychange', visible);
      };
    },
  };
}
