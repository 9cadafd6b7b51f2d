import type { Backoff } from '../events/backoff.js';
import type { Timers } from '../events/event-stream.js';
import { Delivery } from '../state/delivery.js';
import { StoredList, type StorageLike } from '../state/stored-list.js';
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

const TYPES = new Set(['done', 'snooze', 'answer', 'plan', 'review', 'retry', 'cancel', 'confirm', 'dismiss']);

export class ActionQueue extends StoredList<QueuedAction> {
  constructor(storage: StorageLike | undefined, key: string) {
    super(storage, key, (entry) => entry.id, readEntry);
  }

  /** Adds an entry unless one with its id is already there; returns the one held. */
  add(entry: Pick<QueuedAction, 'id' | 'action'> & Partial<QueuedAction>): QueuedAction {
    return this.hold(entry).entry;
  }

  override update(id: string, patch: Partial<Omit<QueuedAction, 'id' | 'action'>>): void {
    super.update(id, patch);
  }

  clear(): void {
    this.write([]);
  }
}

function readEntry({ id, action }: Record<string, unknown>): Pick<QueuedAction, 'id' | 'action'> | undefined {
  return typeof id === 'string' && isAction(action) ? { id, action } : undefined;
}

function isAction(value: unknown): value is InboxAction {
  if (typeof value !== 'object' || value === null) return false;
  const { type, itemId, taskId, questionId, proposalId } = value as Record<string, unknown>;
  if (typeof type !== 'string' || !TYPES.has(type)) return false;
  if (type === 'retry' || type === 'cancel') return typeof taskId === 'string';
  if (typeof itemId !== 'string') return false;
  if (type === 'answer') return typeof questionId === 'string';
  if (type === 'plan' || type === 'review') return typeof taskId === 'string';
  if (type === 'confirm' || type === 'dismiss') return typeof proposalId === 'string';
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

/** Delivers the queue in order, one run at a time (see `Delivery`, which the chat outbox uses too). */
export class ActionDelivery {
  readonly #delivery: Delivery<QueuedAction, unknown, 'conflict' | 'rejected'>;

  constructor(options: ActionDeliveryOptions) {
    const { queue, send, onDelivered, onConflict, onRejected, ...rest } = options;
    this.#delivery = new Delivery({
      ...rest,
      queue,
      idOf: (entry) => entry.id,
      send: (entry) => send(entry.action),
      classify: actionFailure,
      onDelivered: (entry) => onDelivered?.(entry),
      onDropped: (entry, error, refusal) =>
        refusal === 'conflict' ? onConflict?.(entry, error) : onRejected?.(entry, error),
    });
  }

  /** the entry whose request is out right now */
  get inFlight(): string | undefined {
    return this.#delivery.inFlight;
  }

  flush(): Promise<void> {
    return this.#delivery.flush();
  }

  stop(): void {
    this.#delivery.stop();
  }
}
