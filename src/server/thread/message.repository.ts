import { sql, type Selectable } from 'kysely';
import type { Message, Usage } from '../../contract/thread.js';
import type { Queryable } from '../db/database.js';
import type { MessagesTable } from '../db/schema.js';
import type { ToolCall, ToolResult } from '../models/index.js';

export type MessageRole = MessagesTable['role'];
export type MessageStatus = MessagesTable['status'];

/** A message as stored, with the proposals its reply made. */
export interface MessageRecord {
  id: string;
  userId: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  clientId: string | null;
  replyTo: string | null;
  taskId: string | null;
  turnId: string | null;
  turnStep: number;
  usage: Usage | null;
  error: string | null;
  createdAt: Date;
  completedAt: Date | null;
  proposalIds: string[];
}

/**
 * One model request of a turn that called tools: its calls, what each returned, and how much of
 * the reply's content had been written when the model made them (the text before `at` goes with
 * these calls, the text after it with the next request).
 */
export interface ToolStep {
  at: number;
  calls: ToolCall[];
  results: ToolResult[];
}

/** What a turn's context holds of a message: for a reply, also the tool calls it made. */
export type HistoryMessage = Pick<MessageRecord, 'id' | 'role' | 'content' | 'taskId'> & {
  toolSteps?: readonly ToolStep[];
};

/** A message as recall finds it: what the context holds, and when it was written. */
export type ContextMessage = HistoryMessage & Pick<MessageRecord, 'createdAt'>;

/** Message ids are a bigint sequence; anything else names no message (and must not reach a bigint cast). */
const MESSAGE_ID = /^[1-9]\d{0,17}$/;
export const isMessageId = (id: string) => MESSAGE_ID.test(id);

/** The proposals a reply made, oldest first (an index lookup per message). */
const proposalIds = sql<
  string[]
>`array(select p.id from proposals p where p.message_id = messages.id order by p.created_at, p.id)`;

/**
 * The main thread's messages. Every read is scoped to one user and walks an index: pages by
 * (user_id, id), time ranges by (user_id, created_at), search by the full-text index; none reads
 * the whole history.
 */
export class MessageRepository {
  /**
   * Stores a user message and the empty assistant reply that will answer it (`streaming`, written
   * by the turn `turnIdPrefix` + the message's id, its first model request claimed: turn_step 1),
   * in one statement; undefined when a message with this clientId exists already (nothing is stored).
   */
  async insertUserWithReply(
    db: Queryable,
    message: { userId: string; clientId: string; content: string; turnIdPrefix: string },
  ): Promise<{ message: MessageRecord; reply: MessageRecord } | undefined> {
    const { rows } = await sql<Selectable<MessagesTable>>`
      with message as (
        insert into messages (user_id, role, status, content, client_id, completed_at)
        values (${message.userId}, 'user', 'complete', ${message.content}, ${message.clientId}, now())
        on conflict (user_id, client_id) do nothing
        returning *
      ), reply as (
        insert into messages (user_id, role, status, reply_to, turn_id, turn_step)
        select user_id, 'assistant', 'streaming', id, ${message.turnIdPrefix} || id, 1 from message
        returning *
      )
      select * from message union all select * from reply`.execute(db);
    const user = rows.find((row) => row.role === 'user');
    const reply = rows.find((row) => row.role === 'assistant');
    if (!user || !reply) return undefined;
    return { message: toRecord({ ...user, proposal_ids: [] }), reply: toRecord({ ...reply, proposal_ids: [] }) };
  }

