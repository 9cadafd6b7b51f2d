import type { Queryable } from '../db/database.js';

export type DecisionKind = 'plan' | 'answers' | 'review' | 'retry';

export interface Decision {
  id: string;
  kind: DecisionKind;
  payload: Record<string, unknown>;
}

/**
 * What the person decided for a task, stored before the workflow hears of it (a `DBOS.send` only
 * wakes it). The workflow takes each decision once, inside a step.
 */
export class DecisionRepository {
  async insert(db: Queryable, taskId: string, kind: DecisionKind, payload: Record<string, unknown>): Promise<void> {
    await db
      .insertInto('task_decisions')
      .values({ task_id: taskId, kind, payload: JSON.stringify(payload) })
      .execute();
  }

  /** Whether a decision is waiting to be taken (a second one then is a conflict). */
  async hasPending(db: Queryable, taskId: string): Promise<boolean> {
    const row = await db
      .selectFrom('task_decisions')
      .select('id')
      .where('task_id', '=', taskId)
      .where('taken_at', 'is', null)
      .executeTakeFirst();
    return !!row;
  }

  /**
   * Takes the oldest waiting decision of these kinds, if any, for the wait `key`. The same key
   * again (the step ran, the process died before DBOS recorded it) gets the same decision back.
   */
  async take(
    db: Queryable,
    taskId: string,
    kinds: DecisionKind[],
    key: string,
    at: Date,
  ): Promise<Decision | undefined> {
    const taken = await db
      .selectFrom('task_decisions')
      .select(['id', 'kind', 'payload'])
      .where('task_id', '=', taskId)
      .where('taken_by', '=', key)
      .executeTakeFirst();
    if (taken) return { id: taken.id, kind: taken.kind, payload: taken.payload };
    const row = await db
      .selectFrom('task_decisions')
      .select(['id', 'kind', 'payload'])
      .where('task_id', '=', taskId)
      .where('taken_at', 'is', null)
      .where('kind', 'in', kinds)
      .orderBy('id')
      .limit(1)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    if (!row) return undefined;
    await db.updateTable('task_decisions').set({ taken_at: at, taken_by: key }).where('id', '=', row.id).execute();
    return { id: row.id, kind: row.kind, payload: row.payload };
  }

  /** Drops what is still waiting (the task was cancelled). */
  async dropPending(db: Queryable, taskId: string, at: Date): Promise<void> {
    await db
      .updateTable('task_decisions')
      .set({ taken_at: at })
      .where('task_id', '=', taskId)
      .where('taken_at', 'is', null)
      .execute();
  }
}
