import type { Queryable } from '../db/database.js';

export class SetupTokenRepository {
  async insert(db: Queryable, token: { tokenHash: string; userId: string; expiresAt: Date }): Promise<void> {
    await db
      .insertInto('setup_tokens')
      .values({ token_hash: token.tokenHash, user_id: token.userId, expires_at: token.expiresAt })
      .execute();
  }

  /** A new link replaces the old ones: the user's unused set-up tokens stop working. */
  async deleteUnused(db: Queryable, userId: string): Promise<void> {
    await db.deleteFrom('setup_tokens').where('user_id', '=', userId).where('used_at', 'is', null).execute();
  }

  /** The token with this hash, used or not, expired or not. */
  async find(db: Queryable, tokenHash: string): Promise<{ usedAt: Date | null; expiresAt: Date } | undefined> {
    const row = await db
      .selectFrom('setup_tokens')
      .select(['used_at', 'expires_at'])
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row && { usedAt: row.used_at, expiresAt: row.expires_at };
  }

  /** The user of an unused, unexpired token with this hash. */
  async findUsable(db: Queryable, tokenHash: string, now: Date): Promise<{ userId: string } | undefined> {
    const row = await db
      .selectFrom('setup_tokens')
      .select('user_id')
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row && { userId: row.user_id };
  }

  /** Marks the token used, atomically: of two concurrent uses, one gets the user and the other undefined. */
  async consume(db: Queryable, tokenHash: string, now: Date): Promise<{ userId: string } | undefined> {
    const row = await db
      .updateTable('setup_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('user_id')
      .executeTakeFirst();
    return row && { userId: row.user_id };
  }
}
