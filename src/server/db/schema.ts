import type { ColumnType, Generated } from 'kysely';
import type { ProjectRepo } from '../../contract/projects.js';
import type { QuestionOption } from '../../contract/questions.js';
import type { TaskMerge, TaskReview } from '../../contract/tasks.js';
import type { InboxKind, InboxReply, InboxState, Priority } from '../../contract/inbox.js';
import type { ToolCall, ToolResult } from '../models/index.js';

/** Kysely's view of the tables. Each module's repository uses only its own tables. */
export interface Tables {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  setup_tokens: SetupTokensTable;
  user_settings: UserSettingsTable;
  event_streams: EventStreamsTable;
  events: EventsTable;
  tasks: TasksTable;
  task_numbers: TaskNumbersTable;
  messages: MessagesTable;
  proposals: ProposalsTable;
  projects: ProjectsTable;
  questions: QuestionsTable;
  task_logs: TaskLogsTable;
  task_decisions: TaskDecisionsTable;
  task_step_runs: TaskStepRunsTable;
  inbox_items: InboxItemsTable;
  push_subscriptions: PushSubscriptionsTable;
  push_deliveries: PushDeliveriesTable;
  server_keys: ServerKeysTable;
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

/** A jsonb column: written as a JSON string, read as the parsed value. */
type Json<T> = ColumnType<T, string | null | undefined, string | null>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export interface TasksTable {
  id: string;
  user_id: string;
  /** the task's number among its owner's tasks (from `task_numbers`) */
  number: number;
  title: string;
  prompt: string;
  project_id: string | null;
  runtime: Generated<string>;
  model: string | null;
  command: string | null;
  skip_plan: Generated<boolean>;
  status: Generated<string>;
  needs_input: Generated<boolean>;
  attempt: Generated<number>;
  error: string | null;
  usage: Json<{ inputTokens: number; outputTokens: number; costUsd?: number } | null>;
  branch: string | null;
  base_commit: string | null;
  plan: string | null;
  review: Json<TaskReview | null>;
  merge: Json<TaskMerge | null>;
  session_id: string | null;
  started_at: Date | null;
  stuck_since: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** Each user's last task number. */
export interface TaskNumbersTable {
  user_id: string;
  last: number;
}

export interface MessagesTable {
  /** bigint identity: pg returns it as a string; it also orders the thread */
  id: ColumnType<string, never, never>;
  user_id: string;
  role: 'user' | 'assistant' | 'event';
  content: Generated<string>;
  status: 'streaming' | 'complete' | 'error';
  client_id: string | null;
  reply_to: ColumnType<string | null, string | null | undefined, string | null>;
  task_id: string | null;
  turn_id: string | null;
  turn_step: Generated<number>;
  usage: Json<{ inputTokens: number; outputTokens: number; costUsd?: number } | null>;
  error: string | null;
  created_at: CreatedAt;
  completed_at: Date | null;
  /** a reply's tool calls and their results (ToolStep in thread/message.repository.ts); null when it called none */
  tool_steps: Json<Array<{ at: number; calls: ToolCall[]; results: ToolResult[] }> | null>;
}

export interface ProposalsTable {
  id: string;
  user_id: string;
  kind: 'spawn_task' | 'cancel_task';
  status: Generated<'pending' | 'confirmed' | 'dismissed'>;
  payload: ColumnType<Record<string, unknown>, string, string>;
  task_id: string | null;
  message_id: ColumnType<string, string, never>;
  tool_call_id: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ProjectsTable {
  id: string;
  user_id: string;
  name: string;
  repo: Json<ProjectRepo>;
  default_branch: string;
  check_command: string | null;
  allow_network: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface QuestionsTable {
  id: string;
  user_id: string;
  task_id: string;
  ask_id: string;
  position: number;
  header: string | null;
  text: string;
  options: Json<QuestionOption[]>;
  multi_select: Generated<boolean>;
  status: Generated<'open' | 'answered' | 'cancelled'>;
  answer: Json<string | string[] | null>;
  created_at: CreatedAt;
  answered_at: Date | null;
}

export interface TaskLogsTable {
  task_id: string;
  seq: number;
  at: CreatedAt;
  kind: string;
  text: string;
}

export interface TaskDecisionsTable {
  id: ColumnType<string, never, never>;
  task_id: string;
  kind: 'plan' | 'answers' | 'review' | 'retry';
  payload: Json<Record<string, unknown>>;
  created_at: CreatedAt;
  taken_at: Date | null;
  taken_by: string | null;
}

export interface TaskStepRunsTable {
  task_id: string;
  key: string;
  runs: Generated<number>;
}

export type PushState = 'none' | 'pending' | 'held' | 'sent' | 'skipped';

export interface InboxItemsTable {
  id: string;
  user_id: string;
  kind: InboxKind;
  priority: Generated<Priority>;
  title: string;
  body: string | null;
  url: string | null;
  source: string | null;
  task_id: string | null;
  question_id: string | null;
  proposal_id: Generated<string | null>;
  project_id: string | null;
  dedupe_key: string;
  replies: Json<InboxReply[]>;
  state: Generated<InboxState>;
  snoozed_until: Date | null;
  push_state: Generated<PushState>;
  pushed_at: Date | null;
  created_at: CreatedAt;
  updated_at: Date;
  done_at: Date | null;
  resolution: 'person' | 'resolved' | null;
}

export interface PushSubscriptionsTable {
  id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  user_agent: string | null;
  created_at: CreatedAt;
  last_success_at: Date | null;
  failures: Generated<number>;
}

export interface PushDeliveriesTable {
  item_id: string;
  target: string;
  attempted_at: CreatedAt;
  status: Generated<'sending' | 'sent' | 'failed'>;
  error: string | null;
}

export interface ServerKeysTable {
  name: string;
  value: Json<Record<string, unknown>>;
  created_at: CreatedAt;
}
