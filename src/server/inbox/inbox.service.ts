import type { Logger } from 'pino';
import {
  BLOCKING_KINDS,
  type CreateInboxItemRequest,
  type InboxHistoryQuery,
  type InboxHistoryResponse,
  type InboxItem,
  type InboxKind,
  type InboxReply,
  type InboxResponse,
  type Priority,
} from '../../contract/inbox.js';
import type { Question } from '../../contract/questions.js';
import { taskReference, type Task, type TaskSpec } from '../../contract/tasks.js';
import type { CancelTaskPayload, Proposal } from '../../contract/proposals.js';
import type { Db, Queryable, Trx } from '../db/database.js';
import type { PushState } from '../db/schema.js';
import { DomainError, notFound } from '../errors.js';
import type { EventService, NewEvent } from '../events/index.js';
import type { Clock } from '../lib/clock.js';
import type { Ids } from '../lib/ids.js';
import type { ProposalRepository } from '../thread/index.js';
import type { QuestionRepository } from '../workers/index.js';
import { HISTORY_COUNT_CAP, type InboxRepository, type NewInboxItem } from './inbox.repository.js';

/** Where new items worth a push are announced (the push dispatcher); it sends what is committed. */
export interface PushNudge {
  nudge(): void;
}

export interface InboxServiceDeps {
  db: Db;
  items: InboxRepository;
  questions: Pick<QuestionRepository, 'list' | 'byIds'>;
  proposals: Pick<ProposalRepository, 'byIds'>;
  events: Pick<EventService, 'append'>;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  push?: PushNudge;
}

/**
 * How many items of the queue, and of each other section, one answer holds; the counts tell
 * the whole. Fifty is more than two phone screens of blocked work.
 */
const QUEUE_LIMIT = 50;
const SECTION_LIMIT = 50;
const DAY_MS = 24 * 60 * 60 * 1000;
const YEAR_MS = 366 * DAY_MS;

/** The kinds of item a task's state makes (a question's item is made per question). */
type TaskItemKind = Exclude<InboxKind, 'question' | 'proposal'>;

/** What a task's state asks of the person, kind by kind: while the condition holds, its item is live. */
const TASK_CONDITIONS: ReadonlyArray<{ kind: TaskItemKind; holds: (task: Task) => boolean }> = [
  { kind: 'plan_review', holds: (task) => task.status === 'awaiting_plan_approval' },
  { kind: 'review', holds: (task) => task.status === 'awaiting_review' },
  { kind: 'failure', holds: (task) => task.status === 'failed' },
  { kind: 'stuck', holds: (task) => !!task.stuckSince && !isFinished(task) },
];

/**
 * The inbox: one attention queue. Workers' items follow their tasks (`taskChanged`, inside the
 * transaction that changes the task, so an item and its cause commit together); scripts add
 * external items. Every change publishes `inbox.updated` with the badge counts.
 */
export class InboxService {
  constructor(private readonly deps: InboxServiceDeps) {}

