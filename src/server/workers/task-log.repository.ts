import { sql } from 'kysely';
import type { LogEntry, LogKind } from '../../contract/tasks.js';
import type { Queryable } from '../db/database.js';

/** A task's log: lines numbered from 1 in the order they were written. */
export class TaskLogRepository {
  /**
   * Appends lines after the task's last one. Call inside a transaction that holds the task's row
   * lock (writers of one task take turns), so the numbers have no gaps and no duplicates.
   */
  async append(
    db: Queryable,
    taskId: string,
    entries: Array<{ kind: LogKind; text: string; at: Date }>,
  ): Promise<LogEntry[]> {
    if (!entries.length) return [];
    const last = await db
      .selectFrom('task_logs')
      .select(sql<number>`coalesce(max(seq), 0)::int`.as('seq'))
      .where('task_id', '=', taskId)
      .executeTakeFirstOrThrow();
    const rows = entries.map((entry, index) => ({
      task_id: taskId,
      seq: last.seq + index + 1,
      at: entry.at,
      kind: entry.kind,
      text: entry.text,
    }));
    await db.insertInto('task_logs').values(rows).execute();
    return rows.map((row) => ({ seq: row.seq, at: row.at.toISOString(), kind: row.kind, text: row.text }));
  }

  async page(db: Queryable, taskId: string, after: number, limit: number): Promise<LogEntry[]> {
    const rows = await db
      .selectFrom('task_logs')
      .select(['seq', 'at', 'kind', 'text'])
      .where('task_id', '=', taskId)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ seq: row.seq, at: row.at.toISOString(), kind: row.kind as LogKind, text: row.text }));
  }
}
