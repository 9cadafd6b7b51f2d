import type { Logger } from 'pino';
import type { Usage } from '../../contract/thread.js';
import type { Db } from '../db/database.js';
import type { EventService } from '../events/index.js';
import { storable } from '../lib/storable-text.js';
import { ModelError, type ModelClient, type StopReason, type ToolCall, type ToolResult } from '../models/index.js';
import { replyMessages, type AssembledContext, type ContextAssembler, type ContextReads } from './context-assembler.js';
import { DeltaCoalescer } from './delta-coalescer.js';
import { toMessage, type ContextMessage, type MessageRepository, type ToolStep } from './message.repository.js';
import type { ThreadTools } from './thread-tools.js';

/** One turn's reply, as each step names it. */
export interface TurnReply {
  userId: string;
  replyId: string;
  /** the workflow writing the reply; writes from any other turn are ignored */
  turnId: string;
}

export interface ModelRequestInput extends TurnReply {
  userMessageId: string;
  /** 1 for the turn's first model request */
  step: number;
  /** the reply's text checkpointed before this request */
  priorContent: string;
  /** this turn's tool calls and their results so far, with where in `priorContent` each was made */
  toolSteps: readonly ToolStep[];
}

export type ModelRequestResult =
  | { outcome: 'superseded' }
  | {
      outcome: 'answered';
      /** the text to append to the reply (with a blank line in front when it follows earlier text) */
      text: string;
      toolCalls: ToolCall[];
      usage: Usage;
      model: string;
      stopReason: StopReason;
    }
  | {
      outcome: 'failed';
      /** the text to append to the reply: what streamed before the failure, or an explanation */
      text: string;
      /** why, for a person */
      error: string;
      kind: string;
    };

/** A new turn's context read ahead (`TurnService.readAhead`), and the person's message when it was stored after the reads. */
export interface ContextAhead {
  reads: Promise<ContextReads>;
  newest?: ContextMessage;
}

export interface TurnServiceDeps {
  db: Db;
  messages: MessageRepository;
  events: Pick<EventService, 'append' | 'publish'>;
  assembler: Pick<ContextAssembler, 'assemble' | 'read' | 'compose'>;
  model: ModelClient;
  tools: Pick<ThreadTools, 'run' | 'definitions'>;
  logger: Logger;
  /** the least time between two `message.delta` events of a reply (default 50 ms) */
  deltaIntervalMs?: number;
  maxOutputTokens?: number;
}

export const INTERRUPTED_ERROR = 'This reply was interrupted by a restart — retry it.';
export const INTERNAL_ERROR = 'mainloop failed while writing this reply (the server log says why) — retry it.';
/** How long a first model request begun early waits for its workflow's step to take it over. */
const EARLY_REQUEST_TTL_MS = 60_000;
/**
 * How long, after its reply's commit, a new turn's workflow start waits for the early first
 * request's first delta to go out before it (see `firstDelta`).
 */
const FIRST_DELTA_LEAD_MS = 20;
/**
 * A reply without a model says only that: what to set is said once, where the person looks for it
 * (the chat's note above the composer, the settings page, GET /api/providers), not in every reply.
 */
const NO_PROVIDER_ERROR =
  'No model provider is configured: this message was not answered. Connect one (Settings → Model and workers), then retry.';

/**
 * What a turn's durable steps do (turn.workflow.ts sequences them): one model request with
 * its context, streamed to every device as `message.delta`; one tool call; the reply's end.
 * Each method is safe to run again: writes are conditional on the reply still being this turn's
 * and still streaming, and a model request run again after a crash first takes the reply back
 * to what was checkpointed, telling every device with `message.created`.
 */
export class TurnService {
  private readonly inFlight = new Set<AbortController>();
  /** first model requests begun ahead of their workflow's step, by turn id */
  private readonly early = new Map<
    string,
    {
      result: Promise<ModelRequestResult>;
      controller: AbortController;
      expiry: NodeJS.Timeout;
      /** resolves once its first delta was published (or could not be), or the request ended */
      firstDelta: Promise<void>;
    }
  >();
  private stopping = false;

  constructor(private readonly deps: TurnServiceDeps) {}

  /**
   * Model request `input.step` of a turn, streamed; its result is what the workflow checkpoints.
   * The first request of a turn begun early (`beginFirstRequest`) is taken over, not run again.
   */
  requestModel(input: ModelRequestInput): Promise<ModelRequestResult> {
    const early = input.step === 1 ? this.early.get(input.turnId) : undefined;
    if (early) {
      this.early.delete(input.turnId);
      clearTimeout(early.expiry);
      return early.result;
    }
    return this.runModelRequest(input);
  }

  /**
   * Begins reading the context of a turn about to start, alongside the transaction that stores its
   * reply, for `beginFirstRequest`: for a new message, the conversation as it is now (the message
   * is added once stored: `newest`); for a retry, the conversation up to its message.
   */
  readAhead(userId: string, options?: { upToId?: string; excludeId?: string }): ContextAhead {
    const reads = this.deps.assembler.read(userId, options);
    reads.catch(() => {}); // a repeated message never uses them; the request that does sees the failure
    return { reads };
  }