  /** A compact note from a worker or mainloop itself (`event`), complete as stored. */
  async insertEvent(
    db: Queryable,
    event: { userId: string; content: string; taskId: string | null },
  ): Promise<MessageRecord> {
    const row = await db
      .insertInto('messages')
      .values({
        user_id: event.userId,
        role: 'event',
        status: 'complete',
        content: event.content,
        task_id: event.taskId,
        completed_at: sql<Date>`now()`,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord({ ...row, proposal_ids: [] });
  }

  async findById(db: Queryable, userId: string, id: string): Promise<MessageRecord | undefined> {
    return isMessageId(id) ? this.findBy(db, userId, 'id', id) : undefined;
  }

  async findByClientId(db: Queryable, userId: string, clientId: string): Promise<MessageRecord | undefined> {
    return this.findBy(db, userId, 'client_id', clientId);
  }

  /** The assistant reply to a user message. */
  async findReply(db: Queryable, userId: string, userMessageId: string): Promise<MessageRecord | undefined> {
    return this.findBy(db, userId, 'reply_to', userMessageId);
  }

  private async findBy(
    db: Queryable,
    userId: string,
    column: 'id' | 'client_id' | 'reply_to',
    value: string,
  ): Promise<MessageRecord | undefined> {
    const row = await db
      .selectFrom('messages')
      .selectAll('messages')
      .select(proposalIds.as('proposal_ids'))
      .where('user_id', '=', userId)
      .where(column, '=', value as never)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /** Up to `limit` messages before `beforeId` (or the newest), oldest first, and whether older ones exist. */
  async page(
    db: Queryable,
    userId: string,
    options: { beforeId?: string; limit: number },
  ): Promise<{ records: MessageRecord[]; hasMore: boolean }> {
    let query = db
      .selectFrom('messages')
      .selectAll('messages')
      .select(proposalIds.as('proposal_ids'))
      .where('user_id', '=', userId);
    if (options.beforeId) query = query.where('id', '<', options.beforeId as never);
    const rows = await query
      .orderBy('id', 'desc')
      .limit(options.limit + 1)
      .execute();
    const hasMore = rows.length > options.limit;
    return { records: rows.slice(0, options.limit).reverse().map(toRecord), hasMore };
  }

  /**
   * The messages created from `from` to `to` (both included, to the millisecond as the API
   * writes times), oldest first, at most `limit`; `hasMore` when the range holds more.
   */
  async range(
    db: Queryable,
    userId: string,
    options: { from?: Date; to?: Date; limit: number },
  ): Promise<{ records: MessageRecord[]; hasMore: boolean }> {
    let query = db
      .selectFrom('messages')
      .selectAll('messages')
      .select(proposalIds.as('proposal_ids'))
      .where('user_id', '=', userId);
    if (options.from) query = query.where('created_at', '>=', options.from);
    if (options.to) query = query.where('created_at', '<', new Date(options.to.getTime() + 1));
    const rows = await query
      .orderBy('created_at')
      .orderBy('id')
      .limit(options.limit + 1)
      .execute();
    return { records: rows.slice(0, options.limit).map(toRecord), hasMore: rows.length > options.limit };
  }

  /**
   * The newest messages (up to and including `upToId`, when given), newest first, for a turn's
   * context: without `excludeId` (the reply being written) and without replies that are not
   * complete (still streaming, or failed).
   */
  async recentForContext(
    db: Queryable,
    userId: string,
    options: { upToId?: string; excludeId?: string; limit: number },
  ): Promise<HistoryMessage[]> {
    // No created_at: nothing in the context needs it, and parsing 200 timestamps is most of reading them.
    let query = db
      .selectFrom('messages')
      .select(['id', 'role', 'content', 'task_id', 'tool_steps'])
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('role', '<>', 'assistant'), eb('status', '=', 'complete')]));
    if (options.upToId) query = query.where('id', '<=', options.upToId as never);
    if (options.excludeId) query = query.where('id', '<>', options.excludeId as never);
    const rows = await query.orderBy('id', 'desc').limit(options.limit).execute();
    return rows.map((row) => ({
      id: String(row.id),
      role: row.role,
      content: row.content,
      taskId: row.task_id,
      ...(row.tool_steps ? { toolSteps: row.tool_steps } : {}),
    }));
  }

  /**
   * Full-text search over a user's messages (Postgres `websearch_to_tsquery`, English stemming),
   * best first; a query that is only stop words falls back to a plain substring match, newest first.
   */
  async search(
    db: Queryable,
    userId: string,
    options: { query: string; from?: Date; to?: Date; limit: number },
  ): Promise<ContextMessage[]> {
    const from = options.from ?? null;
    const to = options.to ? new Date(options.to.getTime() + 1) : null;
    const { rows } = await sql<{
      id: string;
      role: MessageRole;
      content: string;
      task_id: string | null;
      created_at: Date;
    }>`
      with query as (select websearch_to_tsquery('english', ${options.query}) as q)
      select m.id, m.role, m.content, m.task_id, m.created_at
      from messages m, query
      where m.user_id = ${userId}
        and (${from}::timestamptz is null or m.created_at >= ${from}::timestamptz)
        and (${to}::timestamptz is null or m.created_at < ${to}::timestamptz)
        and case when numnode(query.q) > 0
              then to_tsvector('english', m.content) @@ query.q
              else m.content ilike '%' || ${escapeLike(options.query)} || '%'
            end
      order by case when numnode(query.q) > 0 then ts_rank(to_tsvector('english', m.content), query.q) else 0 end desc,
               m.id desc
      limit ${options.limit}`.execute(db);
    return rows.map((row) => ({
      id: String(row.id),
      role: row.role,
      content: row.content,
      taskId: row.task_id,
      createdAt: row.created_at,
    }));
  }

