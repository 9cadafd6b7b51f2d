import { ServerEvent, type EventData, type EventType } from '../../contract/events.js';
import type { Db, Queryable } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import type { EventRepository, NewEvent, StoredEvent } from './event.repository.js';

export interface EventServiceDeps {
  db: Db;
  repository: EventRepository;
  clock: Clock;
  /** events older than this are pruned */
  retentionDays: number;
  /** check every event against the shared contract before it is stored (on by default) */
  validate?: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Publishing and reading users' event streams. Features publish through this: `append` inside
 * the transaction that makes the change (the event commits with it, or not at all), `publish`
 * when the event is the only write.
 */
export class EventService {
  private readonly validate: boolean;

  constructor(private readonly deps: EventServiceDeps) {
    this.validate = deps.validate ?? true;
  }

  /** Stores the event in the caller's transaction; it is numbered and delivered when that commits. */
  async append<T extends EventType>(trx: Queryable, userId: string, type: T, data: EventData<T>): Promise<void> {
    await this.appendAll(trx, userId, [{ type, data } as NewEvent]);
  }

  /** Stores several events, in order, in the caller's transaction (one round trip); numbered and delivered when that commits. */
  async appendAll(trx: Queryable, userId: string, events: readonly NewEvent[]): Promise<void> {
    if (this.validate) for (const event of events) this.check(event.type, event.data);
    await this.deps.repository.append(trx, userId, events);
  }

  /** Stores and delivers an event on its own: one statement, committed by itself. */
  async publish<T extends EventType>(userId: string, type: T, data: EventData<T>): Promise<StoredEvent> {
    if (this.validate) this.check(type, data);
    const [event] = await this.deps.repository.publish(this.deps.db, userId, [{ type, data } as NewEvent]);
    return event!;
  }

  /** The user's events after `afterId`, oldest first, at most `limit`. */
  listAfter(userId: string, afterId: string, limit: number): Promise<StoredEvent[]> {
    return this.deps.repository.listAfter(this.deps.db, userId, afterId, limit);
  }

  /** The id of the user's newest event ('0' before the first). */
  lastId(userId: string): Promise<string> {
    return this.deps.repository.lastId(this.deps.db, userId);
  }

  /** Deletes events older than the retention period; returns how many went. */
  prune(): Promise<number> {
    const before = new Date(this.deps.clock.now().getTime() - this.deps.retentionDays * DAY_MS);
    return this.deps.repository.pruneBefore(this.deps.db, before);
  }

  private check(type: EventType, data: unknown): void {
    const result = ServerEvent.safeParse({ type, data });
    if (!result.success) {
      const issues = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
      throw new Error(`event ${type} does not match the contract in src/contract/events.ts: ${issues}`);
    }
  }
}