  /**
   * Begins the first model request of a turn whose reply is being stored (or restarted) this
   * moment, rather than after its transaction has committed, DBOS has recorded the workflow and
   * the workflow has entered its first step: that commit, those writes and reads then overlap with
   * building the request and the model's first token. Its context was read ahead (`readAhead`)
   * alongside the transaction, or is read now. The reply is stored with its first request claimed
   * (turn_step 1, in the same transaction), so the request needs no claim of its own: it publishes
   * nothing until `stored` says the transaction committed, and is aborted when it did not. Any
   * later run of the step finds the claim and starts over cleanly. The workflow's first step takes
   * the request over (`requestModel`) and checkpoints its result as if it had run it; a crash
   * before that is recovered exactly as one during the step. Not taken over within a minute (the
   * workflow did not run here), it is aborted.
   */
  beginFirstRequest(
    turn: TurnReply & { userMessageId: string },
    ahead?: ContextAhead,
    stored: Promise<boolean> = Promise.resolve(true),
  ): void {
    this.dropFirstRequest(turn.turnId);
    const controller = new AbortController();
    const { assembler } = this.deps;
    const context = ahead?.reads.then((reads) => assembler.compose(reads, ahead.newest));
    let delivered!: () => void;
    const firstDelta = new Promise<void>((resolve) => (delivered = resolve));
    const result = this.runModelRequest(
      { ...turn, step: 1, priorContent: '', toolSteps: [] },
      { claimed: stored, signal: controller.signal, context, onFirstDelta: delivered },
    );
    result.then(delivered, delivered); // the step that takes it over sees a failure
    const expiry = setTimeout(() => this.dropFirstRequest(turn.turnId), EARLY_REQUEST_TTL_MS);
    expiry.unref();
    this.early.set(turn.turnId, { result, controller, expiry, firstDelta });
  }

  /**
   * Resolves once the early first request of `turnId` has published its first delta, or has
   * ended, or `FIRST_DELTA_LEAD_MS` have passed; at once when there is none. A new turn's workflow
   * start waits for it after the reply's commit: the delta and the workflow's row are both commits,
   * and when the model's first text is there already, the person waits for the delta, not for the
   * row (a crash before the row is written is recovered like one before the start: the reply is
   * streaming without a workflow, and the start-up sweep starts it).
   */
  firstDelta(turnId: string): Promise<void> {
    const early = this.early.get(turnId);
    if (!early) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const lead = new Promise<void>((resolve) => (timer = setTimeout(resolve, FIRST_DELTA_LEAD_MS)));
    return Promise.race([early.firstDelta, lead]).finally(() => clearTimeout(timer));
  }

  /** The early first request of `turnId`, if any, is stopped and forgotten (its workflow could not start). */
  dropFirstRequest(turnId: string): void {
    const early = this.early.get(turnId);
    if (!early) return;
    this.early.delete(turnId);
    clearTimeout(early.expiry);
    early.controller.abort(new Error('the turn’s workflow did not take this model request over'));
  }

