/** The inbox (issue 5): attention items, push devices, what was pushed, the server's VAPID keys. */
export const sql = /* sql */ `
-- Everything that needs the person. Task items come and go with their tasks; external ones are posted.
create table inbox_items (
  id text primary key,
  user_id text not null references users (id) on delete cascade,
  kind text not null check (kind in ('question', 'plan_review', 'review', 'failure', 'stuck', 'notification', 'external')),
  priority text not null default 'normal' check (priority in ('urgent', 'high', 'normal', 'low')),
  title text not null,
  body text,
  url text,
  source text,
  task_id text references tasks (id) on delete cascade,
  question_id text references questions (id) on delete cascade,
  -- the task's project, kept here for the project filter
  project_id text,
  dedupe_key text not null,
  replies jsonb not null default '[]',
  state text not null default 'open' check (state in ('open', 'snoozed', 'done')),
  snoozed_until timestamptz,
  -- Push: 'none' (not worth a buzz), 'pending' (to be sent), 'held' (quiet hours: in the next digest),
  -- 'sent' (claimed for sending: never again, not even after a restart), 'skipped' (resolved before it went)
  push_state text not null default 'none' check (push_state in ('none', 'pending', 'held', 'sent', 'skipped')),
  pushed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  done_at timestamptz,
  -- 'person' (marked done), 'resolved' (its cause went away: answered, approved, retried, cancelled)
  resolution text
);
-- One live item per key; a done item's key may come back as a new item.
create unique index inbox_items_live_key on inbox_items (user_id, dedupe_key) where state <> 'done';
create index inbox_items_live on inbox_items (user_id, created_at) where state <> 'done';
create index inbox_items_history on inbox_items (user_id, done_at desc, id desc) where state = 'done';
-- Narrow, for counting the history without reading it (an index-only scan).
create index inbox_items_done on inbox_items (user_id) where state = 'done';
create index inbox_items_task on inbox_items (task_id) where state <> 'done';
create index inbox_items_snoozed on inbox_items (snoozed_until) where state = 'snoozed';
create index inbox_items_push on inbox_items (user_id, created_at) where push_state in ('pending', 'held');
-- The inbox's task sections (failed, completed today, at work) read the newest of one status.
create index tasks_user_status_updated on tasks (user_id, status, updated_at desc);

-- Devices that receive Web Push (a browser's PushSubscription).
create table push_subscriptions (
  id text primary key,
  user_id text not null references users (id) on delete cascade,
  endpoint text not null unique,
  p256dh text not null,
  auth text not null,
  user_agent text,
  created_at timestamptz not null default now(),
  last_success_at timestamptz,
  failures integer not null default 0
);
create index push_subscriptions_user on push_subscriptions (user_id);

-- One row per item and target (a device, a channel), written before the send: at most once, ever.
create table push_deliveries (
  item_id text not null references inbox_items (id) on delete cascade,
  target text not null,
  attempted_at timestamptz not null default now(),
  status text not null default 'sending' check (status in ('sending', 'sent', 'failed')),
  error text,
  primary key (item_id, target)
);

-- Keys the server makes once and keeps (the VAPID key pair).
create table server_keys (
  name text primary key,
  value jsonb not null,
  created_at timestamptz not null default now()
);
`;
