import { z } from 'zod';
import { linkKind } from './links.js';
import { Question } from './questions.js';
import { Task } from './tasks.js';
import { Proposal } from './proposals.js';

/**
 * The inbox: stored, typed items for everything that needs the person. Workers' items
 * (question, plan_review, review, failure, stuck) come and go with their tasks; `proposal` items
 * with the main thread's pending proposals; anything else (a script, a cron job, CI) adds
 * `external` items through `POST /api/inbox/items`.
 */
export const INBOX_KINDS = [
  'question',
  'plan_review',
  'review',
  'failure',
  'stuck',
  'proposal',
  'notification',
  'external',
] as const;
export const InboxKind = z.enum(INBOX_KINDS);
export type InboxKind = z.infer<typeof InboxKind>;

/** The kinds that mean a worker waits for the person: they lead the queue and may buzz a phone. */
export const BLOCKING_KINDS: readonly InboxKind[] = ['question', 'plan_review', 'review', 'stuck'];

export const PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const;
export const Priority = z.enum(PRIORITIES);
export type Priority = z.infer<typeof Priority>;

export const INBOX_STATES = ['open', 'snoozed', 'done'] as const;
export const InboxState = z.enum(INBOX_STATES);
export type InboxState = z.infer<typeof InboxState>;

/**
 * What the person can do from the item itself. Each maps onto an existing route:
 * answer → POST /api/questions/:questionId/answer; approve / revise → POST /api/tasks/:taskId/plan
 * (plan_review) or approve / request_changes → /review (review); retry, cancel → /api/tasks/:taskId/…;
 * confirm (with an edited payload or not), dismiss → /api/proposals/:proposalId/…; open → the
 * item's url; done, snooze → /api/inbox/items/:id/…. An item that waits on the person for work
 * to go on (a plan, a review, a question, a proposal) does not offer `done`: what resolves it
 * does, or a snooze (decision 0012); `POST …/done` on it answers 409 `ITEM_STILL_WAITING`.
 */
export const INBOX_REPLIES = [
  'answer',
  'approve',
  'revise',
  'request_changes',
  'retry',
  'cancel',
  'confirm',
  'dismiss',
  'open',
  'done',
  'snooze',
] as const;
export const InboxReply = z.enum(INBOX_REPLIES);
export type InboxReply = z.infer<typeof InboxReply>;

export const InboxItem = z.object({
  id: z.string(),
  kind: InboxKind,
  priority: Priority,
  title: z.string(),
  body: z.string().optional(),
  url: z.string().optional(),
  /** who put it there: `worker` for task items, else what the poster said (default: the API token's name) */
  source: z.string().optional(),
  taskId: z.string().optional(),
  questionId: z.string().optional(),
  /** a `proposal` item's proposal */
  proposalId: z.string().optional(),
  projectId: z.string().optional(),
  dedupeKey: z.string(),
  replies: z.array(InboxReply),
  state: InboxState,
  snoozedUntil: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  doneAt: z.string().optional(),
  /** in `needsYou`: the task the item is about, as it is now (a review's summary, a plan) */
  task: Task.optional(),
  /** in `needsYou`: the question a `question` item asks */
  question: Question.optional(),
  /** in `needsYou`: the proposal a `proposal` item is about, as it is now */
  proposal: Proposal.optional(),
});
export type InboxItem = z.infer<typeof InboxItem>;

export const InboxCounts = z.object({ needsYou: z.number(), active: z.number(), failures: z.number() });
export type InboxCounts = z.infer<typeof InboxCounts>;

/** GET /api/inbox?projectId= */
export const InboxQuery = z.object({ projectId: z.string().min(1).optional() });
export type InboxQuery = z.infer<typeof InboxQuery>;

export const InboxResponse = z.object({
  /** what blocks a worker first (longest blocked first), then by priority; snoozed items that are due again */
  needsYou: z.array(InboxItem),
  /** tasks at work (not waiting for the person) */
  active: z.array(Task),
  /** failed tasks, newest first: one-click retry */
  failures: z.array(Task),
  /** tasks completed in the last 24 hours */
  completed: z.array(Task),
  /**
   * done items, folded: GET /api/inbox/history pages through them. `count` is exact up to
   * 1,000; past that it is 1,000 with `more: true` (the inbox never counts all of its history).
   */
  history: z.object({ count: z.number(), more: z.boolean().optional() }),
  /** snoozed items still asleep, the soonest back first */
  snoozed: z.array(InboxItem),
  /** the badge numbers across every project (as in `inbox.updated`), whatever the filter */
  counts: InboxCounts,
});
export type InboxResponse = z.infer<typeof InboxResponse>;

/** GET /api/inbox/history?q=&before=&limit=&projectId= : done items, newest first */
export const InboxHistoryQuery = z.object({
  q: z.string().trim().max(200).optional(),
  /** an item id from the previous page: the page after it */
  before: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  projectId: z.string().min(1).optional(),
});
export type InboxHistoryQuery = z.infer<typeof InboxHistoryQuery>;
export const InboxHistoryResponse = z.object({ items: z.array(InboxItem), hasMore: z.boolean() });
export type InboxHistoryResponse = z.infer<typeof InboxHistoryResponse>;

const LINK_RULE =
  'url must be an http(s) URL or a path in mainloop such as /tasks/42, without backslashes, spaces or control characters';

/** POST /api/inbox/items: any script or service puts something in front of the person. */
export const CreateInboxItemRequest = z
  .object({
    title: z.string().trim().min(1, 'title must not be empty').max(300),
    body: z.string().max(20_000).optional(),
    priority: Priority.optional(),
    url: z
      .string()
      .max(2_000)
      .refine((value) => linkKind(value) !== undefined, LINK_RULE)
      .optional(),
    source: z.string().trim().min(1).max(100).optional(),
    /** the same key again updates the same (not yet done) item instead of adding one */
    dedupeKey: z.string().trim().min(1).max(200).optional(),
  })
  .strict();
export type CreateInboxItemRequest = z.infer<typeof CreateInboxItemRequest>;

export const InboxItemResponse = z.object({ item: InboxItem });
export type InboxItemResponse = z.infer<typeof InboxItemResponse>;

export const InboxItemIdParams = z.object({ id: z.string().min(1, 'id is required') });

/** POST /api/inbox/items/:id/snooze: until a time in the future (at most a year ahead). */
export const SnoozeRequest = z.object({
  until: z.iso.datetime({ offset: true, message: 'until must be an ISO-8601 time such as 2026-11-27T08:00:00Z' }),
});
export type SnoozeRequest = z.infer<typeof SnoozeRequest>;
