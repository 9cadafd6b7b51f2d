import { sql, type Selectable } from 'kysely';
import type { Queryable } from '../db/database.js';
import type { PushSubscriptionsTable } from '../db/schema.js';

export interface StoredSubscription {
  id: string;
  userId: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  createdAt: Date;
}

/** Devices that receive Web Push; an endpoint is one device's browser profile, unique across users. */
export class PushSubscriptionRepository {
  /**
   * Adds the device, or updates it when its endpoint is known (new keys after the browser renewed
   * them; a device now signed in as someone else belongs to them).
   */
  async upsert(
    db: Queryable,
    subscription: { id: string; userId: string; endpoint: string; p256dh: string; auth: string; userAgent?: string },
  ): Promise<StoredSubscription> {
    const row = await db
      .insertInto('push_subscriptions')
      .values({
        id: subscription.id,
        user_id: subscription.userId,
        endpoint: subscription.endpoint,
        p256dh: subscription.p256dh,
        auth: subscription.auth,
        user_agent: subscription.userAgent ?? null,
      })
      .onConflict((conflict) =>
        conflict.column('endpoint').doUpdateSet({
          user_id: (eb) => eb.ref('excluded.user_id'),
          p256dh: (eb) => eb.ref('excluded.p256dh'),
          auth: (eb) => eb.ref('excluded.auth'),
          user_agent: (eb) => eb.ref('excluded.user_agent'),
          failures: 0,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSubscription(row);
  }

  /** Removes the user's device with this endpoint; false when they have none. */
  async delete(db: Queryable, userId: string, endpoint: string): Promise<boolean> {
    const result = await db
      .deleteFrom('push_subscriptions')
      .where('user_id', '=', userId)
      .where('endpoint', '=', endpoint)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** The push service said the device is gone (404/410). */
  async deleteById(db: Queryable, id: string): Promise<void> {
    await db.deleteFrom('push_subscriptions').where('id', '=', id).execute();
  }

  async listForUser(db: Queryable, userId: string): Promise<StoredSubscription[]> {
    const rows = await db
      .selectFrom('push_subscriptions')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute();
    return rows.map(toSubscription);
  }

  async recordOutcome(db: Queryable, succeeded: readonly string[], failed: readonly string[], at: Date): Promise<void> {
    if (succeeded.length) {
      await db
        .updateTable('push_subscriptions')
        .set({ last_success_at: at, failures: 0 })
        .where('id', 'in', succeeded)
        .execute();
    }
    if (failed.length) {
      await db
        .updateTable('push_subscriptions')
        .set({ failures: sql<number>`failures + 1` })
        .where('id', 'in', failed)
        .execute();
    }
  }
}

function toSubscription(row: Selectable<PushSubscriptionsTable>): StoredSubscription {
  return {
    id: row.id,
    userId: row.user_id,
    endpoint: row.endpoint,
    p256dh: row.p256dh,
    auth: row.auth,
    createdAt: row.created_at,
  };
}
