import { sql } from 'kysely';
import type { InboxItem } from '../../contract/inbox.js';
import type { Queryable, Trx } from '../db/database.js';
import type { PushState } from '../db/schema.js';
import { toItem } from '../inbox/index.js';

export interface ClaimedItem {
  userId: string;
  item: InboxItem;
}

export interface DeliveryOutcome {
  itemId: string;
  target: string;
  status: 'sent' | 'failed';
  error?: string;
}

/**
 * `inbox_items.push_state` as an outbox, and `push_deliveries` as the record of every send.
 * Claims lock rows with FOR UPDATE SKIP LOCKED: instances sweeping at once take different items,
 * and the state changes commit in the claim's transaction, before anything is sent.
 */
export class PushOutboxRepository {
  /** Open items waiting for their push, oldest first, locked for this transaction. */
  async claimPending(trx: Trx, limit: number): Promise<ClaimedItem[]> {
    const rows = await trx
      .selectFrom('inbox_items')
      .selectAll()
      .where('push_state', '=', 'pending')
      .where('state', '=', 'open')
      .orderBy('created_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    return rows.map((row) => ({ userId: row.user_id, item: toItem(row) }));
  }

  /** Users with items held by quiet hours (and still open). */
  async usersWithHeld(db: Queryable): Promise<string[]> {
    const rows = await db
      .selectFrom('inbox_items')
      .select('user_id')
      .distinct()
      .where('push_state', '=', 'held')
      .where('state', '=', 'open')
      .execute();
    return rows.map((row) => row.user_id);
  }

  /** One user's held, open items, locked for this transaction (none when another instance has them). */
  async claimHeld(trx: Trx, userId: string, limit: number): Promise<InboxItem[]> {
    const rows = await trx
      .selectFrom('inbox_items')
      .selectAll()
      .where('user_id', '=', userId)
      .where('push_state', '=', 'held')
      .where('state', '=', 'open')
      .orderBy('created_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    return rows.map(toItem);
  }

  async setState(trx: Trx, ids: readonly string[], state: Exclude<PushState, 'none'>, at: Date): Promise<void> {
    if (!ids.length) return;
    await trx
      .updateTable('inbox_items')
      .set({ push_state: state, ...(state === 'sent' ? { pushed_at: at } : {}) })
      .where('id', 'in', ids)
      .execute();
  }

  /**
   * One row per item and target, status `sending`, before anything is sent. A row that exists
   * already (it never should) is not sent again: only the pairs returned may be sent.
   */
  async recordAttempts(
    trx: Trx,
    attempts: ReadonlyArray<{ itemId: string; target: string }>,
    at: Date,
  ): Promise<Set<string>> {
    if (!attempts.length) return new Set();
    const rows = await trx
      .insertInto('push_deliveries')
      .values(attempts.map(({ itemId, target }) => ({ item_id: itemId, target, attempted_at: at })))
      .onConflict((conflict) => conflict.columns(['item_id', 'target']).doNothing())
      .returning(['item_id', 'target'])
      .execute();
    return new Set(rows.map((row) => attemptKey(row.item_id, row.target)));
  }

  /** How each send went, in one statement. */
  async recordOutcomes(db: Queryable, outcomes: readonly DeliveryOutcome[]): Promise<void> {
    if (!outcomes.length) return;
    await sql`
      update push_deliveries as d
      set status = o.status, error = o.error
      from unnest(${outcomes.map((o) => o.itemId)}::text[], ${outcomes.map((o) => o.target)}::text[],
                  ${outcomes.map((o) => o.status)}::text[], ${outcomes.map((o) => o.error ?? null)}::text[])
        as o(item_id, target, status, error)
      where d.item_id = o.item_id and d.target = o.target`.execute(db);
  }
}

export function attemptKey(itemId: string, target: string): string {
  return `${itemId}\u0000${target}`;
}
