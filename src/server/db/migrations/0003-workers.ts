/** Workers (issue 4): projects, what a task's workflow keeps on the task, questions, task logs, decisions. */
export const sql = /* sql */ `
create table projects (
  id text primary key,
  user_id text not null references users (id) on delete cascade,
  name text not null,
  repo jsonb not null,
  default_branch text not null,
  check_command text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, name)
);

alter table tasks
  add column branch text,
  add column base_commit text,
  add column plan text,
  add column review jsonb,
  add column session_id text,
  add column started_at timestamptz,
  add column stuck_since timestamptz;

-- A worker asking the person. Questions asked together share ask_id; the task resumes when all are answered.
create table questions (
  id text primary key,
  user_id text not null references users (id) on delete cascade,
  task_id text not null references tasks (id) on delete cascade,
  ask_id text not null,
  position integer not null,
  header text,
  text text not null,
  options jsonb not null default '[]',
  multi_select boolean not null default false,
  status text not null default 'open' check (status in ('open', 'answered', 'cancelled')),
  answer jsonb,
  created_at timestamptz not null default now(),
  answered_at timestamptz,
  unique (ask_id, position)
);
create index questions_user_status on questions (user_id, status, created_at);
create index questions_task on questions (task_id, created_at);

-- Every line of what a task's agent did, in order (seq from 1 per task).
create table task_logs (
  task_id text not null references tasks (id) on delete cascade,
  seq integer not null,
  at timestamptz not null default now(),
  kind text not null,
  text text not null,
  primary key (task_id, seq)
);

-- How many times each of a task's long steps started: a second start is a step run again after a
-- crash, which begins by putting the workspace back to its last checkpoint.
create table task_step_runs (
  task_id text not null references tasks (id) on delete cascade,
  key text not null,
  runs integer not null default 1,
  primary key (task_id, key)
);

-- What the person decided for a task (a plan approved or revised, answers given, a review, a retry),
-- stored before the workflow hears of it; the workflow takes each one exactly once.
create table task_decisions (
  id bigint generated always as identity primary key,
  task_id text not null references tasks (id) on delete cascade,
  kind text not null check (kind in ('plan', 'answers', 'review', 'retry')),
  payload jsonb not null default '{}',
  created_at timestamptz not null default now(),
  taken_at timestamptz,
  -- the workflow's key for the wait that took it: a step run again gets the same decision back
  taken_by text
);
create index task_decisions_pending on task_decisions (task_id, id) where taken_at is null;
`;
