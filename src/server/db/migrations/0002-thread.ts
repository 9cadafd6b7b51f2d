export const sql = /* sql */ `
-- Tasks: what a worker is asked to do (issue 4 adds the columns its workflow needs).
create table tasks (
  id text primary key,
  user_id text not null references users (id) on delete cascade,
  title text not null,
  prompt text not null,
  project_id text,
  runtime text not null default 'claude-code' check (runtime in ('claude-code', 'codex', 'command')),
  model text,
  command text,
  skip_plan boolean not null default false,
  status text not null default 'queued' check (
    status in ('queued', 'planning', 'awaiting_plan_approval', 'implementing', 'checking', 'awaiting_review',
               'completed', 'failed', 'cancelled')
  ),
  needs_input boolean not null default false,
  attempt integer not null default 1,
  error text,
  usage jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index tasks_user_created on tasks (user_id, created_at desc);
create index tasks_user_status on tasks (user_id, status, created_at desc);
create index tasks_user_project on tasks (user_id, project_id, created_at desc) where project_id is not null;

-- The main thread: one continuous conversation per user. The id is an increasing sequence, so
-- it orders the thread (pages read an index range, newest first, never the whole history).
create table messages (
  id bigint generated always as identity primary key,
  user_id text not null references users (id) on delete cascade,
  role text not null check (role in ('user', 'assistant', 'event')),
  content text not null default '',
  status text not null check (status in ('streaming', 'complete', 'error')),
  -- the sender's idempotency key (user messages)
  client_id text,
  -- an assistant reply: the user message it answers (one reply per user message)
  reply_to bigint references messages (id) on delete set null,
  -- an event message: the task it is about
  task_id text references tasks (id) on delete set null,
  -- a reply: the durable workflow writing it (a retry takes a new one), and the model request
  -- it last started, so a request run again after a crash knows to reset what it streamed
  turn_id text,
  turn_step integer not null default 0,
  usage jsonb,
  error text,
  created_at timestamptz not null default now(),
  completed_at timestamptz
);
create unique index messages_user_client on messages (user_id, client_id);
create unique index messages_reply_to on messages (reply_to);
create index messages_user_seq on messages (user_id, id);
create index messages_user_created on messages (user_id, created_at);
-- replies still being written: what the start-up sweep looks at
create index messages_streaming on messages (created_at) where status = 'streaming';
-- recall: full-text search over a user's messages
create index messages_search on messages using gin (to_tsvector('english', content));

-- What the main thread wants done that needs the person's yes. A tool call proposes at most
-- once: (message_id, tool_call_id) is its idempotency key.
create table proposals (
  id text primary key,
  user_id text not null references users (id) on delete cascade,
  kind text not null check (kind in ('spawn_task', 'cancel_task')),
  status text not null default 'pending' check (status in ('pending', 'confirmed', 'dismissed')),
  payload jsonb not null,
  -- spawn_task: the task it created once confirmed; cancel_task: the task to cancel
  task_id text references tasks (id) on delete set null,
  message_id bigint not null references messages (id) on delete cascade,
  tool_call_id text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (message_id, tool_call_id)
);
create index proposals_user_status on proposals (user_id, status, created_at);
`;
