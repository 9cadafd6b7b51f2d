import { Backoff } from '../events/backoff.js';
import type { Timers } from '../events/event-stream.js';

/** What a delivery reads and changes: a durable list, read afresh each time (the chat outbox, the inbox's action queue). */
export interface DeliveryQueue<Entry> {
  entries(): Entry[];
  remove(id: string): unknown;
  update(id: string, patch: { attempts: number; lastError: string }): void;
}

export interface DeliveryOptions<Entry extends { attempts: number }, Result, Refusal extends string> {
  queue: DeliveryQueue<Entry>;
  /** the entry's key in the queue */
  idOf: (entry: Entry) => string;
  send: (entry: Entry) => Promise<Result>;
  isOnline: () => boolean;
  /** what a failed send means: `'retry'` keeps the entry (and stops the run); anything else drops it */
  classify: (error: unknown) => 'retry' | Refusal;
  timers?: Timers;
  backoff?: Backoff;
  onDelivered?: (entry: Entry, result: Result) => void;
  /** the entry was dropped (already removed from the queue), with why */
  onDropped?: (entry: Entry, error: unknown, refusal: Refusal) => void;
  /** the queue or what is in flight changed */
  onChange?: () => void;
}

const realTimers: Timers = {
  setTimeout: (callback, milliseconds) => globalThis.setTimeout(callback, milliseconds),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Delivers a queue in order, one entry at a time, one delivery run at a time. A retryable
 * failure stops the run (later entries wait behind it, so the order holds) and schedules the
 * next run with backoff while online; `flush()` from outside (back online, event stream live
 * again, a new entry) starts one at once. Offline, a run stops without scheduling anything.
 */
export class Delivery<Entry extends { attempts: number }, Result, Refusal extends string> {
  readonly #options: DeliveryOptions<Entry, Result, Refusal>;
  readonly #timers: Timers;
  readonly #backoff: Backoff;
  #inFlight: string | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: unknown;
  #stopped = false;

  constructor(options: DeliveryOptions<Entry, Result, Refusal>) {
    this.#options = options;
    this.#timers = options.timers ?? realTimers;
    this.#backoff = options.backoff ?? new Backoff({ initialMs: 1000, maxMs: 30_000 });
  }

  /** the id of the entry whose request is out right now */
  get inFlight(): string | undefined {
    return this.#inFlight;
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
    const { queue, idOf, send, isOnline, classify } = this.#options;
    for (const entry of queue.entries()) {
      if (this.#stopped || !isOnline()) return; // the `online` event flushes again
      const id = idOf(entry);
      this.#inFlight = id;
      this.#options.onChange?.();
      try {
        const result = await send(entry);
        queue.remove(id);
        this.#backoff.reset();
        this.#options.onDelivered?.(entry, result);
      } catch (error) {
        const failure = classify(error);
        if (failure !== 'retry') {
          queue.remove(id);
          this.#options.onDropped?.(entry, error, failure);
          continue;
        }
        queue.update(id, {
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