  /** GET /api/inbox: the sections, each as it is now. */
  async view(userId: string, filter: { projectId?: string } = {}): Promise<InboxResponse> {
    const { db, items, clock } = this.deps;
    const now = clock.now();
    // Four statements at most (five while proposals wait), one after another on one connection:
    // on a busy machine that beats many at once (bench/inbox.bench.ts).
    return db.connection().execute(async (connection) => {
      const { queue, sleeping } = await items.live(connection, userId, now, {
        ...filter,
        queueLimit: QUEUE_LIMIT,
        sleepingLimit: SECTION_LIMIT,
      });
      const sections = await items.sections(connection, userId, {
        ...filter,
        completedSince: new Date(now.getTime() - DAY_MS),
        limit: SECTION_LIMIT,
        ids: [...new Set(queue.flatMap((item) => (item.taskId ? [item.taskId] : [])))],
      });
      const questionIds = queue.flatMap((item) => (item.questionId ? [item.questionId] : []));
      const questions = questionIds.length ? await this.deps.questions.byIds(connection, userId, questionIds) : [];
      const proposalIds = queue.flatMap((item) => (item.proposalId ? [item.proposalId] : []));
      const proposals = proposalIds.length ? await this.deps.proposals.byIds(connection, userId, proposalIds) : [];
      // The badge counts every project, as `inbox.updated` does; the history count follows the filter.
      const { history, ...counts } = await items.summary(connection, userId, now, filter);
      const questionById = new Map(questions.map((question) => [question.id, question]));
      const proposalById = new Map(proposals.map((proposal) => [proposal.id, proposal]));
      return {
        needsYou: queue.map((item) => {
          const task = item.taskId ? sections.byId.get(item.taskId) : undefined;
          const question = item.questionId ? questionById.get(item.questionId) : undefined;
          const proposal = item.proposalId ? proposalById.get(item.proposalId) : undefined;
          return {
            ...item,
            ...(task ? { task } : {}),
            ...(question ? { question } : {}),
            ...(proposal ? { proposal } : {}),
          };
        }),
        active: sections.active,
        failures: sections.failed,
        completed: sections.completed,
        history: history > HISTORY_COUNT_CAP ? { count: HISTORY_COUNT_CAP, more: true } : { count: history },
        snoozed: sleeping,
        counts,
      };
    });
  }

  /** GET /api/inbox/history: done items, newest first, searchable. */
  async history(userId: string, query: InboxHistoryQuery): Promise<InboxHistoryResponse> {
    const { db, items } = this.deps;
    let before: { doneAt: Date; id: string } | undefined;
    if (query.before) {
      const from = await items.find(db, userId, query.before);
      if (!from?.doneAt) throw notFound(`history item ${query.before}`);
      before = { doneAt: new Date(from.doneAt), id: from.id };
    }
    const page = await items.history(db, userId, {
      ...(query.projectId ? { projectId: query.projectId } : {}),
      ...(query.q ? { q: query.q } : {}),
      ...(before ? { before } : {}),
      limit: query.limit + 1,
    });
    return { items: page.slice(0, query.limit), hasMore: page.length > query.limit };
  }

  async get(userId: string, id: string): Promise<InboxItem> {
    const item = await this.deps.items.find(this.deps.db, userId, id);
    if (!item) throw notFound(`inbox item ${id}`);
    return item;
  }

  /**
   * POST /api/inbox/items: an external item. The same dedupeKey updates the live item that has
   * it: the title, and whatever else is given (what is left out stays).
   */
  async post(userId: string, request: CreateInboxItemRequest, poster: { source?: string } = {}): Promise<InboxItem> {
    const { db, items, clock, ids } = this.deps;
    const id = ids.id();
    const priority = request.priority ?? 'normal';
    const item: NewInboxItem = {
      id,
      userId,
      kind: 'external',
      priority,
      title: request.title,
      body: request.body ?? null,
      url: request.url ?? null,
      source: request.source ?? poster.source ?? null,
      dedupeKey: request.dedupeKey ?? `external:${id}`,
      replies: request.url ? ['open', 'done', 'snooze'] : ['done', 'snooze'],
      pushState: pushStateFor('external', priority),
      at: clock.now(),
    };
    const stored = await db.transaction().execute(async (trx) => {
      const given = new Set(
        (['body', 'priority', 'url', 'source'] as const).filter((field) => request[field] !== undefined),
      );
      if (poster.source) given.add('source');
      const { item: saved } = await items.upsert(trx, item, given);
      await this.publishCounts(trx, userId);
      return saved;
    });
    this.nudgeIf([item]);
    return stored;
  }

  /**
   * The person is done with it: it leaves the queue on every device (done again changes nothing).
   * An item that does not offer `done` waits on the person for work to go on (a plan, a review, a
   * question, a proposal): putting it away would hide that work, so it answers 409 with what
   * resolves it instead.
   */
  async done(userId: string, id: string): Promise<InboxItem> {
    const { db, items, clock } = this.deps;
    return db.transaction().execute(async (trx) => {
      const current = await items.find(trx, userId, id, { forUpdate: true });
      if (!current) throw notFound(`inbox item ${id}`);
      if (current.state === 'done') return current;
      if (!current.replies.includes('done')) throw stillWaiting(current);
      const done = (await items.markDone(trx, userId, id, clock.now()))!;
      await this.publishCounts(trx, userId);
      return done;
    });
  }

