import type { ColumnType, Generated } from 'kysely';

/** Kysely's view of the tables. Each module's repository uses only its own tables. */
export interface Tables {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  setup_tokens: SetupTokensTable;
  user_settings: UserSettingsTable;
  event_streams: EventStreamsTable;
  events: EventsTable;
}

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface UsersTable {
  id: string;
  username: string;
  password_hash: string | null;
  is_owner: Generated<boolean>;
  created_at: CreatedAt;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  secret_hash: string;
  created_at: CreatedAt;
  expires_at: Date;
  last_seen_at: ColumnType<Date, Date | undefined, Date>;
  user_agent: string | null;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  source: Generated<'user' | 'env'>;
  created_at: CreatedAt;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface SetupTokensTable {
  token_hash: string;
  user_id: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
}

export interface UserSettingsTable {
  user_id: string;
  settings: ColumnType<Record<string, unknown>, string, string>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface EventStreamsTable {
  user_id: string;
  last_id: ColumnType<string, number | string, number | string>;
}

export interface EventsTable {
  user_id: string;
  /** bigint: pg returns it as a string */
  id: ColumnType<string, number | string, never>;
  type: string;
  data: ColumnType<unknown, string, never>;
  created_at: CreatedAt;
}
