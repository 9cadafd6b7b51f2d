import { sql } from 'kysely';
import type { EventData, EventType } from '../../contract/events.js';
import type { Queryable } from '../db/database.js';

export const EVENTS_CHANNEL = 'mainloop_events';

export interface StoredEvent {
  id: string;
  userId: string;
  type: EventType;
  data: unknown;
  at: string;
}

/** NOTIFY payloads are limited to 8000 bytes; larger events are fetched by id instead. */
const INLINE_LIMIT = 7000;

/**
 * Appends events to a user's stream inside the caller's transaction, and publishes them with
 * NOTIFY (delivered by Postgres at commit, never for a rolled-back change).
 */
export class EventRepository {
  async append<T extends EventType>(trx: Queryable, userId: string, type: T, data: EventData<T>): Promise<StoredEvent> {
    // The counter row stays locked until commit: one user's events commit in id order.
    const { rows } = await sql<{ id: string; created_at: Date }>`
      with next as (
        insert into event_streams (user_id, last_id) values (${userId}, 1)
        on conflict (user_id) do update set last_id = event_streams.last_id + 1
        returning last_id
      )
      insert into events (user_id, id, type, data)
      select ${userId}, last_id, ${type}, ${JSON.stringify(data)}::jsonb from next
      returning id, created_at`.execute(trx);
    const row = rows[0]!;
    const event: StoredEvent = { id: String(row.id), userId, type, data, at: row.created_at.toISOString() };
    const payload = JSON.stringify(event);
    // The limit is in bytes: 3,000 characters of '€' are 9,000.
    const notice =
      Buffer.byteLength(payload) <= INLINE_LIMIT
        ? payload
        : JSON.stringify({ id: event.id, userId, type, large: true });
    await sql`select pg_notify(${EVENTS_CHANNEL}, ${notice})`.execute(trx);
    return event;
  }

  /** The user's events after `afterId`, oldest first: what a reconnecting client missed. */
  async listAfter(db: Queryable, userId: string, afterId: string, limit: number): Promise<StoredEvent[]> {
    const rows = await db
      .selectFrom('events')
      .select(['id', 'user_id', 'type', 'data', 'created_at'])
      .where('user_id', '=', userId)
      .where('id', '>', afterId as never)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      id: String(row.id),
      userId: row.user_id,
      type: row.type as EventType,
      data: row.data,
      at: row.created_at.toISOString(),
    }));
  }

  /** The newest id of a user's stream ('0' when empty). */
  async lastId(db: Queryable, userId: string): Promise<string> {
    const row = await db.selectFrom('event_streams').select('last_id').where('user_id', '=', userId).executeTakeFirst();
    return row ? String(row.last_id) : '0';
  }

  /** Removes events older than the retention period; returns how many. */
  async pruneBefore(db: Queryable, before: Date): Promise<number> {
    const result = await db.deleteFrom('events').where('created_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