  /** Out of the queue until `until` (in the future, within a year); then it is back where it was. */
  async snooze(userId: string, id: string, until: string): Promise<InboxItem> {
    const { db, items, clock } = this.deps;
    const now = clock.now();
    const at = new Date(until);
    if (!(at.getTime() > now.getTime())) {
      throw new DomainError('VALIDATION_FAILED', `until: ${until} is not in the future`, {
        details: { issues: [{ path: 'until', message: 'must be in the future' }] },
      });
    }
    if (at.getTime() - now.getTime() > YEAR_MS) {
      throw new DomainError('VALIDATION_FAILED', 'until: snooze for at most a year', {
        details: { issues: [{ path: 'until', message: 'at most a year ahead' }] },
      });
    }
    return db.transaction().execute(async (trx) => {
      const current = await items.find(trx, userId, id, { forUpdate: true });
      if (!current) throw notFound(`inbox item ${id}`);
      if (current.state === 'done')
        throw new DomainError('CONFLICT', `inbox item ${id} is done; there is nothing to snooze`);
      const snoozed = (await items.snooze(trx, userId, id, at, now))!;
      await this.publishCounts(trx, userId);
      return snoozed;
    });
  }

  /** Snoozed items whose time has come go back to the queue; each user hears `inbox.updated`. */
  async wakeDue(): Promise<number> {
    const { db, items, clock } = this.deps;
    return db.transaction().execute(async (trx) => {
      const users = await items.wakeDue(trx, clock.now());
      for (const userId of users) await this.publishCounts(trx, userId);
      return users.length;
    });
  }

  /**
   * A task changed (or was created: no `before`), inside the transaction that changes it: the
   * items its new state asks for are added, those whose cause went away are done. Answers the
   * `inbox.updated` to publish (none when the counts cannot have changed), for the caller to
   * append with its own events.
   */
  async taskChanged(trx: Trx, userId: string, before: Task | undefined, after: Task): Promise<NewEvent[]> {
    const { items, clock, ids } = this.deps;
    const at = clock.now();
    const ended: InboxKind[] = TASK_CONDITIONS.filter(({ holds }) => before && holds(before) && !holds(after)).map(
      ({ kind }) => kind,
    );
    if (before?.needsInput && !after.needsInput) ended.push('question');
    let changed = false;
    if (isFinished(after) && before && !isFinished(before))
      changed = (await items.resolveForTask(trx, after.id, at)) > 0;
    else if (ended.length) changed = (await items.resolveForTask(trx, after.id, at, ended)) > 0;

    const added: NewInboxItem[] = [];
    for (const { kind, holds } of TASK_CONDITIONS) {
      if (holds(after) && !(before && holds(before))) added.push(taskItem(kind, userId, after, ids.id(), at));
    }
    if (after.needsInput && !before?.needsInput) {
      const asked = await this.openQuestions(trx, userId, after.id);
      // A millisecond apart: the queue (oldest first) keeps the order they were asked in.
      asked.forEach((question, index) =>
        added.push(questionItem(userId, after, question, ids.id(), new Date(at.getTime() + index))),
      );
    }
    for (const item of added) if (await items.insert(trx, item)) changed = true;

    const counted =
      !before ||
      before.status !== after.status ||
      before.needsInput !== after.needsInput ||
      (before.projectId ?? null) !== (after.projectId ?? null);
    this.nudgeIf(added);
    if (!changed && !counted) return [];
    return [{ type: 'inbox.updated', data: { counts: await this.deps.items.counts(trx, userId, at) } }];
  }

