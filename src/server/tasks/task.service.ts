import type { Logger } from 'pino';
import { CreateTaskRequest, taskReference, type Runtime, type Task, type TaskStatus } from '../../contract/tasks.js';
import type { Db, Trx } from '../db/database.js';
import { DomainError, notFound } from '../errors.js';
import type { EventService, NewEvent } from '../events/index.js';
import type { Clock } from '../lib/clock.js';
import type { Ids } from '../lib/ids.js';
import type { TaskRunner } from './task-runner.js';
import type { TaskChanges, TaskRepository } from './task.repository.js';

/**
 * The inbox's side of a task change, in the same transaction: its items follow the task's state.
 * It answers the events to publish (the inbox's counts), which go out with `task.updated` in one
 * statement, last: the user's event counter stays locked for the shortest time (decision 0005).
 */
export interface TaskAttention {
  taskChanged(trx: Trx, userId: string, before: Task | undefined, after: Task): Promise<NewEvent[]>;
}

/** Where a task reports what the person must know: a compact `event` message in the main thread. */
export interface TaskReporter {
  postEvent(userId: string, note: { content: string; taskId: string }, trx?: Trx): Promise<unknown>;
}

export interface TaskServiceDeps {
  db: Db;
  tasks: TaskRepository;
  events: Pick<EventService, 'append' | 'appendAll'>;
  runner: TaskRunner;
  reporter: TaskReporter;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  /** whether the user has this project (tasks name projects by id); without it any id is taken */
  projects?: { exists(userId: string, projectId: string): Promise<boolean> };
  /** the runtime of a task that names none (MAINLOOP_DEFAULT_RUNTIME) */
  defaultRuntime?: Runtime;
  /** the inbox (issue 5): told of every change in its transaction */
  attention?: TaskAttention;
}

/** More writes to make in the transaction that creates or changes a task (a proposal marked confirmed). */
export type WithinTransaction = (trx: Trx, task: Task) => Promise<void>;

const LIST_LIMIT = 500;

/**
 * Tasks: created from `POST /api/tasks` and from a confirmed proposal alike, listed, cancelled.
 * Every change publishes `task.updated` in its own transaction; the runner hears of it after commit.
 */
export class TaskService {
  constructor(private readonly deps: TaskServiceDeps) {}

