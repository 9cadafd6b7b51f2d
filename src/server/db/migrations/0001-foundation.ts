export const sql = /* sql */ `
create table users (
  id text primary key,
  username text not null unique,
  password_hash text,
  is_owner boolean not null default false,
  created_at timestamptz not null default now()
);
create unique index users_single_owner on users (is_owner) where is_owner;

-- A session is a random secret in an httpOnly cookie; only its SHA-256 is stored.
create table sessions (
  id text primary key,
  user_id text not null references users (id) on delete cascade,
  secret_hash text not null unique,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  last_seen_at timestamptz not null default now(),
  user_agent text
);
create index sessions_user_id on sessions (user_id);
create index sessions_expires_at on sessions (expires_at);

-- API tokens for scripts and the CLI; only their SHA-256 is stored.
create table api_tokens (
  id text primary key,
  user_id text not null references users (id) on delete cascade,
  name text not null,
  token_hash text not null unique,
  -- 'user': made in the settings page; 'env': seeded from MAINLOOP_API_TOKEN
  source text not null default 'user',
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index api_tokens_user_id on api_tokens (user_id);

-- The one-time set-up link's token; only its SHA-256 is stored.
create table setup_tokens (
  token_hash text primary key,
  user_id text not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);

create table user_settings (
  user_id text primary key references users (id) on delete cascade,
  settings jsonb not null default '{}'::jsonb,
  updated_at timestamptz not null default now()
);

-- The per-user event stream. Ids come from a per-user counter row that is locked until the
-- writing transaction commits, so one user's events always commit in id order and a client
-- resuming after id N can never miss an event with a smaller id committed later.
create table event_streams (
  user_id text primary key references users (id) on delete cascade,
  last_id bigint not null
);
create table events (
  user_id text not null references users (id) on delete cascade,
  id bigint not null,
  type text not null,
  data jsonb not null,
  created_at timestamptz not null default now(),
  primary key (user_id, id)
);
create index events_created_at on events (created_at);
`;
