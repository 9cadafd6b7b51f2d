import { sql, type Selectable } from 'kysely';
import {
  BLOCKING_KINDS,
  PRIORITIES,
  type InboxCounts,
  type InboxItem,
  type InboxKind,
  type InboxReply,
  type Priority,
} from '../../contract/inbox.js';
import type { Task, TaskStatus } from '../../contract/tasks.js';
import type { Queryable } from '../db/database.js';
import type { InboxItemsTable, PushState, TasksTable } from '../db/schema.js';
import { toTask } from '../tasks/index.js';

/** The history count is exact up to this; past it, the inbox says "more". */
export const HISTORY_COUNT_CAP = 1_000;

/** Task statuses of work going on without the person. */
export const ACTIVE_TASK_STATUSES: readonly TaskStatus[] = ['queued', 'planning', 'implementing', 'checking'];

export interface NewInboxItem {
  id: string;
  userId: string;
  kind: InboxKind;
  priority: Priority;
  title: string;
  body?: string | null;
  url?: string | null;
  source?: string | null;
  taskId?: string | null;
  questionId?: string | null;
  proposalId?: string | null;
  projectId?: string | null;
  dedupeKey: string;
  replies: InboxReply[];
  pushState: PushState;
  at: Date;
}

/** What posting an item again with its dedupe key may change besides the title. */
export type UpdatableField = 'body' | 'priority' | 'url' | 'source';

export interface ProjectFilter {
  projectId?: string;
}

/**
 * Inbox items as stored, every query scoped to one user. The inbox is a view across the user's
 * work, so its section queries also read `tasks` (through the tasks module's row mapper).
 */
export class InboxRepository {
  /** Adds an item unless a live one has its key (a step run again adds nothing); returns it when added. */
  async insert(db: Queryable, item: NewInboxItem): Promise<InboxItem | undefined> {
    const row = await db
      .insertInto('inbox_items')
      .values(toRow(item))
      .onConflict((conflict) => conflict.columns(['user_id', 'dedupe_key']).where('state', '<>', 'done').doNothing())
      .returningAll()
      .executeTakeFirst();
    return row && toItem(row);
  }

  /**
   * Adds the item, or updates the live item with its key: its title, and of body, priority, url
   * and source those `given` (the rest stay as they were). An update never pushes twice, but may
   * make a quiet item worth a push once.
   */
  async upsert(
    db: Queryable,
    item: NewInboxItem,
    given: ReadonlySet<UpdatableField>,
  ): Promise<{ item: InboxItem; created: boolean }> {
    const row = await db
      .insertInto('inbox_items')
      .values(toRow(item))
      .onConflict((conflict) =>
        conflict
          .columns(['user_id', 'dedupe_key'])
          .where('state', '<>', 'done')
          .doUpdateSet({
            title: (eb) => eb.ref('excluded.title'),
            body: (eb) => eb.ref(given.has('body') ? 'excluded.body' : 'inbox_items.body'),
            priority: (eb) => eb.ref(given.has('priority') ? 'excluded.priority' : 'inbox_items.priority'),
            url: (eb) => eb.ref(given.has('url') ? 'excluded.url' : 'inbox_items.url'),
            // what can be done with it follows its url
            replies: (eb) => eb.ref(given.has('url') ? 'excluded.replies' : 'inbox_items.replies'),
            source: (eb) => eb.ref(given.has('source') ? 'excluded.source' : 'inbox_items.source'),
            updated_at: (eb) => eb.ref('excluded.updated_at'),
            push_state: sql<PushState>`case when inbox_items.push_state = 'none' then excluded.push_state else inbox_items.push_state end`,
          }),
      )
      .returningAll()
      .returning(sql<boolean>`xmax = 0`.as('inserted'))
      .executeTakeFirstOrThrow();
    return { item: toItem(row), created: row.inserted };
  }