  /**
   * Takes a failed reply back to `streaming`, emptied, for the turn `turnId` (its first model
   * request claimed: turn_step 1); undefined unless it was in `error`.
   */
  async restartReply(db: Queryable, userId: string, id: string, turnId: string): Promise<MessageRecord | undefined> {
    const row = await db
      .updateTable('messages')
      .set({
        status: 'streaming',
        content: '',
        error: null,
        usage: null,
        completed_at: null,
        turn_id: turnId,
        turn_step: 1,
        tool_steps: null,
      })
      .where('user_id', '=', userId)
      .where('id', '=', id as never)
      .where('role', '=', 'assistant')
      .where('status', '=', 'error')
      .returningAll()
      .executeTakeFirst();
    return row && this.withProposals(db, row);
  }

  /**
   * Records that the turn starts model request `step` on its reply. Returns the reply's content
   * and the step it had started before (a value ≥ `step` means this request runs again after a
   * crash); undefined when the reply is no longer this turn's to write (finished, or taken by a retry).
   */
  async startStep(
    db: Queryable,
    reply: { id: string; turnId: string; step: number },
  ): Promise<{ content: string; previousStep: number } | undefined> {
    const { rows } = await sql<{ content: string; previous_step: number }>`
      update messages m set turn_step = ${reply.step}
      from (select id, turn_step as previous_step from messages where id = ${reply.id} for update) before
      where m.id = before.id and m.turn_id = ${reply.turnId} and m.status = 'streaming'
      returning m.content, before.previous_step`.execute(db);
    const row = rows[0];
    return row && { content: row.content, previousStep: row.previous_step };
  }

  /** Sets a streaming reply's content (what its turn has checkpointed); undefined when it is not this turn's. */
  async setContent(
    db: Queryable,
    reply: { id: string; turnId: string; content: string },
  ): Promise<MessageRecord | undefined> {
    const row = await db
      .updateTable('messages')
      .set({ content: reply.content })
      .where('id', '=', reply.id as never)
      .where('turn_id', '=', reply.turnId)
      .where('status', '=', 'streaming')
      .returningAll()
      .executeTakeFirst();
    return row && this.withProposals(db, row);
  }

  /** Ends a streaming reply of turn `turnId`; undefined when it was not (already ended, or retried since). */
  async finish(
    db: Queryable,
    reply: {
      id: string;
      turnId: string;
      status: 'complete' | 'error';
      /** left as it is when undefined */
      content?: string;
      usage: Usage | null;
      error: string | null;
      /** the tool calls the turn made, with their results */
      toolSteps?: readonly ToolStep[];
    },
  ): Promise<MessageRecord | undefined> {
    const row = await db
      .updateTable('messages')
      .set({
        status: reply.status,
        ...(reply.content !== undefined ? { content: reply.content } : {}),
        ...(reply.toolSteps?.length ? { tool_steps: JSON.stringify(reply.toolSteps) } : {}),
        usage: reply.usage ? JSON.stringify(reply.usage) : null,
        error: reply.error,
        completed_at: sql<Date>`now()`,
      })
      .where('id', '=', reply.id as never)
      .where('turn_id', '=', reply.turnId)
      .where('status', '=', 'streaming')
      .returningAll()
      .executeTakeFirst();
    return row && this.withProposals(db, row);
  }

  /** Every reply still streaming, oldest first (the start-up sweep; an index on streaming rows only). */
  async listStreaming(
    db: Queryable,
    limit: number,
  ): Promise<Array<Pick<MessageRecord, 'id' | 'userId' | 'replyTo' | 'turnId'>>> {
    const rows = await db
      .selectFrom('messages')
      .select(['id', 'user_id', 'reply_to', 'turn_id'])
      .where('status', '=', 'streaming')
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ id: String(row.id), userId: row.user_id, replyTo: row.reply_to, turnId: row.turn_id }));
  }

  private async withProposals(db: Queryable, row: Selectable<MessagesTable>): Promise<MessageRecord> {
    const proposals = await db
      .selectFrom('proposals')
      .select('id')
      .where('message_id', '=', row.id)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return toRecord({ ...row, proposal_ids: proposals.map((proposal) => proposal.id) });
  }
}

function toRecord(row: Selectable<MessagesTable> & { proposal_ids: string[] }): MessageRecord {
  return {
    id: String(row.id),
    userId: row.user_id,
    role: row.role,
    content: row.content,
    status: row.status,
    clientId: row.client_id,
    replyTo: row.reply_to === null ? null : String(row.reply_to),
    taskId: row.task_id,
    turnId: row.turn_id,
    turnStep: row.turn_step,
    usage: row.usage,
    error: row.error,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    proposalIds: row.proposal_ids,
  };
}

/** A message on the wire. */
export function toMessage(record: MessageRecord): Message {
  return {
    id: record.id,
    role: record.role,
    content: record.content,
    status: record.status,
    createdAt: record.createdAt.toISOString(),
    ...(record.clientId ? { clientId: record.clientId } : {}),
    ...(record.proposalIds.length > 0 ? { proposalIds: record.proposalIds } : {}),
    ...(record.taskId ? { taskId: record.taskId } : {}),
    ...(record.usage ? { usage: record.usage } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
