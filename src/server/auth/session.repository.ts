import type { Queryable } from '../db/database.js';

export interface SessionRecord {
  id: string;
  userId: string;
  isOwner: boolean;
  expiresAt: Date;
  lastSeenAt: Date;
}

export class SessionRepository {
  async insert(
    db: Queryable,
    session: {
      id: string;
      userId: string;
      secretHash: string;
      expiresAt: Date;
      lastSeenAt: Date;
      userAgent: string | null;
    },
  ): Promise<void> {
    await db
      .insertInto('sessions')
      .values({
        id: session.id,
        user_id: session.userId,
        secret_hash: session.secretHash,
        expires_at: session.expiresAt,
        last_seen_at: session.lastSeenAt,
        user_agent: session.userAgent,
      })
      .execute();
  }

  /** The session with this secret hash, with its user; expired ones too (the caller decides). */
  async findByHash(db: Queryable, secretHash: string): Promise<SessionRecord | undefined> {
    const row = await db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(['sessions.id', 'sessions.user_id', 'sessions.expires_at', 'sessions.last_seen_at', 'users.is_owner'])
      .where('sessions.secret_hash', '=', secretHash)
      .executeTakeFirst();
    return (
      row && {
        id: row.id,
        userId: row.user_id,
        isOwner: row.is_owner,
        expiresAt: row.expires_at,
        lastSeenAt: row.last_seen_at,
      }
    );
  }

  /** Sliding expiry: the session was used at `lastSeenAt` and now lasts until `expiresAt`. */
  async extend(db: Queryable, id: string, lastSeenAt: Date, expiresAt: Date): Promise<void> {
    await db
      .updateTable('sessions')
      .set({ last_seen_at: lastSeenAt, expires_at: expiresAt })
      .where('id', '=', id)
      .execute();
  }

  /** Signs out the session with this secret hash; its id, or undefined when there was none. */
  async deleteByHash(db: Queryable, secretHash: string): Promise<string | undefined> {
    const row = await db
      .deleteFrom('sessions')
      .where('secret_hash', '=', secretHash)
      .returning('id')
      .executeTakeFirst();
    return row?.id;
  }

  async deleteExpired(db: Queryable, userId: string, now: Date): Promise<void> {
    await db.deleteFrom('sessions').where('user_id', '=', userId).where('expires_at', '<=', now).execute();
  }
}