  /** A question was answered (or cancelled) inside the caller's transaction: its item is done. */
  async questionResolved(trx: Trx, userId: string, questionId: string): Promise<void> {
    if ((await this.deps.items.resolveCause(trx, { questionId }, this.deps.clock.now())) > 0) {
      await this.publishCounts(trx, userId);
    }
  }

  /**
   * A proposal was made, confirmed or dismissed, inside the transaction that changes it: a pending
   * proposal has its item (made once: the proposal's id is its dedupe key), a decided one's item is
   * done. Answers the `inbox.updated` to publish, for the caller to append with `proposal.updated`.
   */
  async proposalChanged(trx: Trx, userId: string, proposal: Proposal): Promise<NewEvent[]> {
    const { items, clock, ids } = this.deps;
    const at = clock.now();
    let changed: boolean;
    if (proposal.status === 'pending') {
      const item = await this.proposalItem(trx, userId, proposal, ids.id(), at);
      changed = (await items.insert(trx, item)) !== undefined;
    } else {
      changed = (await items.resolveCause(trx, { proposalId: proposal.id }, at)) > 0;
    }
    if (!changed) return [];
    return [{ type: 'inbox.updated', data: { counts: await items.counts(trx, userId, at) } }];
  }

  /** `inbox.updated` with the badge counts, in the caller's transaction. */
  async publishCounts(db: Queryable, userId: string): Promise<void> {
    const counts = await this.deps.items.counts(db, userId, this.deps.clock.now());
    await this.deps.events.append(db, userId, 'inbox.updated', { counts });
  }

  private nudgeIf(added: readonly NewInboxItem[]): void {
    if (added.some((item) => item.pushState === 'pending')) this.deps.push?.nudge();
  }

  private async proposalItem(
    db: Queryable,
    userId: string,
    proposal: Proposal,
    id: string,
    at: Date,
  ): Promise<NewInboxItem> {
    const common = {
      id,
      userId,
      kind: 'proposal' as const,
      priority: 'high' as const,
      source: 'thread',
      proposalId: proposal.id,
      dedupeKey: `proposal:${proposal.id}`,
      pushState: pushStateFor('proposal', 'high'),
      at,
    };
    if (proposal.kind === 'cancel_task') {
      const { taskId, reason } = proposal.payload as CancelTaskPayload;
      const task = await this.deps.items.taskSummary(db, userId, taskId);
      return {
        ...common,
        title: `Proposed: cancel “${task?.title ?? taskId}”`,
        body: reason ?? null,
        url: `/tasks/${taskId}`,
        projectId: task?.projectId ?? null,
        replies: ['confirm', 'dismiss', 'open', 'snooze'],
      };
    }
    const spec = proposal.payload as TaskSpec;
    return {
      ...common,
      title: `Proposed: ${spec.title}`,
      body: clip(spec.prompt, 500),
      projectId: spec.projectId ?? null,
      replies: ['confirm', 'dismiss', 'snooze'],
    };
  }

  private openQuestions(db: Queryable, userId: string, taskId: string): Promise<Question[]> {
    return this.deps.questions.list(db, userId, { status: 'open', taskId, limit: 50 });
  }
}

/** Worth a buzz: what blocks a worker, and external items marked urgent or high. */
export function pushStateFor(kind: InboxKind, priority: Priority): PushState {
  if (BLOCKING_KINDS.includes(kind)) return 'pending';
  if (kind === 'external' && (priority === 'urgent' || priority === 'high')) return 'pending';
  return 'none';
}

function isFinished(task: Task): boolean {
  return task.status === 'completed' || task.status === 'cancelled';
}

/**
 * What a task's item offers. A plan or a review holds its task until the person decides: no
 * `done` (the task would vanish from every section), only what resolves it, or a snooze. A stuck
 * task is still at work (it stays under active), so seeing it is enough.
 */
const TASK_REPLIES: Record<TaskItemKind, InboxReply[]> = {
  plan_review: ['approve', 'revise', 'cancel', 'open', 'snooze'],
  review: ['approve', 'request_changes', 'cancel', 'open', 'snooze'],
  failure: ['retry', 'cancel', 'open'],
  stuck: ['cancel', 'open', 'done'],
  notification: ['open', 'done'],
  external: ['done', 'snooze'],
};

