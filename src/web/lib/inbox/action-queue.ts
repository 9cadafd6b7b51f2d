import { Backoff } from '../events/backoff.js';
import type { Timers } from '../events/event-stream.js';
import type { StorageLike } from '../state/outbox.js';
import { actionFailure, type InboxAction } from './actions.js';

/**
 * Inbox actions not yet accepted by the server, kept on the device (localStorage, per user) so
 * that one taken offline, or just before the tab was closed, is not lost. Written before it is
 * sent; delivered in the order taken, one at a time; a retryable failure stops the run (what
 * comes after waits, so the order holds) until the next flush (back online, the event stream
 * live again, the backoff timer). Replays are safe: done is idempotent on the server, and an
 * answer or decision that another device already gave comes back 409, which is dropped.
 */
export interface QueuedAction {
  id: string;
  action: InboxAction;
  /** when the person took it */
  createdAt: string;
  /** failed tries so far */
  attempts: number;
  lastError?: string;
}

export const INBOX_QUEUE_KEY_PREFIX = 'mainloop.inbox.queue.';

const TYPES = new Set(['done', 'snooze', 'answer', 'plan', 'review', 'retry', 'cancel']);

export class ActionQueue {
  readonly #storage: StorageLike | undefined;
  readonly #key: string;
  /** when storage is unavailable: the queue still works for this page's life */
  #memory: QueuedAction[] = [];

  constructor(storage: StorageLike | undefined, key: string) {
    this.#storage = storage;
    this.#key = key;
  }

  get key(): string {
    return this.#key;
  }

  /** Read afresh each time, so two tabs do not overwrite each other's entries. */
  entries(): QueuedAction[] {
    if (!this.#storage) return [...this.#memory];
    try {
      const raw = this.#storage.getItem(this.#key);
      return raw === null ? [...this.#memory] : parseEntries(raw);
    } catch {
      return [...this.#memory];
    }
  }

  add(entry: Pick<QueuedAction, 'id' | 'action'> & Partial<QueuedAction>): QueuedAction {
    const entries = this.entries();
    const held = entries.find((queued) => queued.id === entry.id);
    if (held) return held;
    const queued: QueuedAction = { attempts: 0, createdAt: new Date().toISOString(), ...entry };
    entries.push(queued);
    this.#write(entries);
    return queued;
  }

  update(id: string, patch: Partial<Omit<QueuedAction, 'id' | 'action'>>): void {
    const entries = this.entries();
    const entry = entries.find((queued) => queued.id === id);
    if (!entry) return;
    Object.assign(entry, patch);
    this.#write(entries);
  }

  remove(id: string): boolean {
    const entries = this.entries();
    const kept = entries.filter((queued) => queued.id !== id);
    if (kept.length === entries.length) return false;
    this.#write(kept);
    return true;
  }

  clear(): void {
    this.#write([]);
  }

  #write(entries: QueuedAction[]): void {
    this.#memory = entries;
    if (!this.#storage) return;
    try {
      if (entries.length === 0) this.#storage.removeItem(this.#key);
      else this.#storage.setItem(this.#key, JSON.stringify(entries));
    } catch {
      // full or refused: the in-memory copy still delivers while the page lives
    }
  }
}

function parseEntries(raw: string): QueuedAction[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  const seen = new Set<string>();
  const entries: QueuedAction[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) continue;
    const { id, action, createdAt, attempts, lastError } = item as Record<string, unknown>;
    if (typeof id !== 'string' || seen.has(id) || !isAction(action)) continue;
    seen.add(id);
    entries.push({
      id,
      action,
      createdAt: typeof createdAt === 'string' ? createdAt : new Date(0).toISOString(),
      attempts: typeof attempts === 'number' ? attempts : 0,
      ...(typeof lastError === 'string' ? { lastError } : {}),
    });
  }
  return entries;
}

function isAction(value: unknown): value is InboxAction {
  if (typeof value !== 'object' || value === null) return false;
  const { type, itemId, taskId, questionId } = value as Record<string, unknown>;
  if (typeof type !== 'string' || !TYPES.has(type)) return false;
  if (type === 'retry' || type === 'cancel') return typeof taskId === 'string';
  if (typeof itemId !== 'string') return false;
  if (type === 'answer') return typeof questionId === 'string';
  if (type === 'plan' || type === 'review') return typeof taskId === 'string';
  return true;
}

export interface ActionDeliveryOptions {
  queue: ActionQueue;
  send: (action: InboxAction) => Promise<unknown>;
  isOnline: () => boolean;
  timers?: Timers;
  backoff?: Backoff;
  onDelivered?: (entry: QueuedAction) => void;
  /** 409: someone got there first; nothing is lost */
  onConflict?: (entry: QueuedAction, error: unknown) => void;
  /** another 4xx: the server refused it; the person should hear why */
  onRejected?: (entry: QueuedAction, error: unknown) => void;
  /** the queue or what is in flight changed */
  onChange?: () => void;
}

const realTimers: Timers = {
  setTimeout: (callback, milliseconds) => globalThis.setTimeout(callback, milliseconds),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Delivers the queue in order, one run at a time (the chat outbox's delivery, for actions). */
export class ActionDelivery {
  readonly #options: ActionDeliveryOptions;
  readonly #timers: Timers;
  readonly #backoff: Backoff;
  #inFlight: string | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: unknown;
  #stopped = false;

  constructor(options: ActionDeliveryOptions) {
    this.#options = options;
    this.#timers = options.timers ?? realTimers;
    this.#backoff = options.backoff ?? new Backoff({ initialMs: 1000, maxMs: 30_000 });
  }

  /** the entry whose request is out right now */
  get inFlight(): string | undefined {
    return this.#inFlight;
  }

  flush(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#clearTimer();
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
  }

  async #run(): Promise<void> {
    do {
      this.#again = false;
      await this.#deliverAll();
    } while (this.#again && !this.#stopped);
  }

  async #deliverAll(): Promise<void> {
    const { queue, send, isOnline } = this.#options;
    for (const entry of queue.entries()) {
      if (this.#stopped || !isOnline()) return; // the `online` event flushes again
      this.#inFlight = entry.id;
      this.#options.onChange?.();
      try {
        await send(entry.action);
        queue.remove(entry.id);
        this.#backoff.reset();
        this.#options.onDelivered?.(entry);
      } catch (error) {
        const failure = actionFailure(error);
        if (failure !== 'retry') {
          queue.remove(entry.id);
          if (failure === 'conflict') this.#options.onConflict?.(entry, error);
          else this.#options.onRejected?.(entry, error);
          continue;
        }
        queue.update(entry.id, {
          attempts: entry.attempts + 1,
          lastError: error instanceof Error ? error.message : String(error),
        });
        if (isOnline()) this.#schedule();
        return;
      } finally {
        this.#inFlight = undefined;
        this.#options.onChange?.();
      }
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#clearTimer();
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#backoff.next());
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
