import { sql } from 'kysely';
import type { Queryable } from '../db/database.js';

/** A user's settings as stored: a JSON object holding only what they changed. */
export class SettingsRepository {
  async find(db: Queryable, userId: string): Promise<Record<string, unknown> | undefined> {
    const row = await db
      .selectFrom('user_settings')
      .select('settings')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.settings;
  }

  /**
   * Merges `patch` into the stored settings in one statement (concurrent patches do not lose each
   * other's keys). `notifications` merges one level deeper: a channel not named stays, one set to
   * null goes (a first insert may keep a null, which reads as not set).
   */
  async merge(
    db: Queryable,
    userId: string,
    patch: Record<string, unknown>,
    at: Date,
  ): Promise<Record<string, unknown>> {
    const row = await db
      .insertInto('user_settings')
      .values({ user_id: userId, settings: JSON.stringify(patch), updated_at: at })
      .onConflict((conflict) =>
        conflict.column('user_id').doUpdateSet({
          settings:
            'notifications' in patch
              ? sql<string>`user_settings.settings || excluded.settings || jsonb_build_object('notifications',
                  jsonb_strip_nulls(coalesce(user_settings.settings -> 'notifications', '{}'::jsonb) || (excluded.settings -> 'notifications')))`
              : sql<string>`user_settings.settings || excluded.settings`,
          updated_at: at,
        }),
      )
      .returning('settings')
      .executeTakeFirstOrThrow();
    return row.settings;
  }
}
