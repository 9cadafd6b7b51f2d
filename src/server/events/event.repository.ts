import { sql } from 'kysely';
import type { EventData, EventType } from '../../contract/events.js';
import type { Queryable } from '../db/database.js';

/** The NOTIFY channel (also named in the trigger of migration 0005). */
export const EVENTS_CHANNEL = 'mainloop_events';

export interface StoredEvent {
  id: string;
  userId: string;
  type: EventType;
  data: unknown;
  at: string;
}

/** An event to append: its type and its data, as the contract defines them. */
export interface NewEvent<T extends EventType = EventType> {
  type: T;
  data: EventData<T>;
}

/** NOTIFY payloads are limited to 8000 bytes; larger events are fetched by id instead. */
const INLINE_LIMIT = 7000;

/**
 * The events with their NOTIFY payloads, written here but for the id, which SQL splices in; too
 * big for NOTIFY (the limit is in bytes: 3,000 characters of '€' are 9,000), a payload says where
 * to fetch the event instead.
 */
function noticed(userId: string, events: readonly NewEvent[]) {
  return events.map(({ type, data }) => {
    const inline = JSON.stringify({ userId, type, data }).slice(1);
    const notice =
      Buffer.byteLength(inline) <= INLINE_LIMIT ? inline : JSON.stringify({ userId, type, large: true }).slice(1);
    return { type, data, notice };
  });
}

/**
 * Appends events to a user's stream and publishes them with NOTIFY (delivered by Postgres at
 * commit, never for a rolled-back change), one statement however many events.
 *
 * Inside a transaction (`append`) the events are numbered when it commits (decision 0005): they
 * wait in `event_outbox` and a deferred trigger takes their ids from the user's counter row, which
 * stays locked for the commit only. `publish` is a statement committed on its own, which numbers
 * them at once and can say their ids.
 */
export class EventRepository {
  /** Appends `events`, in order, to the caller's transaction: numbered, stored and notified at its commit. */
  async append(trx: Queryable, userId: string, events: readonly NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await sql`
      insert into event_outbox (user_id, type, data, notice)
      select ${userId}, e.event ->> 'type', e.event -> 'data', e.event ->> 'notice'
      from jsonb_array_elements(${JSON.stringify(noticed(userId, events))}::jsonb) with ordinality as e(event, n)
      order by e.n`.execute(trx);
  }

  /**
   * Appends `events` in order, with consecutive ids, in a statement of its own (not in a
   * transaction: there it would hold the user's counter until the commit). The counter row is
   * locked while the statement commits: one user's events commit in id order.
   */
  async publish(db: Queryable, userId: string, events: readonly NewEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const count = events.length;
    // pg_notify runs after the sort, so the notifications go out in id order.
    const { rows } = await sql<{ id: string; created_at: Date }>`
      with batch as (
        select e.n, e.event ->> 'type' as type, e.event -> 'data' as data, e.event ->> 'notice' as notice
        from jsonb_array_elements(${JSON.stringify(noticed(userId, events))}::jsonb) with ordinality as e(event, n)
      ), next as (
        insert into event_streams (user_id, last_id) values (${userId}, ${count})
        on conflict (user_id) do update set last_id = event_streams.last_id + ${count}
        returning last_id - ${count} as base
      ), inserted as (
        insert into events (user_id, id, type, data)
        select ${userId}, next.base + batch.n, batch.type, batch.data from next, batch
        returning id, created_at
      )
      select inserted.id, inserted.created_at,
             pg_notify(${EVENTS_CHANNEL}, '{"id":"' || inserted.id || '",' || batch.notice) as notified
      from inserted, next, batch
      where batch.n = inserted.id - next.base
      order by inserted.id`.execute(db);
    return rows.map((row, index) => ({
      id: String(row.id),
      userId,
      type: events[index]!.type,
      data: events[index]!.data,
      at: row.created_at.toISOString(),
    }));
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
