import { DBOS, type StepConfig } from '@dbos-inc/dbos-sdk';
import type { Usage } from '../../contract/thread.js';
import type { ToolStep } from './message.repository.js';
import { INTERNAL_ERROR, type ContextAhead, type TurnReply, type TurnService } from './turn.service.js';

/** What starts a turn: the person's message and the reply (already stored, `streaming`) that answers it. */
export interface TurnInput {
  userId: string;
  userMessageId: string;
  replyId: string;
}

export type TurnOutcome = 'complete' | 'failed' | 'superseded';

/** The most model requests one turn makes: the tool loop's bound. */
export const MAX_MODEL_REQUESTS = 8;

const LOOP_LIMIT_NOTE = `\n\n_(mainloop stopped this reply after ${MAX_MODEL_REQUESTS} model requests.)_`;

/** Database writes may be retried a few times; a model request is retried inside the model layer. */
const WRITE_STEP: StepConfig = { retriesAllowed: true, maxAttempts: 3, intervalSeconds: 0.5, backoffRate: 2 };

/** What a message's first turn id starts with; the message's id follows. */
export const FIRST_TURN_ID_PREFIX = 'turn-';

/** The id of a turn's workflow: the first one is derived from the message, so starting it twice is harmless. */
export function firstTurnId(userMessageId: string): string {
  return `${FIRST_TURN_ID_PREFIX}${userMessageId}`;
}

/** A retry runs as a new workflow. */
export function retryTurnId(userMessageId: string, unique: string): string {
  return `turn-${userMessageId}-retry-${unique}`;
}

export interface TurnWorkflow {
  /** Starts the turn `turnId`; a turn that exists already is left as it is. */
  start(input: TurnInput, turnId: string): Promise<void>;
  /**
   * Begins reading a new turn's context while its reply is being stored (or restarted): see
   * TurnService.readAhead. Pass it to `startNew` (with the person's message, when it is new).
   */
  readAhead(userId: string, options?: { upToId?: string; excludeId?: string }): ContextAhead;
  /**
   * Starts the turn `turnId` for a reply being stored (or restarted) for it, which no run of it
   * can have seen yet: its first model request begins at once (see TurnService.beginFirstRequest),
   * and the workflow once `stored` says the reply's transaction committed (nothing when it did not)
   * and the request's first delta went out, when it is that close (see TurnService.firstDelta).
   */
  startNew(input: TurnInput, turnId: string, ahead?: ContextAhead, stored?: Promise<boolean>): Promise<void>;
  /** DBOS's status of the turn (PENDING, SUCCESS, ERROR, …), or undefined when it never started. */
  status(turnId: string): Promise<{ status: string; applicationVersion?: string } | undefined>;
  /** Stops a turn's workflow for good (it will not be resumed). */
  cancel(turnId: string): Promise<void>;
}

/**
 * One main-thread turn as a DBOS workflow: up to MAX_MODEL_REQUESTS model requests, each a step
 * that streams, with each tool call in a step of its own between them, then the reply's end.
 * Thin by design: every step is one TurnService method.
 */
async function runTurn(turns: TurnService, input: TurnInput): Promise<TurnOutcome> {
  const reply: TurnReply = { userId: input.userId, replyId: input.replyId, turnId: DBOS.workflowID! };
  let content = '';
  let usage: Usage | null = null;
  const toolSteps: ToolStep[] = [];
  try {
    for (let step = 1; step <= MAX_MODEL_REQUESTS; step++) {
      const priorContent = content;
      const stepsSoFar = [...toolSteps];
      const result = await DBOS.runStep(
        () =>
          turns.requestModel({
            ...reply,
            userMessageId: input.userMessageId,
            step,
            priorContent,
            toolSteps: stepsSoFar,
          }),
        { name: `model-request-${step}` },
      );
      if (result.outcome === 'superseded') return 'superseded';
      content += result.text;
      if (result.outcome === 'failed') {
        await DBOS.runStep(() => turns.fail(reply, { content, usage, error: result.error }), {
          name: 'fail',
          ...WRITE_STEP,
        });
        return 'failed';
      }
      usage = addUsage(usage, result.usage);
      if (result.toolCalls.length === 0) break;
      const results = [];
      for (const call of result.toolCalls) {
        results.push(
          await DBOS.runStep(() => turns.runTool(reply, call), { name: `tool-${call.name}`, ...WRITE_STEP }),
        );
      }
      toolSteps.push({ at: content.length, calls: result.toolCalls, results });
      if (step === MAX_MODEL_REQUESTS) content += LOOP_LIMIT_NOTE;
    }
    const final = { content, usage, toolSteps };
    await DBOS.runStep(() => turns.complete(reply, final), { name: 'complete', ...WRITE_STEP });
    return 'complete';
  } catch (error) {
    // A step failed for good (not the model: its failures are results). The reply must not stay streaming.
    DBOS.logger.error(error instanceof Error ? error : new Error(String(error)));
    const failed = { content, usage, error: INTERNAL_ERROR };
    await DBOS.runStep(() => turns.fail(reply, failed), { name: 'fail', ...WRITE_STEP });
    return 'failed';
  }
}

function addUsage(total: Usage | null, more: Usage): Usage {
  if (!total) return { ...more };
  const costUsd =
    total.costUsd === undefined && more.costUsd === undefined
      ? undefined
      : Math.round(((total.costUsd ?? 0) + (more.costUsd ?? 0)) * 1e6) / 1e6;
  return {
    inputTokens: total.inputTokens + more.inputTokens,
    outputTokens: total.outputTokens + more.outputTokens,
    ...(costUsd !== undefined ? { costUsd } : {}),
  };
}

/**
 * DBOS registers a workflow once per process, before launch. The registration keeps a slot for
 * its dependencies, so a second server in the same process (a test, a restart in place) reuses
 * it with its own TurnService.
 */
let registered: { slot: { turns: TurnService }; run: (input: TurnInput) => Promise<TurnOutcome> } | undefined;

/** Registers the turn workflow with DBOS; call before `DBOS.launch()` (createServices does). */
export function registerTurnWorkflow(deps: { turns: TurnService }): TurnWorkflow {
  if (registered) {
    registered.slot.turns = deps.turns;
  } else {
    const slot = { turns: deps.turns };
    const run = DBOS.registerWorkflow((input: TurnInput) => runTurn(slot.turns, input), { name: 'thread.turn' });
    // DBOS stops first when the server shuts down: model requests in flight must stop with it,
    // unfinished, rather than try to checkpoint into a closed database.
    DBOS.registerLifecycleCallback({ destroy: async () => slot.turns.stop() });
    registered = { slot, run };
  }
  const { run, slot } = registered;
  return {
    async start(input, turnId) {
      await DBOS.startWorkflow(run, { workflowID: turnId })(input);
    },
    readAhead(userId, options) {
      return slot.turns.readAhead(userId, options);
    },
    async startNew(input, turnId, ahead, stored = Promise.resolve(true)) {
      const turns = slot.turns;
      turns.beginFirstRequest({ ...input, turnId }, ahead, stored);
      try {
        if (!(await stored)) return turns.dropFirstRequest(turnId);
        await turns.firstDelta(turnId);
        await DBOS.startWorkflow(run, { workflowID: turnId })(input);
      } catch (error) {
        turns.dropFirstRequest(turnId);
        throw error;
      }
    },
    async status(turnId) {
      const status = await DBOS.getWorkflowStatus(turnId);
      return status ? { status: status.status, applicationVersion: status.applicationVersion } : undefined;
    },
    async cancel(turnId) {
      await DBOS.cancelWorkflow(turnId);
    },
  };
}
