import type { CreateTaskRequest, Task, TaskSpec } from '../../contract/tasks.js';
import type { Proposal } from '../../contract/proposals.js';
import type { Db, Trx } from '../db/database.js';
import { DomainError, notFound } from '../errors.js';
import type { EventService, NewEvent } from '../events/index.js';
import type { Clock } from '../lib/clock.js';
import type { Ids } from '../lib/ids.js';
import type { TaskService } from '../tasks/index.js';
import type { ProposalRepository } from './proposal.repository.js';

/** Where a pending proposal waits for the person besides the chat (the inbox), told in the proposal's transaction. */
export interface ProposalAttention {
  /** answers the events to publish with `proposal.updated` (the inbox's new counts) */
  proposalChanged(trx: Trx, userId: string, proposal: Proposal): Promise<NewEvent[]>;
}

export interface ProposalServiceDeps {
  db: Db;
  proposals: ProposalRepository;
  tasks: Pick<TaskService, 'create' | 'cancel'>;
  events: Pick<EventService, 'appendAll'>;
  clock: Clock;
  ids: Ids;
  attention?: ProposalAttention;
}

const LIST_LIMIT = 500;

/**
 * What the main thread wants done that needs the person's yes. The model's `spawn_task` and
 * `cancel_task` only propose; confirming creates (or cancels) the task through TaskService,
 * exactly as `POST /api/tasks` does. Every change publishes `proposal.updated`.
 */
export class ProposalService {
  constructor(private readonly deps: ProposalServiceDeps) {}

  list(userId: string, filter: { status?: Proposal['status'] } = {}): Promise<Proposal[]> {
    return this.deps.proposals.list(this.deps.db, userId, { ...filter, limit: LIST_LIMIT });
  }

  /** One of the user's proposals, whatever its status; 404 when it is not theirs. */
  async get(userId: string, id: string): Promise<Proposal> {
    const proposal = await this.deps.proposals.find(this.deps.db, userId, id);
    if (!proposal) throw notFound(`proposal ${id}`);
    return proposal;
  }

  /** A pending spawn_task proposal made by tool call `toolCallId` of reply `messageId`; the same call again returns it. */
  proposeTask(userId: string, made: { messageId: string; toolCallId: string }, spec: TaskSpec): Promise<Proposal> {
    return this.propose(userId, made, { kind: 'spawn_task', payload: spec, taskId: null });
  }

  /** A pending cancel_task proposal for one of the user's tasks (the caller checked that it exists). */
  proposeCancel(userId: string, made: { messageId: string; toolCallId: string }, taskId: string): Promise<Proposal> {
    return this.propose(userId, made, { kind: 'cancel_task', payload: { taskId }, taskId });
  }

  /**
   * Says yes. A spawn_task proposal creates its task — with `payload` when the person edited it —
   * and a cancel_task proposal cancels its task; the proposal is marked confirmed in the same
   * transaction. A proposal that is no longer pending answers 409.
   */
  async confirm(
    userId: string,
    id: string,
    request: { payload?: CreateTaskRequest } = {},
  ): Promise<{ proposal: Proposal; task?: Task }> {
    const proposal = await this.pending(this.deps.db, userId, id);
    let confirmed: Proposal | undefined;
    const markConfirmed = async (trx: Trx, task: Task, payload?: Record<string, unknown>) => {
      await this.pending(trx, userId, id, { lock: true }); // a concurrent confirm or dismiss won: roll back
      confirmed = await this.deps.proposals.decide(trx, userId, id, {
        status: 'confirmed',
        payload,
        taskId: task.id,
        at: this.deps.clock.now(),
      });
      await this.publish(trx, userId, confirmed);
    };
    if (proposal.kind === 'cancel_task') {
      if (request.payload) {
        throw new DomainError(
          'BAD_REQUEST',
          'a cancel_task proposal takes no payload: confirm it as it is, or dismiss it',
        );
      }
      const taskId = proposal.taskId;
      if (!taskId)
        throw new DomainError('CONFLICT', 'the task this proposal would cancel no longer exists; dismiss it');
      const task = await this.deps.tasks.cancel(userId, taskId, { within: (trx, task) => markConfirmed(trx, task) });
      return { proposal: confirmed!, task };
    }
    const spec = (request.payload ?? proposal.payload) as CreateTaskRequest;
    const task = await this.deps.tasks.create(userId, spec, {
      within: (trx, task) => markConfirmed(trx, task, request.payload),
    });
    return { proposal: confirmed!, task };
  }

  /** Says no. A proposal that is no longer pending answers 409. */
  async dismiss(userId: string, id: string): Promise<Proposal> {
    const { db, proposals, clock } = this.deps;
    return db.transaction().execute(async (trx) => {
      await this.pending(trx, userId, id, { lock: true });
      const dismissed = await proposals.decide(trx, userId, id, { status: 'dismissed', at: clock.now() });
      await this.publish(trx, userId, dismissed);
      return dismissed;
    });
  }

  private async propose(
    userId: string,
    made: { messageId: string; toolCallId: string },
    proposal: { kind: Proposal['kind']; payload: Record<string, unknown>; taskId: string | null },
  ): Promise<Proposal> {
    const { db, proposals, ids } = this.deps;
    return db.transaction().execute(async (trx) => {
      const stored = await proposals.insert(trx, { id: ids.id(), userId, ...made, ...proposal });
      if (stored.created) await this.publish(trx, userId, stored.proposal);
      return stored.proposal;
    });
  }

  /** `proposal.updated`, with the inbox's item made or resolved alongside, in the caller's transaction. */
  private async publish(trx: Trx, userId: string, proposal: Proposal): Promise<void> {
    const inbox = (await this.deps.attention?.proposalChanged(trx, userId, proposal)) ?? [];
    await this.deps.events.appendAll(trx, userId, [...inbox, { type: 'proposal.updated', data: { proposal } }]);
  }

  /** The user's proposal, still pending: 404 when it is not theirs, 409 when it was decided already. */
  private async pending(db: Db | Trx, userId: string, id: string, options: { lock?: boolean } = {}): Promise<Proposal> {
    const proposal = await this.deps.proposals.find(db, userId, id, { forUpdate: options.lock });
    if (!proposal) throw notFound(`proposal ${id}`);
    if (proposal.status !== 'pending') {
      throw new DomainError('CONFLICT', `proposal ${id} was already ${proposal.status}`, {
        details: { status: proposal.status },
      });
    }
    return proposal;
  }
}