  async find(
    db: Queryable,
    userId: string,
    id: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<InboxItem | undefined> {
    let query = db.selectFrom('inbox_items').selectAll().where('user_id', '=', userId).where('id', '=', id);
    if (options.forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row && toItem(row);
  }

  /** The person marked it done. */
  async markDone(db: Queryable, userId: string, id: string, at: Date): Promise<InboxItem | undefined> {
    const row = await db
      .updateTable('inbox_items')
      .set(doneAt(at, 'person'))
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toItem(row);
  }

  async snooze(db: Queryable, userId: string, id: string, until: Date, at: Date): Promise<InboxItem | undefined> {
    const row = await db
      .updateTable('inbox_items')
      .set({ state: 'snoozed', snoozed_until: until, updated_at: at })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toItem(row);
  }

  /**
   * Their cause went away (a question answered, a plan decided, a task retried or cancelled):
   * the task's live items of these kinds (all kinds when none given) are done. Returns how many.
   */
  async resolveForTask(db: Queryable, taskId: string, at: Date, kinds?: readonly InboxKind[]): Promise<number> {
    let query = db
      .updateTable('inbox_items')
      .set(doneAt(at, 'resolved'))
      .where('task_id', '=', taskId)
      .where('state', '<>', 'done');
    if (kinds) query = query.where('kind', 'in', kinds);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** A question was answered, or a proposal decided: its live item is done. Returns how many. */
  async resolveCause(db: Queryable, cause: { questionId: string } | { proposalId: string }, at: Date): Promise<number> {
    const [column, id] =
      'questionId' in cause
        ? (['question_id', cause.questionId] as const)
        : (['proposal_id', cause.proposalId] as const);
    const result = await db
      .updateTable('inbox_items')
      .set(doneAt(at, 'resolved'))
      .where(column, '=', id)
      .where('state', '<>', 'done')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** The title and project of one of the user's tasks (what a proposal to cancel it is about). */
  async taskSummary(
    db: Queryable,
    userId: string,
    taskId: string,
  ): Promise<{ title: string; projectId: string | null } | undefined> {
    const row = await db
      .selectFrom('tasks')
      .select(['title', 'project_id'])
      .where('user_id', '=', userId)
      .where('id', '=', taskId)
      .executeTakeFirst();
    return row && { title: row.title, projectId: row.project_id };
  }

  /**
   * The live items, in one statement: the queue — open items and snoozed ones whose time has
   * come (failures have their own section): what blocks a worker first, longest blocked first,
   * then the rest by priority, oldest first — and the snoozed ones still asleep, soonest first.
   */
  async live(
    db: Queryable,
    userId: string,
    now: Date,
    filter: ProjectFilter & { queueLimit: number; sleepingLimit: number },
  ): Promise<{ queue: InboxItem[]; sleeping: InboxItem[] }> {
    const project = filter.projectId ? sql`and project_id = ${filter.projectId}` : sql``;
    const blocking = sql`kind in (${sql.join(BLOCKING_KINDS)})`;
    const rank = sql`case when ${blocking} then 0 else array_position(array[${sql.join(PRIORITIES)}]::text[], priority) end`;
    const { rows } = await sql<Selectable<InboxItemsTable> & { section: 'queue' | 'sleeping' }>`
      select * from (
        (select 'queue' as section, i.*,
                row_number() over (order by ${blocking} desc, ${rank}, created_at, id) as ord
           from inbox_items i
          where user_id = ${userId} and state <> 'done' and kind <> 'failure'
            and (state = 'open' or snoozed_until <= ${now}) ${project}
          order by ord limit ${filter.queueLimit})
        union all
        (select 'sleeping' as section, i.*, row_number() over (order by snoozed_until, id) as ord
           from inbox_items i
          where user_id = ${userId} and state = 'snoozed' and snoozed_until > ${now} ${project}
          order by ord limit ${filter.sleepingLimit})
      ) live
      order by section, ord`.execute(db);
    return {
      queue: rows.filter((row) => row.section === 'queue').map(toItem),
      sleeping: rows.filter((row) => row.section === 'sleeping').map(toItem),
    };
  }

  /** Done items, newest first, optionally those whose title or body has `q`. */
  async history(
    db: Queryable,
    userId: string,
    filter: ProjectFilter & { q?: string; before?: { doneAt: Date; id: string }; limit: number },
  ): Promise<InboxItem[]> {
    let query = db.selectFrom('inbox_items').selectAll().where('user_id', '=', userId).where('state', '=', 'done');
    if (filter.projectId) query = query.where('project_id', '=', filter.projectId);
    if (filter.q) {
      const pattern = `%${filter.q.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
      query = query.where((eb) => eb.or([eb('title', 'ilike', pattern), eb('body', 'ilike', pattern)]));
    }
    if (filter.before) {
      const { doneAt, id } = filter.before;
      query = query.where((eb) =>
        eb.or([eb('done_at', '<', doneAt), eb.and([eb('done_at', '=', doneAt), eb('id', '<', id)])]),
      );
    }
    const rows = await query.orderBy('done_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(toItem);
  }

  /** Snoozed items whose time has come are open again; returns whose they were. */
  async wakeDue(db: Queryable, now: Date): Promise<string[]> {
    const rows = await db
      .updateTable('inbox_items')
      .set({ state: 'open', snoozed_until: null, updated_at: now })
      .where('state', '=', 'snoozed')
      .where('snoozed_until', '<=', now)
      .returning('user_id')
      .execute();
    return [...new Set(rows.map((row) => row.user_id))];
  }

  /**
   * The inbox's tasks in one statement: at work (not waiting for the person), failed, completed
   * since `completedSince`, each the newest first and at most `limit`; and `ids` (the tasks the
   * queue's items are about).
   */
  async sections(
    db: Queryable,
    userId: string,
    filter: ProjectFilter & { completedSince: Date; limit: number; ids: readonly string[] },
  ): Promise<{ active: Task[]; failed: Task[]; completed: Task[]; byId: Map<string, Task> }> {
    const project = filter.projectId ? sql`and project_id = ${filter.projectId}` : sql``;
    const newest = (section: string, where: ReturnType<typeof sql>) => sql`
      (select ${section} as section, t.*, row_number() over (order by updated_at desc, id) as ord
         from tasks t where user_id = ${userId} and ${where} ${project}
        order by ord limit ${filter.limit})`;
    const { rows } = await sql<Selectable<TasksTable> & { section: 'active' | 'failed' | 'completed' | 'item' }>`
      select * from (
        ${newest('active', sql`status in (${sql.join(ACTIVE_TASK_STATUSES)}) and not needs_input`)}
        union all ${newest('failed', sql`status = 'failed'`)}
        union all ${newest('completed', sql`status = 'completed' and updated_at >= ${filter.completedSince}`)}
        union all
        (select 'item' as section, t.*, 0 as ord from tasks t
          where user_id = ${userId} and id = any(${[...filter.ids]}::text[]))
      ) sections
      order by section, ord`.execute(db);
    const of = (section: string) => rows.filter((row) => row.section === section).map(toTask);
    return {
      active: of('active'),
      failed: of('failed'),
      completed: of('completed'),
      byId: new Map(of('item').map((task) => [task.id, task])),
    };
  }

  /** The badge numbers (every project): items that need the person now, tasks at work, failed tasks. */
  async counts(db: Queryable, userId: string, now: Date): Promise<InboxCounts> {
    const { history: _, ...counts } = await this.summary(db, userId, now, {});
    return counts;
  }

  /**
   * The badge numbers (every project) and how many done items the history holds (filtered;
   * counted up to HISTORY_COUNT_CAP + 1, never all of it), in one statement.
   */
  async summary(
    db: Queryable,
    userId: string,
    now: Date,
    filter: ProjectFilter,
  ): Promise<InboxCounts & { history: number }> {
    const project = filter.projectId ? sql`and project_id = ${filter.projectId}` : sql``;
    const { rows } = await sql<InboxCounts & { history: number }>`
      select
        (select count(*)::int from inbox_items
          where user_id = ${userId} and state <> 'done' and kind <> 'failure'
            and (state = 'open' or snoozed_until <= ${now})) as "needsYou",
        (select count(*)::int from tasks
          where user_id = ${userId} and status in (${sql.join(ACTIVE_TASK_STATUSES)}) and not needs_input) as active,
        (select count(*)::int from tasks where user_id = ${userId} and status = 'failed') as failures,
        (select count(*)::int from (
          select 1 from inbox_items where user_id = ${userId} and state = 'done' ${project}
          limit ${HISTORY_COUNT_CAP + 1}) done) as history
    `.execute(db);
    return rows[0]!;
  }
}

/** Resolving an item before its push went out means it never goes. */
const unsent = sql<PushState>`case when push_state in ('pending', 'held') then 'skipped' else push_state end`;

/** What marks an item done: by the person, or resolved with its cause. */
function doneAt(at: Date, resolution: 'person' | 'resolved') {
  return { state: 'done', done_at: at, updated_at: at, resolution, snoozed_until: null, push_state: unsent } as const;
}

function toRow(item: NewInboxItem) {
  return {
    id: item.id,
    user_id: item.userId,
    kind: item.kind,
    priority: item.priority,
    title: item.title,
    body: item.body ?? null,
    url: item.url ?? null,
    source: item.source ?? null,
    task_id: item.taskId ?? null,
    question_id: item.questionId ?? null,
    proposal_id: item.proposalId ?? null,
    project_id: item.projectId ?? null,
    dedupe_key: item.dedupeKey,
    replies: JSON.stringify(item.replies),
    push_state: item.pushState,
    created_at: item.at,
    updated_at: item.at,
  };
}

export function toItem(row: Selectable<InboxItemsTable>): InboxItem {
  return {
    id: row.id,
    kind: row.kind,
    priority: row.priority,
    title: row.title,
    ...(row.body !== null ? { body: row.body } : {}),
    ...(row.url !== null ? { url: row.url } : {}),
    ...(row.source !== null ? { source: row.source } : {}),
    ...(row.task_id !== null ? { taskId: row.task_id } : {}),
    ...(row.question_id !== null ? { questionId: row.question_id } : {}),
    ...(row.proposal_id ? { proposalId: row.proposal_id } : {}),
    ...(row.project_id !== null ? { projectId: row.project_id } : {}),
    dedupeKey: row.dedupe_key,
    replies: row.replies,
    state: row.state,
    ...(row.snoozed_until ? { snoozedUntil: row.snoozed_until.toISOString() } : {}),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(row.done_at ? { doneAt: row.done_at.toISOString() } : {}),
  };
}
