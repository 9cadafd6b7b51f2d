import type { Logger } from 'pino';
import type { ListMessagesQuery, Message, MessagePage, PostMessageRequest } from '../../contract/thread.js';
import type { Db, Trx } from '../db/database.js';
import { DomainError, notFound } from '../errors.js';
import type { EventService } from '../events/index.js';
import type { Ids } from '../lib/ids.js';
import { toMessage, type ContextMessage, type MessageRecord, type MessageRepository } from './message.repository.js';
import { FIRST_TURN_ID_PREFIX, retryTurnId, type TurnInput, type TurnWorkflow } from './turn.workflow.js';

export interface ThreadServiceDeps {
  db: Db;
  messages: MessageRepository;
  events: Pick<EventService, 'append' | 'appendAll'>;
  turns: Pick<TurnWorkflow, 'start' | 'startNew' | 'readAhead'>;
  ids: Ids;
  logger: Logger;
}

const DEFAULT_PAGE = 50;
/** A time range returns at most this many messages (`hasMore` says when it held more). */
const RANGE_CAP = 1000;

/** Begins the turn of a reply written in the transaction at hand (see `ThreadService.storeAndStart`). */
type BeginTurn = (input: TurnInput, turnId: string, newest?: ContextMessage) => void;

/**
 * The main thread: one continuous conversation per user. A message is stored — with the empty
 * reply that will answer it, and both `message.created` events — before it is acknowledged;
 * its turn is a durable workflow that writes the reply. Nothing here waits for the model.
 */
export class ThreadService {
  constructor(private readonly deps: ThreadServiceDeps) {}

  /**
   * Stores the person's message and starts its turn. The same clientId again returns the stored
   * message and starts nothing new (a turn that never got started is started then, under its
   * fixed id). Two identical posts at once store one message.
   */
  async post(userId: string, request: PostMessageRequest): Promise<Message> {
    const { db, messages, events } = this.deps;
    // Four round trips, one commit: begin, both messages, both events, commit.
    const stored = await this.storeAndStart(userId, undefined, async (trx, beginTurn) => {
      const inserted = await messages.insertUserWithReply(trx, {
        userId,
        clientId: request.clientId,
        content: request.content,
        turnIdPrefix: FIRST_TURN_ID_PREFIX,
      });
      if (!inserted) return undefined;
      const { message, reply } = inserted;
      beginTurn({ userId, userMessageId: message.id, replyId: reply.id }, reply.turnId!, message);
      await events.appendAll(trx, userId, [
        { type: 'message.created', data: { message: toMessage(message) } },
        { type: 'message.created', data: { message: toMessage(reply) } },
      ]);
      return inserted;
    });
    if (stored) return toMessage(stored.message);
    const existing = await messages.findByClientId(db, userId, request.clientId);
    if (!existing) throw new Error(`message with clientId ${request.clientId} vanished after a conflict`);
    await this.ensureTurn(userId, existing);
    return toMessage(existing);
  }

  /** Pages backwards (`before`, `limit`, newest last) or a time range (`from`, `to`, oldest first). */
  async list(userId: string, query: ListMessagesQuery): Promise<MessagePage> {
    const { db, messages } = this.deps;
    if (query.from || query.to) {
      const from = query.from ? new Date(query.from) : undefined;
      const to = query.to ? new Date(query.to) : undefined;
      if (from && to && from > to) throw new DomainError('VALIDATION_FAILED', 'from must not be after to');
      const page = await messages.range(db, userId, { from, to, limit: query.limit ?? RANGE_CAP });
      return { messages: page.records.map(toMessage), hasMore: page.hasMore };
    }
    if (query.before && !(await messages.findById(db, userId, query.before))) throw notFound(`message ${query.before}`);
    const page = await messages.page(db, userId, { beforeId: query.before, limit: query.limit ?? DEFAULT_PAGE });
    return { messages: page.records.map(toMessage), hasMore: page.hasMore };
  }