  /**
   * `claimed`: the step was claimed with the reply, by a transaction; it resolves to whether that
   * committed. `context`: read already.
   */
  private async runModelRequest(
    input: ModelRequestInput,
    options: {
      claimed?: Promise<boolean>;
      signal?: AbortSignal;
      context?: Promise<AssembledContext>;
      /** called once the first delta was published, or could not be */
      onFirstDelta?: () => void;
    } = {},
  ): Promise<ModelRequestResult> {
    const { db, messages, events, assembler, model, tools, logger } = this.deps;
    const controller = new AbortController();
    const { signal } = options;
    signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
    // Claiming the step (and, on a re-run, resetting the reply) is a write with a commit: it runs
    // alongside context assembly and the model's first token, and the first delta waits for it.
    const claimed = options.claimed ?? this.claimStep(input);
    claimed.then(
      (mine) => mine || controller.abort(new Error('the reply is no longer this turn’s')),
      () => controller.abort(new Error('could not claim the model request')),
    );
    const deltas = new DeltaCoalescer({
      publish: async (text) => {
        try {
          if (await claimed) await events.publish(input.userId, 'message.delta', { messageId: input.replyId, text });
        } finally {
          options.onFirstDelta?.();
        }
      },
      intervalMs: this.deps.deltaIntervalMs ?? 50,
    });
    const separator = input.priorContent && !/\s$/.test(input.priorContent) ? '\n\n' : '';
    this.inFlight.add(controller);
    let text = '';
    const toolCalls: ToolCall[] = [];
    let finish: { usage: Usage; model: string; stopReason: StopReason } | undefined;
    try {
      if (this.stopping) return await parked();
      const context = await (options.context ?? assembler.assemble(input));
      for await (const event of model.stream({
        system: context.system,
        messages: [...context.messages, ...replyMessages(input.priorContent, input.toolSteps)],
        tools: tools.definitions,
        abortSignal: controller.signal,
        maxOutputTokens: this.deps.maxOutputTokens,
      })) {
        // What the model wrote is stored (and streamed) as it is, but for what Postgres refuses.
        if (event.type === 'text-delta') {
          const piece = storable(text ? event.text : separator + event.text);
          text += piece;
          deltas.push(piece);
        } else if (event.type === 'tool-call') {
          toolCalls.push({ id: event.id, name: event.name, input: storable(event.input) });
        } else {
          finish = {
            usage: {
              inputTokens: event.usage.inputTokens,
              outputTokens: event.usage.outputTokens,
              ...(event.costUsd !== undefined ? { costUsd: event.costUsd } : {}),
            },
            model: storable(event.model),
            stopReason: event.stopReason,
          };
        }
      }
      await deltas.flush();
    } catch (error) {
      // Shutting down: leave the step unfinished, so the turn resumes here at the next start.
      if (this.stopping) {
        deltas.discard();
        return await parked();
      }
      if (!(await claimed)) return { outcome: 'superseded' };
      await deltas.flush().catch(() => {});
      if (error instanceof ModelError && error.kind === 'not_configured') {
        return { outcome: 'failed', kind: error.kind, text: '', error: NO_PROVIDER_ERROR };
      }
      if (!(error instanceof ModelError))
        logger.error({ err: error, replyId: input.replyId }, 'a model request failed');
      return {
        outcome: 'failed',
        kind: error instanceof ModelError ? error.kind : 'unknown',
        text,
        error: storable(error instanceof ModelError ? error.message : `Could not get an answer: ${String(error)}`),
      };
    } finally {
      this.inFlight.delete(controller);
    }
    if (!(await claimed)) return { outcome: 'superseded' };
    if (!finish) throw new Error('the model stream ended without finishing');
    await messages.setContent(db, { id: input.replyId, turnId: input.turnId, content: input.priorContent + text });
    return { outcome: 'answered', text, toolCalls, ...finish };
  }

  /**
   * Marks model request `step` as begun on the reply; false when the reply is no longer this
   * turn's to write. A request begun before (cut off by a crash or a kill) may have streamed text
   * that devices still show: the reply goes back to its checkpointed text, with `message.created`.
   */
  private async claimStep(input: ModelRequestInput): Promise<boolean> {
    const { db, messages, events } = this.deps;
    const started = await messages.startStep(db, { id: input.replyId, turnId: input.turnId, step: input.step });
    if (!started) return false;
    if (started.previousStep >= input.step || started.content !== input.priorContent) {
      await db.transaction().execute(async (trx) => {
        const reset = await messages.setContent(trx, {
          id: input.replyId,
          turnId: input.turnId,
          content: input.priorContent,
        });
        if (reset) await events.append(trx, input.userId, 'message.created', { message: toMessage(reset) });
      });
    }
    return true;
  }

  runTool(reply: TurnReply, call: ToolCall): Promise<ToolResult> {
    return this.deps.tools.run({ userId: reply.userId, replyId: reply.replyId }, call);
  }

  /**
   * Stores the finished reply with its usage and the tool calls it made (later turns show them to
   * the model as calls, see context-assembler.ts), and publishes `message.completed`.
   */
  complete(
    reply: TurnReply,
    result: { content: string; usage: Usage | null; toolSteps: readonly ToolStep[] },
  ): Promise<void> {
    return this.finish(reply, {
      status: 'complete',
      content: result.content,
      usage: result.usage,
      error: null,
      toolSteps: storable(result.toolSteps),
    });
  }

  /** Ends the reply in `error` with a reason a person can read, keeping what it said; Retry runs it again. */
  fail(reply: TurnReply, result: { content: string; usage: Usage | null; error: string }): Promise<void> {
    return this.finish(reply, { status: 'error', content: result.content, usage: result.usage, error: result.error });
  }

  /** A reply whose turn will not resume: `error`, with what it had checkpointed. */
  interrupt(reply: TurnReply): Promise<void> {
    return this.finish(reply, { status: 'error', usage: null, error: INTERRUPTED_ERROR });
  }

  /** Server shutdown: model requests in flight stop and stay unfinished, to resume at the next start. */
  stop(): void {
    this.stopping = true;
    for (const controller of this.inFlight) controller.abort(new Error('mainloop is shutting down'));
  }

  private async finish(
    reply: TurnReply,
    end: {
      status: 'complete' | 'error';
      content?: string;
      usage: Usage | null;
      error: string | null;
      toolSteps?: readonly ToolStep[];
    },
  ): Promise<void> {
    const { db, messages, events } = this.deps;
    await db.transaction().execute(async (trx) => {
      const record = await messages.finish(trx, { id: reply.replyId, turnId: reply.turnId, ...end });
      if (record) await events.append(trx, reply.userId, 'message.completed', { message: toMessage(record) });
    });
  }
}

/** Never settles: the step stays unfinished in DBOS and is run again when the workflow is recovered. */
function parked(): Promise<never> {
  return new Promise<never>(() => {});
}
