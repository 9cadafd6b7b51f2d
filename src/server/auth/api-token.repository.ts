import type { Queryable } from '../db/database.js';

export interface ApiTokenRecord {
  id: string;
  userId: string;
  name: string;
  source: 'user' | 'env';
  createdAt: Date;
  lastUsedAt: Date | null;
}

export class ApiTokenRepository {
  /** The live token with this hash, with its user. */
  async findActiveByHash(
    db: Queryable,
    tokenHash: string,
  ): Promise<(ApiTokenRecord & { isOwner: boolean }) | undefined> {
    const row = await db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .select([
        'api_tokens.id',
        'api_tokens.user_id',
        'api_tokens.name',
        'api_tokens.source',
        'api_tokens.created_at',
        'api_tokens.last_used_at',
        'users.is_owner',
      ])
      .where('api_tokens.token_hash', '=', tokenHash)
      .where('api_tokens.revoked_at', 'is', null)
      .executeTakeFirst();
    return row && { ...toToken(row), isOwner: row.is_owner };
  }

  async listForUser(db: Queryable, userId: string): Promise<ApiTokenRecord[]> {
    const rows = await db
      .selectFrom('api_tokens')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('source', '=', 'user')
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(toToken);
  }

  async insert(
    db: Queryable,
    token: { id: string; userId: string; name: string; tokenHash: string; source: 'user' | 'env' },
  ): Promise<ApiTokenRecord> {
    const row = await db
      .insertInto('api_tokens')
      .values({
        id: token.id,
        user_id: token.userId,
        name: token.name,
        token_hash: token.tokenHash,
        source: token.source,
      })
      .onConflict((conflict) => conflict.column('token_hash').doUpdateSet({ revoked_at: null }))
      .returningAll()
      .executeTakeFirstOrThrow();
    return toToken(row);
  }

  /**
   * Revokes one of the user's own tokens (not the MAINLOOP_API_TOKEN one); returns its hash,
   * or undefined when the user has no such live token.
   */
  async revoke(db: Queryable, userId: string, id: string, at: Date): Promise<{ tokenHash: string } | undefined> {
    const row = await db
      .updateTable('api_tokens')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('source', '=', 'user')
      .where('revoked_at', 'is', null)
      .returning('token_hash')
      .executeTakeFirst();
    return row && { tokenHash: row.token_hash };
  }

  /** Env tokens other than the current one stop working when MAINLOOP_API_TOKEN changes. */
  async revokeEnvTokensExcept(db: Queryable, tokenHash: string | undefined, at: Date): Promise<void> {
    let query = db
      .updateTable('api_tokens')
      .set({ revoked_at: at })
      .where('source', '=', 'env')
      .where('revoked_at', 'is', null);
    if (tokenHash) query = query.where('token_hash', '!=', tokenHash);
    await query.execute();
  }

  async touch(db: Queryable, id: string, at: Date): Promise<void> {
    await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}

function toToken(row: {
  id: string;
  user_id: string;
  name: string;
  source: 'user' | 'env';
  created_at: Date;
  last_used_at: Date | null;
}): ApiTokenRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    source: row.source,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}