  /**
   * Runs again the turn of an assistant reply that ended in `error`: the same reply, emptied and
   * `streaming` again, written by a new turn. Anything else answers 409 saying why.
   */
  async retry(userId: string, id: string): Promise<Message> {
    const { db, messages, events, ids } = this.deps;
    const reply = await messages.findById(db, userId, id);
    if (!reply) throw notFound(`message ${id}`);
    if (reply.role !== 'assistant' || !reply.replyTo) {
      throw new DomainError('CONFLICT', `message ${id} is not an assistant reply: only a reply can be retried`);
    }
    if (reply.status !== 'error') {
      throw new DomainError(
        'CONFLICT',
        reply.status === 'streaming'
          ? `reply ${id} is still being written: only a reply that ended in error can be retried`
          : `reply ${id} is complete: only a reply that ended in error can be retried`,
        { details: { status: reply.status } },
      );
    }
    const userMessageId = reply.replyTo;
    const turnId = retryTurnId(userMessageId, ids.id());
    const restarted = await this.storeAndStart(
      userId,
      { upToId: userMessageId, excludeId: id },
      async (trx, beginTurn) => {
        const record = await messages.restartReply(trx, userId, id, turnId);
        if (!record) return undefined;
        beginTurn({ userId, userMessageId, replyId: id }, turnId);
        await events.append(trx, userId, 'message.created', { message: toMessage(record) });
        return record;
      },
    );
    if (!restarted) throw new DomainError('CONFLICT', `reply ${id} is being retried already`);
    return toMessage(restarted);
  }

  /**
   * Runs `write` in a transaction that stores (or restarts) a reply and calls `beginTurn` once the
   * reply is written; returns after the commit and the start of the turn's workflow. The turn's
   * context is read as the transaction begins (on other connections, `context` saying up to
   * which message; without, the person's message is `newest`); its first model request goes out
   * before the commit but publishes nothing until it (and is dropped when the transaction fails);
   * its workflow starts once committed (and the first delta, when it is ready, went out: see
   * TurnService.firstDelta). So the request's reads, its building and the model's first token
   * overlap with the transaction instead of following it.
   */
  private async storeAndStart<T>(
    userId: string,
    context: { upToId: string; excludeId: string } | undefined,
    write: (trx: Trx, beginTurn: BeginTurn) => Promise<T>,
  ): Promise<T> {
    const { db, turns } = this.deps;
    let committed!: (stored: boolean) => void;
    const stored = new Promise<boolean>((resolve) => (committed = resolve));
    let started: Promise<void> | undefined;
    const transaction = db.transaction().execute((trx) =>
      write(trx, (input, turnId, newest) => {
        started = turns.startNew(input, turnId, { ...ahead, newest }, stored);
        started.catch(() => {}); // awaited below, once committed
      }),
    );
    // Asked for after the transaction (whose callback runs once its `begin` is back), so that the
    // `begin` goes out first; read while it comes back.
    const ahead = turns.readAhead(userId, context);
    const result = await transaction.then(
      (value) => {
        committed(true);
        return value;
      },
      (error: unknown) => {
        committed(false);
        throw error;
      },
    );
    await started;
    return result;
  }

  /**
   * A compact note in the thread from a worker or from mainloop ("task 12 is ready for review"),
   * published as `message.created`. It starts no turn; the next turn's context includes it.
   * Pass `trx` to store it with the change it reports.
   */
  async postEvent(userId: string, note: { content: string; taskId?: string }, trx?: Trx): Promise<Message> {
    const write = async (db: Trx) => {
      const record = await this.deps.messages.insertEvent(db, {
        userId,
        content: note.content,
        taskId: note.taskId ?? null,
      });
      const message = toMessage(record);
      await this.deps.events.append(db, userId, 'message.created', { message });
      return message;
    };
    return trx ? write(trx) : this.deps.db.transaction().execute(write);
  }

  /** A repeated post of a message whose reply is still streaming: start its turn, in case it never was. */
  private async ensureTurn(userId: string, message: MessageRecord): Promise<void> {
    if (message.role !== 'user') return;
    const reply = await this.deps.messages.findReply(this.deps.db, userId, message.id);
    if (reply?.status === 'streaming' && reply.turnId) {
      await this.deps.turns.start({ userId, userMessageId: message.id, replyId: reply.id }, reply.turnId);
    }
  }
}
