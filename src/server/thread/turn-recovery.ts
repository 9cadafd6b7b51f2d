import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import type { MessageRepository } from './message.repository.js';
import type { TurnService } from './turn.service.js';
import type { TurnWorkflow } from './turn.workflow.js';

/** DBOS statuses of a workflow that may still run (and so may still finish its reply). */
const LIVE = new Set(['PENDING', 'ENQUEUED']);
const SWEEP_LIMIT = 1000;

export interface TurnRecoveryDeps {
  db: Db;
  messages: MessageRepository;
  turns: Pick<TurnService, 'interrupt'>;
  workflow: Pick<TurnWorkflow, 'start' | 'status' | 'cancel'>;
  /** the version this server runs: DBOS resumes only workflows started under it */
  applicationVersion: string;
  logger: Logger;
}

/**
 * Run at start-up, after DBOS has launched (and so recovered the turns this process's
 * predecessor left PENDING): makes sure no reply stays `streaming` for ever.
 * - a reply whose turn never started (a crash between storing the message and starting the
 *   workflow) gets its turn now — the turn id is fixed, so this cannot start it twice;
 * - a reply whose turn will not resume (it ended without finishing the reply, or it belongs
 *   to another version of mainloop that DBOS will not resume) ends in `error` with Retry.
 */
export class TurnRecovery {
  constructor(private readonly deps: TurnRecoveryDeps) {}

  async run(): Promise<{ started: number; interrupted: number }> {
    const { db, messages, workflow, turns, applicationVersion, logger } = this.deps;
    let started = 0;
    let interrupted = 0;
    for (const reply of await messages.listStreaming(db, SWEEP_LIMIT)) {
      const turnId = reply.turnId;
      if (!turnId) continue; // every reply is stored with its turn: nothing here was written by one
      try {
        const state = await workflow.status(turnId);
        if (!state && reply.replyTo) {
          await workflow.start({ userId: reply.userId, userMessageId: reply.replyTo, replyId: reply.id }, turnId);
          started++;
          continue;
        }
        if (state && LIVE.has(state.status)) {
          if (!state.applicationVersion || state.applicationVersion === applicationVersion) continue;
          await workflow.cancel(turnId);
        }
        await turns.interrupt({ userId: reply.userId, replyId: reply.id, turnId });
        interrupted++;
      } catch (error) {
        // One reply that cannot be recovered now must not keep the server from starting.
        logger.error({ err: error, replyId: reply.id, turnId }, 'could not recover a main-thread turn');
      }
    }
    if (started || interrupted) logger.info({ started, interrupted }, 'recovered main-thread turns after a restart');
    return { started, interrupted };
  }
}