/** 409 for `done` on an item that still holds up work, saying what resolves it. */
function stillWaiting(item: InboxItem): DomainError {
  const offers = item.replies.filter((reply) => REPLY_WORDS[reply]).map((reply) => REPLY_WORDS[reply]!);
  const what = WAITING_WORDS[item.kind] ?? 'This item';
  return new DomainError(
    'ITEM_STILL_WAITING',
    `${what} still waits on you, so it cannot be put away: ${joinOr(offers)}.`,
    { details: { kind: item.kind, replies: item.replies } },
  );
}

const WAITING_WORDS: Partial<Record<InboxKind, string>> = {
  plan_review: 'This plan',
  review: 'This review',
  question: 'This question',
  proposal: 'This proposal',
  failure: 'This failed task',
};
const REPLY_WORDS: Partial<Record<InboxReply, string>> = {
  answer: 'answer it',
  approve: 'approve it',
  revise: 'ask for a revision',
  request_changes: 'request changes',
  retry: 'retry it',
  cancel: 'cancel the task',
  confirm: 'confirm it',
  dismiss: 'dismiss it',
  snooze: 'snooze it',
};

function joinOr(words: string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

function taskItem(kind: TaskItemKind, userId: string, task: Task, id: string, at: Date): NewInboxItem {
  const priority: Priority = kind === 'failure' ? 'normal' : 'high';
  return {
    id,
    userId,
    kind,
    priority,
    title: taskTitle(kind, task),
    body: taskBody(kind, task) ?? null,
    url: `/tasks/${task.id}`,
    source: 'worker',
    taskId: task.id,
    projectId: task.projectId ?? null,
    dedupeKey: `task:${task.id}:${kind}`,
    replies: TASK_REPLIES[kind],
    pushState: pushStateFor(kind, priority),
    at,
  };
}

function questionItem(userId: string, task: Task, question: Question, id: string, at: Date): NewInboxItem {
  return {
    id,
    userId,
    kind: 'question',
    priority: 'high',
    title: clip(question.text, 200),
    body: `${taskReference(task)} ${task.title}${question.header ? ` · ${question.header}` : ''}`,
    url: `/tasks/${task.id}`,
    source: 'worker',
    taskId: task.id,
    questionId: question.id,
    projectId: task.projectId ?? null,
    dedupeKey: `question:${question.id}`,
    replies: ['answer', 'open', 'snooze'],
    pushState: pushStateFor('question', 'high'),
    at,
  };
}

function taskTitle(kind: InboxKind, task: Task): string {
  const name = `${taskReference(task)} ${task.title}`;
  switch (kind) {
    case 'plan_review':
      return `Plan ready: ${name}`;
    case 'review':
      return `Ready for review: ${name}`;
    case 'failure':
      return `Failed: ${name}`;
    case 'stuck':
      return `Stuck: ${name}`;
    default:
      return name;
  }
}

function taskBody(kind: InboxKind, task: Task): string | undefined {
  if (kind === 'plan_review') return task.plan ? clip(task.plan, 500) : undefined;
  if (kind === 'failure') return task.error ? clip(task.error, 500) : undefined;
  if (kind === 'stuck') return task.stuckSince ? `No output since ${task.stuckSince}.` : undefined;
  if (kind === 'review' && task.review) {
    const { review } = task;
    const files = `${review.files.length} file${review.files.length === 1 ? '' : 's'} changed, +${review.additions} −${review.deletions}`;
    const checks = review.checks
      ? `checks ${review.checks.passed ? 'passed' : 'failed'}${review.checks.rounds > 1 ? ` after ${review.checks.rounds} rounds` : ''}`
      : 'no checks';
    return [files, checks, review.summary ? clip(review.summary, 300) : undefined].filter(Boolean).join(' · ');
  }
  return undefined;
}

function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
