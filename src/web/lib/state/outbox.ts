import type { Message } from '../../../contract/index.js';
import { ApiRequestError } from '../api/client.js';
import type { Backoff } from '../events/backoff.js';
import type { Timers } from '../events/event-stream.js';
import { Delivery } from './delivery.js';
import { StoredList, type StorageLike } from './stored-list.js';

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

export type { StorageLike } from './stored-list.js';

export const OUTBOX_KEY_PREFIX = 'mainloop.outbox.';
export const DRAFT_KEY_PREFIX = 'mainloop.draft.';

/** The outbox itself: a list in storage (per user), read afresh on every change so that two tabs do not overwrite each other. */
export class Outbox extends StoredList<OutboxEntry> {
  constructor(storage: StorageLike | undefined, key: string) {
    super(storage, key, (entry) => entry.clientId, readEntry);
  }

  /** Adds an entry unless one with the same clientId is already there; returns whether it was added. */
  add(entry: Pick<OutboxEntry, 'clientId' | 'content'> & Partial<OutboxEntry>): boolean {
    return this.hold(entry).added;
  }

  override update(clientId: string, patch: Partial<Omit<OutboxEntry, 'clientId'>>): void {
    super.update(clientId, patch);
  }
}

function readEntry({
  clientId,
  content,
}: Record<string, unknown>): Pick<OutboxEntry, 'clientId' | 'content'> | undefined {
  return typeof clientId === 'string' && typeof content === 'string' ? { clientId, content } : undefined;
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

/**
 * Delivers the outbox in order, one entry at a time, one delivery run at a time (see `Delivery`):
 * a retryable failure stops the run and schedules the next with backoff while online; a refusal
 * drops the entry and hands it to `onRejected`.
 */
export class OutboxDelivery {
  readonly #delivery: Delivery<OutboxEntry, Message, 'reject'>;

  constructor(options: OutboxDeliveryOptions) {
    const { outbox, onRejected, ...rest } = options;
    this.#delivery = new Delivery({
      ...rest,
      queue: outbox,
      idOf: (entry) => entry.clientId,
      classify: sendFailure,
      onDropped: (entry, error) => onRejected?.(entry, error),
    });
  }

  isSending(clientId: string): boolean {
    return this.#delivery.inFlight === clientId;
  }

  /** Delivers what is waiting; resolves when this run (and any run asked for meanwhile) is over. */
  flush(): Promise<void> {
    return this.#delivery.flush();
  }

  stop(): void {
    this.#delivery.stop();
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
