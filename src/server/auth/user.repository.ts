import type { Queryable } from '../db/database.js';

export interface UserRecord {
  id: string;
  username: string;
  passwordHash: string | null;
  isOwner: boolean;
  createdAt: Date;
}

export class UserRepository {
  async findOwner(db: Queryable): Promise<UserRecord | undefined> {
    const row = await db.selectFrom('users').selectAll().where('is_owner', '=', true).executeTakeFirst();
    return row && toUser(row);
  }

  async findById(db: Queryable, id: string): Promise<UserRecord | undefined> {
    const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async findByUsername(db: Queryable, username: string): Promise<UserRecord | undefined> {
    const row = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && toUser(row);
  }

  async insert(
    db: Queryable,
    user: { id: string; username: string; isOwner: boolean; passwordHash?: string | null },
  ): Promise<UserRecord> {
    const row = await db
      .insertInto('users')
      .values({
        id: user.id,
        username: user.username,
        is_owner: user.isOwner,
        password_hash: user.passwordHash ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toUser(row);
  }

  async setCredentials(db: Queryable, id: string, username: string, passwordHash: string): Promise<void> {
    await db.updateTable('users').set({ username, password_hash: passwordHash }).where('id', '=', id).execute();
  }
}

function toUser(row: {
  id: string;
  username: string;
  password_hash: string | null;
  is_owner: boolean;
  created_at: Date;
}): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    isOwner: row.is_owner,
    createdAt: row.created_at,
  };
}