  /** Stores a `queued` task (the default runtime unless named) and hands it to the runner. */
  async create(userId: string, spec: CreateTaskRequest, options: { within?: WithinTransaction } = {}): Promise<Task> {
    const { db, tasks, events, clock, ids } = this.deps;
    const checked = CreateTaskRequest.safeParse(spec);
    if (!checked.success) {
      const issues = checked.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
      throw new DomainError(
        'VALIDATION_FAILED',
        `invalid task: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
        { details: { issues } },
      );
    }
    const valid = checked.data;
    if (valid.projectId && this.deps.projects && !(await this.deps.projects.exists(userId, valid.projectId))) {
      throw new DomainError('VALIDATION_FAILED', `projectId: you have no project ${valid.projectId}`, {
        details: { issues: [{ path: 'projectId', message: 'no such project' }] },
      });
    }
    const runtime = valid.runtime ?? this.deps.defaultRuntime ?? 'claude-code';
    // A command has no plan phase.
    const skipPlan = runtime === 'command' ? true : (valid.skipPlan ?? false);
    const task = await db.transaction().execute(async (trx) => {
      const created = await tasks.insert(trx, {
        id: ids.id(),
        userId,
        spec: valid,
        runtime,
        skipPlan,
        at: clock.now(),
      });
      await options.within?.(trx, created);
      const inbox = (await this.deps.attention?.taskChanged(trx, userId, undefined, created)) ?? [];
      await events.appendAll(trx, userId, [...inbox, { type: 'task.updated', data: { task: created } }]);
      return created;
    });
    await this.afterCommit('enqueue', task);
    return task;
  }

  async list(userId: string, filter: { status?: TaskStatus; projectId?: string } = {}): Promise<Task[]> {
    return this.deps.tasks.list(this.deps.db, userId, { ...filter, limit: LIST_LIMIT });
  }

  /** The tasks still in play, newest first: for the main thread's context. */
  async listOpen(userId: string, limit: number): Promise<Task[]> {
    return this.deps.tasks.listOpen(this.deps.db, userId, limit);
  }

  async find(userId: string, id: string): Promise<Task | undefined> {
    return this.deps.tasks.find(this.deps.db, userId, id);
  }

  /** Another user's task is not found. */
  async get(userId: string, id: string): Promise<Task> {
    const task = await this.find(userId, id);
    if (!task) throw notFound(`task ${id}`);
    return task;
  }

  /** Marks the task cancelled (409 when it completed or was cancelled; a failed task can be) and tells the runner to stop it. */
  async cancel(userId: string, id: string, options: { within?: WithinTransaction } = {}): Promise<Task> {
    const { db, tasks, events, clock } = this.deps;
    const task = await db.transaction().execute(async (trx) => {
      const current = await tasks.find(trx, userId, id, { forUpdate: true });
      if (!current) throw notFound(`task ${id}`);
      if (current.status === 'completed' || current.status === 'cancelled') {
        throw new DomainError('CONFLICT', `task ${id} is already ${current.status}; there is nothing to cancel`);
      }
      const cancelled = (await tasks.update(trx, userId, id, { status: 'cancelled', needsInput: false }, clock.now()))!;
      await options.within?.(trx, cancelled);
      const inbox = (await this.deps.attention?.taskChanged(trx, userId, current, cancelled)) ?? [];
      await events.appendAll(trx, userId, [...inbox, { type: 'task.updated', data: { task: cancelled } }]);
      return cancelled;
    });
    await this.afterCommit('cancel', task);
    return task;
  }

  /**
   * A change reported by the task's work (issue 4's workflow calls this): stored with
   * `task.updated`, and when the task now needs the person — it failed, is ready for review,
   * has a plan to approve or a question — with a compact note in the main thread, all in one
   * transaction. The note starts no model turn; the next turn sees it in its context.
   */
  async update(userId: string, id: string, changes: TaskChanges): Promise<Task> {
    return this.deps.db.transaction().execute((trx) => this.updateWithin(trx, userId, id, changes));
  }

  /**
   * `update` inside the caller's transaction. A cancelled or completed task does not change any
   * more: a step still finishing after a cancel finds it as it is. `locked`: the task as the
   * caller read it with its row locked (not read again); `events`: more to publish, written with
   * `task.updated` in one statement, before it.
   */
  async updateWithin(
    trx: Trx,
    userId: string,
    id: string,
    changes: TaskChanges,
    options: { locked?: Task; events?: readonly NewEvent[] } = {},
  ): Promise<Task> {
    const { tasks, events, reporter, clock } = this.deps;
    const before = options.locked ?? (await tasks.find(trx, userId, id, { forUpdate: true }));
    if (!before) throw notFound(`task ${id}`);
    if (before.status === 'cancelled' || before.status === 'completed') return before;
    const after = (await tasks.update(trx, userId, id, changes, clock.now()))!;
    const inbox = (await this.deps.attention?.taskChanged(trx, userId, before, after)) ?? [];
    await events.appendAll(trx, userId, [
      ...(options.events ?? []),
      ...inbox,
      { type: 'task.updated', data: { task: after } },
    ]);
    const note = attentionNote(before, after);
    if (note) await reporter.postEvent(userId, { content: note, taskId: id }, trx);
    return after;
  }

  private async afterCommit(action: 'enqueue' | 'cancel', task: Task): Promise<void> {
    try {
      await this.deps.runner[action](task);
    } catch (error) {
      // The task is stored; issue 4's runner recovers what it missed at start-up.
      this.deps.logger.error({ err: error, taskId: task.id }, `could not ${action} a task`);
    }
  }
}

/**
 * What the thread is told when a change needs the person; undefined when it does not. A note is
 * history: it says what happened (its time is the message's), never what the task is now — the
 * person sees that on the task's live badge beside it.
 */
export function attentionNote(before: Task, after: Task): string | undefined {
  const name = `Task ${taskReference(after)} “${after.title}”`;
  if (after.status !== before.status) {
    if (after.status === 'failed') return `${name} failed${after.error ? `: ${after.error}` : ''}`;
    if (after.status === 'awaiting_review') return `${name}: ready for review`;
    if (after.status === 'awaiting_plan_approval') return `${name}: plan ready for approval`;
  }
  if (after.needsInput && !before.needsInput) return `${name}: asked a question`;
  return undefined;
}
