import { sql, type Selectable } from 'kysely';
import type { CreateTaskRequest, Runtime, Task, TaskMerge, TaskReview, TaskStatus } from '../../contract/tasks.js';
import type { Usage } from '../../contract/thread.js';
import type { Queryable } from '../db/database.js';
import type { TasksTable } from '../db/schema.js';

/** Statuses a task does not leave: nothing runs, nothing can be cancelled. */
export const FINISHED_TASK_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

export interface TaskChanges {
  status?: TaskStatus;
  needsInput?: boolean;
  error?: string | null;
  attempt?: number;
  branch?: string;
  baseCommit?: string;
  plan?: string | null;
  review?: TaskReview | null;
  merge?: TaskMerge | null;
  sessionId?: string | null;
  usage?: Usage | null;
  /** when work first started: kept once set */
  startedAt?: Date;
  stuckSince?: Date | null;
}

/** What a task's workflow keeps on the task beyond the API's Task. */
export interface TaskInternals {
  baseCommit: string | null;
  sessionId: string | null;
  startedAt: Date | null;
}

/** Tasks as stored; every query is scoped to one user. */
export class TaskRepository {
  /**
   * Stores a new task with the next number of its user's. Call inside the transaction that creates
   * it: the user's row in `task_numbers` stays locked until it commits, so two tasks made at once
   * take turns and never share a number.
   */
  async insert(
    db: Queryable,
    task: { id: string; userId: string; spec: CreateTaskRequest; runtime: Runtime; skipPlan: boolean; at: Date },
  ): Promise<Task> {
    const { spec } = task;
    const { last } = await db
      .insertInto('task_numbers')
      .values({ user_id: task.userId, last: 1 })
      .onConflict((conflict) =>
        conflict.column('user_id').doUpdateSet((eb) => ({ last: eb('task_numbers.last', '+', 1) })),
      )
      .returning('last')
      .executeTakeFirstOrThrow();
    const row = await db
      .insertInto('tasks')
      .values({
        id: task.id,
        user_id: task.userId,
        number: last,
        title: spec.title,
        prompt: spec.prompt,
        project_id: spec.projectId ?? null,
        runtime: task.runtime,
        model: spec.model ?? null,
        command: spec.command ?? null,
        skip_plan: task.skipPlan,
        created_at: task.at,
        updated_at: task.at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toTask(row);
  }

  async find(
    db: Queryable,
    userId: string,
    id: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<Task | undefined> {
    let query = db.selectFrom('tasks').selectAll().where('user_id', '=', userId).where('id', '=', id);
    if (options.forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row && toTask(row);
  }

  /** Newest first. */
  async list(
    db: Queryable,
    userId: string,
    filter: { status?: TaskStatus; projectId?: string; limit: number },
  ): Promise<Task[]> {
    let query = db.selectFrom('tasks').selectAll().where('user_id', '=', userId);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.projectId) query = query.where('project_id', '=', filter.projectId);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').limit(filter.limit).execute();
    return rows.map(toTask);
  }

  /** The tasks still in play (not completed, failed or cancelled), newest first. */
  async listOpen(db: Queryable, userId: string, limit: number): Promise<Task[]> {
    const rows = await db
      .selectFrom('tasks')
      .selectAll()
      .where('user_id', '=', userId)
      .where('status', 'not in', FINISHED_TASK_STATUSES)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toTask);
  }

  async update(db: Queryable, userId: string, id: string, changes: TaskChanges, at: Date): Promise<Task | undefined> {
    const row = await db
      .updateTable('tasks')
      .set({
        ...(changes.status !== undefined ? { status: changes.status } : {}),
        ...(changes.needsInput !== undefined ? { needs_input: changes.needsInput } : {}),
        ...(changes.error !== undefined ? { error: changes.error } : {}),
        ...(changes.attempt !== undefined ? { attempt: changes.attempt } : {}),
        ...(changes.branch !== undefined ? { branch: changes.branch } : {}),
        ...(changes.baseCommit !== undefined ? { base_commit: changes.baseCommit } : {}),
        ...(changes.plan !== undefined ? { plan: changes.plan } : {}),
        ...(changes.review !== undefined ? { review: changes.review && JSON.stringify(changes.review) } : {}),
        ...(changes.merge !== undefined ? { merge: changes.merge && JSON.stringify(changes.merge) } : {}),
        ...(changes.sessionId !== undefined ? { session_id: changes.sessionId } : {}),
        ...(changes.usage !== undefined ? { usage: changes.usage && JSON.stringify(changes.usage) } : {}),
        ...(changes.startedAt !== undefined
          ? { started_at: sql<Date>`coalesce(started_at, ${changes.startedAt})` }
          : {}),
        ...(changes.stuckSince !== undefined ? { stuck_since: changes.stuckSince } : {}),
        updated_at: sql<Date>`greatest(updated_at, ${at})`,
      })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toTask(row);
  }

  async internals(db: Queryable, id: string): Promise<TaskInternals | undefined> {
    const row = await db
      .selectFrom('tasks')
      .select(['base_commit', 'session_id', 'started_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row && { baseCommit: row.base_commit, sessionId: row.session_id, startedAt: row.started_at };
  }

  /** Every user's tasks that have not finished (the start-up sweep). */
  async listUnfinished(db: Queryable): Promise<Array<Task & { userId: string }>> {
    const rows = await db
      .selectFrom('tasks')
      .selectAll()
      .where('status', 'not in', FINISHED_TASK_STATUSES)
      .orderBy('created_at')
      .execute();
    return rows.map((row) => ({ ...toTask(row), userId: row.user_id }));
  }

  /** A task with its owner and internals, for the workflow, which knows a task by id only: one read. */
  async findForWork(
    db: Queryable,
    id: string,
  ): Promise<(Task & { userId: string; internals: TaskInternals }) | undefined> {
    const row = await db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
    return (
      row && {
        ...toTask(row),
        userId: row.user_id,
        internals: { baseCommit: row.base_commit, sessionId: row.session_id, startedAt: row.started_at },
      }
    );
  }

  /** The owner of a task, for the workflow, which only knows the task's id. */
  async ownerOf(db: Queryable, id: string): Promise<string | undefined> {
    const row = await db.selectFrom('tasks').select('user_id').where('id', '=', id).executeTakeFirst();
    return row?.user_id;
  }
}

export function toTask(row: Selectable<TasksTable>): Task {
  return {
    id: row.id,
    number: row.number,
    title: row.title,
    prompt: row.prompt,
    projectId: row.project_id,
    runtime: row.runtime as Runtime,
    ...(row.model ? { model: row.model } : {}),
    ...(row.command ? { command: row.command } : {}),
    skipPlan: row.skip_plan,
    status: row.status as TaskStatus,
    needsInput: row.needs_input,
    attempt: row.attempt,
    ...(row.branch ? { branch: row.branch } : {}),
    ...(row.plan ? { plan: row.plan } : {}),
    ...(row.review ? { review: row.review } : {}),
    ...(row.merge ? { merge: row.merge } : {}),
    ...(row.error ? { error: row.error } : {}),
    ...(row.usage ? { usage: row.usage } : {}),
    ...(row.stuck_since ? { stuckSince: row.stuck_since.toISOString() } : {}),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
