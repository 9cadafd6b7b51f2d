import type { Message } from '../../../contract/index.js';
import { ApiRequestError } from '../api/client.js';
import { Backoff } from '../events/backoff.js';
import type { Timers } from '../events/event-stream.js';

/**
 * Messages the person sent that the server has not accepted yet. Every send goes through here:
 * it is written to storage first (so a reload, a crash or a dead network loses nothing), then
 * posted; it leaves the outbox when the server answers 2xx, or when it refuses it for good
 * (a 4xx other than the retryable ones: the text goes back to the composer). Network failures,
 * 5xx, 408, 429 and 401 (signed out meanwhile) keep it for another try with the **same
 * clientId**, so the server (idempotent on clientId) never stores it twice.
 * Plain TypeScript; `composer.svelte.ts` wraps it in reactive state.
 */
export interface OutboxEntry {
  clientId: string;
  content: string;
  /** when the person sent it */
  createdAt: string;
  /** failed tries so far */
  attempts: number;
  /** why the last try failed, for a person */
  lastError?: string;
}

export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export const OUTBOX_KEY_PREFIX = 'mainloop.outbox.';
export const DRAFT_KEY_PREFIX = 'mainloop.draft.';

/** The outbox itself: a list in storage (per user), read afresh on every change so that two tabs do not overwrite each other. */
export class Outbox {
  readonly #storage: StorageLike | undefined;
  readonly #key: string;
  /** used when storage is unavailable (private mode, quota, policy): the outbox still works for this page's life */
  #memory: OutboxEntry[] = [];

  constructor(storage: StorageLike | undefined, key: string) {
    this.#storage = storage;
    this.#key = key;
  }

  get key(): string {
    return this.#key;
  }

  entries(): OutboxEntry[] {
    if (!this.#storage) return [...this.#memory];
    try {
      const raw = this.#storage.getItem(this.#key);
      if (raw === null) return [...this.#memory];
      return parseEntries(raw);
    } catch {
      return [...this.#memory];
    }
  }

  /** Adds an entry unless one with the same clientId is already there; returns whether it was added. */
  add(entry: Pick<OutboxEntry, 'clientId' | 'content'> & Partial<OutboxEntry>): boolean {
    const entries = this.entries();
    if (entries.some((held) => held.clientId === entry.clientId)) return false;
    entries.push({ attempts: 0, createdAt: new Date().toISOString(), ...entry });
    this.#write(entries);
    return true;
  }

  update(clientId: string, patch: Partial<Omit<OutboxEntry, 'clientId'>>): void {
    const entries = this.entries();
    const entry = entries.find((held) => held.clientId === clientId);
    if (!entry) return;
    Object.assign(entry, patch);
    this.#write(entries);
  }

  remove(clientId: string): boolean {
    const entries = this.entries();
    const kept = entries.filter((held) => held.clientId !== clientId);
    if (kept.length === entries.length) return false;
    this.#write(kept);
    return true;
  }

  #write(entries: OutboxEntry[]): void {
    this.#memory = entries;
    if (!this.#storage) return;
    try {
      if (entries.length === 0) this.#storage.removeItem(this.#key);
      else this.#storage.setItem(this.#key, JSON.stringify(entries));
    } catch {
      // storage full or refused: the in-memory copy still delivers while the page lives
    }
  }
}

function parseEntries(raw: string): OutboxEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  const seen = new Set<string>();
  const entries: OutboxEntry[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) continue;
    const { clientId, content, createdAt, attempts, lastError } = item as Record<string, unknown>;
    if (typeof clientId !== 'string' || typeof content !== 'string' || seen.has(clientId)) continue;
    seen.add(clientId);
    entries.push({
      clientId,
      content,
      createdAt: typeof createdAt === 'string' ? createdAt : new Date(0).toISOString(),
      attempts: typeof attempts === 'number' ? attempts : 0,
      ...(typeof lastError === 'string' ? { lastError } : {}),
    });
  }
  return entries;
}

/** What to do after a failed send: try again later, or give up and hand the text back. */
export function sendFailure(error: unknown): 'retry' | 'reject' {
  if (!(error instanceof ApiRequestError)) return 'retry';
  const { status } = error;
  if (status === 0 || status >= 500 || status === 401 || status === 408 || status === 425 || status === 429) {
    return 'retry';
  }
  return status >= 400 ? 'reject' : 'retry';
}

export interface OutboxDeliveryOptions {
  outbox: Outbox;
  send: (entry: OutboxEntry) => Promise<Message>;
  isOnline: () => boolean;
  timers?: Timers;
  backoff?: Backoff;
  onDelivered?: (entry: OutboxEntry, message: Message) => void;
  onRejected?: (entry: OutboxEntry, error: unknown) => void;
  /** the outbox or what is in flight changed */
  onChange?: () => void;
}

const realTimers: Timers = {
  setTimeout: (callback, milliseconds) => globalThis.setTimeout(callback, milliseconds),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Delivers the outbox in order, one entry at a time, one delivery run at a time. A retryable
 * failure stops the run (later entries wait behind it, so the order holds) and schedules the
 * next run with backoff while online; `flush()` from outside (back online, event stream live
 * again, a new send) starts one at once.
 */
export class OutboxDelivery {
  readonly #options: OutboxDeliveryOptions;
  readonly #timers: Timers;
  readonly #backoff: Backoff;
  readonly #inFlight = new Set<string>();
  #running: Promise<void> | undefined;
  #again = false;
  #timer: unknown;
  #stopped = false;

  constructor(options: OutboxDeliveryOptions) {
    this.#options = options;
    this.#timers = options.timers ?? realTimers;
    this.#backoff = options.backoff ?? new Backoff({ initialMs: 1000, maxMs: 30_000 });
  }

  isSending(clientId: string): boolean {
    return this.#inFlight.has(clientId);
  }

  /** Delivers what is waiting; resolves when this run (and any run asked for meanwhile) is over. */
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
    const { outbox, send, isOnline } = this.#options;
    for (const entry of outbox.entries()) {
      if (this.#stopped) return;
      if (!isOnline()) return; // the `online` event flushes again
      this.#inFlight.add(entry.clientId);
      this.#options.onChange?.();
      try {
        const message = await send(entry);
        outbox.remove(entry.clientId);
        this.#backoff.reset();
        this.#options.onDelivered?.(entry, message);
      } catch (error) {
        if (sendFailure(error) === 'reject') {
          outbox.remove(entry.clientId);
          this.#options.onRejected?.(entry, error);
          continue;
        }
        outbox.update(entry.clientId, {
          attempts: entry.attempts + 1,
          lastError: error instanceof Error ? error.message : String(error),
        });
        if (isOnline()) this.#schedule();
        return;
      } finally {
        this.#inFlight.delete(entry.clientId);
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

/**
 * A client id for a new message. `crypto.randomUUID` exists only in secure contexts (https or
 * localhost); mainloop is also reached over plain http on a LAN, where `getRandomValues` still works.
 */
export function newClientId(
  crypto: Pick<Crypto, 'getRandomValues'> & Partial<Pick<Crypto, 'randomUUID'>> = globalThis.crypto,
): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
