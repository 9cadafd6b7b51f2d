import type { Selectable } from 'kysely';
import type { Proposal } from '../../contract/proposals.js';
import type { Queryable } from '../db/database.js';
import type { ProposalsTable } from '../db/schema.js';

type ProposalKind = ProposalsTable['kind'];
type ProposalStatus = Proposal['status'];

/** Proposals as stored; every query is scoped to one user. */
export class ProposalRepository {
  /**
   * Stores a pending proposal unless this tool call already made one (its idempotency key is
   * the reply and the tool call id). `created` says which.
   */
  async insert(
    db: Queryable,
    proposal: {
      id: string;
      userId: string;
      kind: ProposalKind;
      payload: Record<string, unknown>;
      taskId: string | null;
      messageId: string;
      toolCallId: string;
    },
  ): Promise<{ proposal: Proposal; created: boolean }> {
    const row = await db
      .insertInto('proposals')
      .values({
        id: proposal.id,
        user_id: proposal.userId,
        kind: proposal.kind,
        payload: JSON.stringify(proposal.payload),
        task_id: proposal.taskId,
        message_id: proposal.messageId,
        tool_call_id: proposal.toolCallId,
      })
      .onConflict((conflict) => conflict.columns(['message_id', 'tool_call_id']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (row) return { proposal: toProposal(row), created: true };
    const existing = await db
      .selectFrom('proposals')
      .selectAll()
      .where('message_id', '=', proposal.messageId)
      .where('tool_call_id', '=', proposal.toolCallId)
      .executeTakeFirstOrThrow();
    return { proposal: toProposal(existing), created: false };
  }

  async find(
    db: Queryable,
    userId: string,
    id: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<Proposal | undefined> {
    let query = db.selectFrom('proposals').selectAll().where('user_id', '=', userId).where('id', '=', id);
    if (options.forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row && toProposal(row);
  }

  /** The user's proposals with these ids, in no particular order (the inbox's proposal items). */
  async byIds(db: Queryable, userId: string, ids: readonly string[]): Promise<Proposal[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .selectFrom('proposals')
      .selectAll()
      .where('user_id', '=', userId)
      .where('id', 'in', [...ids])
      .execute();
    return rows.map(toProposal);
  }

  /** Oldest first. */
  async list(db: Queryable, userId: string, filter: { status?: ProposalStatus; limit: number }): Promise<Proposal[]> {
    let query = db.selectFrom('proposals').selectAll().where('user_id', '=', userId);
    if (filter.status) query = query.where('status', '=', filter.status);
    const rows = await query.orderBy('created_at').orderBy('id').limit(filter.limit).execute();
    return rows.map(toProposal);
  }

  async decide(
    db: Queryable,
    userId: string,
    id: string,
    decision: {
      status: Exclude<ProposalStatus, 'pending'>;
      payload?: Record<string, unknown>;
      taskId?: string;
      at: Date;
    },
  ): Promise<Proposal> {
    const row = await db
      .updateTable('proposals')
      .set({
        status: decision.status,
        ...(decision.payload ? { payload: JSON.stringify(decision.payload) } : {}),
        ...(decision.taskId ? { task_id: decision.taskId } : {}),
        updated_at: decision.at,
      })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toProposal(row);
  }
}

function toProposal(row: Selectable<ProposalsTable>): Proposal {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    payload: row.payload as Proposal['payload'],
    ...(row.task_id ? { taskId: row.task_id } : {}),
    messageId: String(row.message_id),
    createdAt: row.created_at.toISOString(),
  };
}
