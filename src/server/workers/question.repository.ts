import { sql, type Selectable } from 'kysely';
import type { Question } from '../../contract/questions.js';
import type { Queryable } from '../db/database.js';
import type { QuestionsTable } from '../db/schema.js';
import type { AskedQuestion } from './runtime.js';

/** Questions as stored; every query is scoped to one user. */
export class QuestionRepository {
  /** Stores what the agent asked at once (one ask); asking again under the same ask id changes nothing. */
  async insertAsk(
    db: Queryable,
    ask: { userId: string; taskId: string; askId: string; questions: AskedQuestion[]; ids: string[]; at: Date },
  ): Promise<Question[]> {
    const rows = await db
      .insertInto('questions')
      .values(
        ask.questions.map((question, position) => ({
          id: ask.ids[position]!,
          user_id: ask.userId,
          task_id: ask.taskId,
          ask_id: ask.askId,
          position,
          header: question.header ?? null,
          text: question.text,
          options: JSON.stringify(question.options),
          multi_select: question.multiSelect,
          created_at: ask.at,
        })),
      )
      .onConflict((conflict) => conflict.columns(['ask_id', 'position']).doNothing())
      .returningAll()
      .execute();
    return rows.map(toQuestion);
  }

  async find(
    db: Queryable,
    userId: string,
    id: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<Question | undefined> {
    let query = db.selectFrom('questions').selectAll().where('user_id', '=', userId).where('id', '=', id);
    if (options.forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row && toQuestion(row);
  }

  async list(
    db: Queryable,
    userId: string,
    filter: { status?: Question['status']; taskId?: string; limit: number },
  ): Promise<Question[]> {
    let query = db.selectFrom('questions').selectAll().where('user_id', '=', userId);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.taskId) query = query.where('task_id', '=', filter.taskId);
    const rows = await query.orderBy('created_at').orderBy('ask_id').orderBy('position').limit(filter.limit).execute();
    return rows.map(toQuestion);
  }

  /** These questions of the user's (in no particular order). */
  async byIds(db: Queryable, userId: string, ids: readonly string[]): Promise<Question[]> {
    if (!ids.length) return [];
    const rows = await db
      .selectFrom('questions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('id', 'in', ids)
      .execute();
    return rows.map(toQuestion);
  }

  async listAsk(db: Queryable, askId: string): Promise<Question[]> {
    const rows = await db.selectFrom('questions').selectAll().where('ask_id', '=', askId).orderBy('position').execute();
    return rows.map(toQuestion);
  }

  async answer(db: Queryable, id: string, answer: string | string[], at: Date): Promise<Question> {
    const row = await db
      .updateTable('questions')
      .set({ status: 'answered', answer: JSON.stringify(answer), answered_at: at })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toQuestion(row);
  }

  /** Closes a task's open questions (the task was cancelled); returns them as they are now. */
  async cancelOpen(db: Queryable, taskId: string): Promise<Question[]> {
    const rows = await db
      .updateTable('questions')
      .set({ status: 'cancelled' })
      .where('task_id', '=', taskId)
      .where('status', '=', 'open')
      .returningAll()
      .execute();
    return rows.map(toQuestion);
  }

  async countOpen(db: Queryable, taskId: string): Promise<number> {
    const row = await db
      .selectFrom('questions')
      .select(sql<number>`count(*)::int`.as('count'))
      .where('task_id', '=', taskId)
      .where('status', '=', 'open')
      .executeTakeFirstOrThrow();
    return row.count;
  }
}

export function toQuestion(row: Selectable<QuestionsTable>): Question {
  return {
    id: row.id,
    taskId: row.task_id,
    askId: row.ask_id,
    ...(row.header ? { header: row.header } : {}),
    text: row.text,
    options: row.options,
    multiSelect: row.multi_select,
    status: row.status,
    ...(row.answer !== null ? { answer: row.answer } : {}),
    createdAt: row.created_at.toISOString(),
    ...(row.answered_at ? { answeredAt: row.answered_at.toISOString() } : {}),
  };
}
