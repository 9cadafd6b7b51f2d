import { DBOS, Error as DBOSErrors, type StepConfig } from '@dbos-inc/dbos-sdk';
import type { TaskReview } from '../../contract/tasks.js';
import type { Decision, DecisionKind } from './decision.repository.js';
import {
  answersPrompt,
  fixChecksPrompt,
  implementPrompt,
  mergeConflictPrompt,
  planPrompt,
  requestedChangesPrompt,
  revisePlanPrompt,
} from './prompts.js';
import type { AgentOutcome } from './runtime.js';
import type { PhaseInput, PhaseResult, TaskSetup, TaskWork } from './task-work.js';

/** The DBOS queue every agent and check run waits on: its concurrency is MAINLOOP_WORKER_CONCURRENCY. */
export const WORKER_QUEUE = 'mainloop-workers';
/** What a decision's `DBOS.send` is addressed to: it only wakes the workflow, the decision itself is in Postgres. */
export const WAKE_TOPIC = 'wake';
/** How long a wait sleeps before looking at Postgres again even without a wake-up. */
const WAIT_SECONDS = 3600;
/** A step's own retries (a database blip); what still fails after them becomes a task failure the person can retry. */
const STEP_RETRIES: StepConfig = { retriesAllowed: true, maxAttempts: 3, intervalSeconds: 1, backoffRate: 2 };
/**
 * A phase's end wakes its task's workflow with a message (LISTEN/NOTIFY, no polling); without one
 * (a phase that never finished its function: DBOS gave up recovering it) the task looks at the
 * phase's status this often.
 */
const PHASE_LOOK_SECONDS = 60;
/** Attempts to merge (a conflict goes back to the agent in between). */
const MERGE_ATTEMPTS = 3;

export interface TaskWorkflowOptions {
  work: TaskWork;
  checkRounds: number;
}

export interface TaskWorkflow {
  /**
   * Starts the task's workflow (its id is the task id); starting it again is harmless. With its
   * setup (a task without a project: `scratchSetup`) it needs no step to read it.
   */
  start(taskId: string, setup?: TaskSetup): Promise<void>;
  /** Wakes a waiting workflow to look at its decisions. */
  wake(taskId: string): Promise<void>;
  /** Ends the workflow and its running phase for good. */
  cancel(taskId: string): Promise<void>;
  /** DBOS's status of the task's workflow, or undefined when it never started. */
  status(taskId: string): Promise<string | undefined>;
}

/**
 * A task as one DBOS workflow whose id is the task id: prepare → plan ⇄ approve → implement →
 * check (⇄ fix) → review ⇄ changes → merge → done. The waits for the person (plan approval,
 * answers, review, a retry after a failure) are durable receives: no process and no queue slot
 * is held while the person thinks. The long steps (agent runs and checks) are child workflows on
 * the worker queue, so at most MAINLOOP_WORKER_CONCURRENCY of them run at once.
 *
 * Every wait, checkpoint and phase takes a key from one counter, so a replay after a crash finds
 * the same keys and each step's effect happens once.
 */
export function registerTaskWorkflow(options: TaskWorkflowOptions): TaskWorkflow {
  const { work } = options;
  const phaseWorkflow = DBOS.registerWorkflow(
    async (input: PhaseInput): Promise<PhaseResult> => {
      let result: PhaseResult;
      try {
        result = await DBOS.runStep(() => work.runPhase(input), { name: `run-${input.kind}` });
      } catch (error) {
        // One that throws (not an agent's failure: a bug, the database) ends as `failed`.
        if (isCancellation(error)) throw error;
        result = { kind: 'failed', error: reasonOf(error) };
      }
      // The task's workflow (its id is the task id) waits for this message: no polling.
      await DBOS.send(input.taskId, result, phaseTopic(input.key));
      return result;
    },
    { name: 'task.phase' },
  );

  /** The oldest decision of these kinds for the task, taken for the wait `waitKey`; waits for one. */
  const awaitDecision = async (taskId: string, kinds: DecisionKind[], waitKey: string): Promise<Decision> => {
    for (;;) {
      const taken = await DBOS.runStep(() => work.takeDecision(taskId, kinds, waitKey), {
        name: 'take-decision',
        ...STEP_RETRIES,
      });
      if (taken) return taken;
      await DBOS.recv(WAKE_TOPIC, WAIT_SECONDS);
    }
  };

  /** The task shows `failed` with the reason; when that cannot be stored, with why it could not. */
  const recordFailure = async (taskId: string, reason: string): Promise<void> => {
    try {
      await DBOS.runStep(() => work.fail(taskId, reason), { name: 'fail', ...STEP_RETRIES });
    } catch (error) {
      if (isCancellation(error)) throw error;
      const instead = `the task failed, and its reason could not be stored: ${reasonOf(error)}`;
      await DBOS.runStep(() => work.fail(taskId, instead), { name: 'fail', ...STEP_RETRIES });
    }
  };

  /**
   * The task's workflow; `phasesOnQueue` false: each phase is a step of its own (see
   * `task.command` below) instead of a child workflow on the queue.
   *
   * An error that no step turned into a failure of the task (a decision that could not be taken, a
   * failure that could not be stored, a bug) fails the task too, rather than leave it in its last
   * status for good; its retry runs the task again from its start, in a new round (its keys apart).
   */
  const runTask =
    (phasesOnQueue: boolean) =>
    async (taskId: string, given?: TaskSetup): Promise<void> => {
      for (let round = 0; ; round++) {
        try {
          return await runRound(phasesOnQueue)(taskId, given, round);
        } catch (error) {
          if (isCancellation(error)) throw error;
          await recordFailure(taskId, reasonOf(error));
          await awaitDecision(taskId, ['retry'], `failed-${round + 1}`);
        }
      }
    };

  /** One round of the task's workflow: all of it, unless an error ends it (see runTask). */
  const runRound =
    (phasesOnQueue: boolean) =>
    async (taskId: string, given: TaskSetup | undefined, round: number): Promise<void> => {
      let counter = 0;
      const key = (what: string) => `${round ? `${round}.` : ''}${what}-${++counter}`;
      let sessionId: string | undefined;
      let freshAfterFailure = false;
      /** what the agent last said it did: the review shows it */
      let lastSummary: string | undefined;
      /**
       * A step; one that still fails after its retries (a repository gone, a disk full) fails the
       * task with the reason, and runs again when the person retries.
       */
      const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
        for (;;) {
          try {
            return await DBOS.runStep(run, { name, ...STEP_RETRIES });
          } catch (error) {
            if (isCancellation(error)) throw error;
            await failAndAwaitRetry(`${name} failed: ${reasonOf(error)}`);
          }
        }
      };

      /** A long step on the worker queue, its result coming as a message; or a step here. */
      const phase = async (
        input: Omit<Extract<PhaseInput, { kind: 'agent' }>, 'taskId' | 'key'> | { kind: 'check' },
      ): Promise<PhaseResult> => {
        const phaseKey = key(input.kind);
        if (!phasesOnQueue) {
          try {
            const full = { ...input, taskId, key: phaseKey } as PhaseInput;
            return await DBOS.runStep(() => work.runPhase(full), { name: `run-${input.kind}` });
          } catch (error) {
            // One that throws (not an agent's failure: a bug, the database) ends as `failed`.
            if (isCancellation(error)) throw error;
            return { kind: 'failed', error: reasonOf(error) };
          }
        }
        const handle = await DBOS.startWorkflow(phaseWorkflow, {
          workflowID: `${taskId}.${phaseKey}`,
          queueName: WORKER_QUEUE,
        })({ ...input, taskId, key: phaseKey } as PhaseInput);
        try {
          for (;;) {
            const result = await DBOS.recv<PhaseResult>(phaseTopic(phaseKey), PHASE_LOOK_SECONDS);
            if (result) return result;
            if (isFinished((await DBOS.getWorkflowStatus(handle.workflowID))?.status)) return await handle.getResult();
          }
        } catch (error) {
          if (isCancellation(error)) throw error;
          return { kind: 'failed', error: reasonOf(error) };
        }
      };

      const decision = (kinds: DecisionKind[]): Promise<Decision> => awaitDecision(taskId, kinds, key('decision'));

      /** A failure: the task shows it and waits for the person's retry (or cancel). */
      async function failAndAwaitRetry(error: string): Promise<void> {
        await recordFailure(taskId, error);
        await decision(['retry']);
        freshAfterFailure = true;
      }

      const checkpoint = (message: string) => {
        const commitKey = key('commit');
        return step('checkpoint', () => work.checkpoint(taskId, commitKey, message));
      };

      /** Runs the agent until it is done or has a plan: questions are asked and answered on the way; failures wait for a retry. */
      const agent = async (mode: 'plan' | 'implement', firstPrompt: string): Promise<AgentOutcome> => {
        let prompt = firstPrompt;
        for (;;) {
          const fresh = freshAfterFailure;
          freshAfterFailure = false;
          const outcome = (await phase({
            kind: 'agent',
            mode,
            prompt,
            ...(sessionId ? { sessionId } : {}),
            ...(fresh ? { fresh } : {}),
          })) as AgentOutcome;
          if (outcome.sessionId) sessionId = outcome.sessionId;
          if (outcome.kind === 'failed') {
            await failAndAwaitRetry(outcome.error);
            continue;
          }
          if (outcome.kind === 'done' && outcome.summary) lastSummary = outcome.summary;
          if (outcome.kind !== 'question') return outcome;
          // Keep what the agent did so far: the answer may come days later, after restarts.
          if (mode === 'implement') await checkpoint(`${setup.title} (work in progress, before a question)`);
          const askKey = key('ask');
          await step('ask', () => work.ask(taskId, askKey, outcome.questions));
          await decision(['answers']);
          const answers = await step('answers', () => work.answersOf(`${taskId}:${askKey}`));
          prompt = answersPrompt(answers);
        }
      };

      const setup = given ?? (await step('prepare', () => work.prepare(taskId)));

      // Plan, until the person approves one.
      if (!setup.skipPlan) {
        let prompt = planPrompt(setup);
        for (;;) {
          const outcome = await agent('plan', prompt);
          const plan = outcome.kind === 'plan' ? outcome.plan : outcome.kind === 'done' ? (outcome.summary ?? '') : '';
          await step('plan-ready', () => work.planReady(taskId, plan || '(the agent presented no plan)'));
          const decided = await decision(['plan']);
          if (decided.payload.decision === 'approve') break;
          prompt = revisePlanPrompt(String(decided.payload.feedback ?? ''));
        }
      }

      // Implement, check, review; until the person approves and the work is merged.
      let prompt = implementPrompt(setup, !setup.skipPlan);
      for (;;) {
        await agent('implement', prompt);
        if (setup.runtime === 'command' && !setup.hasProject) {
          // Nothing to check or review: the checkpoint and the completion are one step.
          const commitKey = key('commit');
          await step('complete', () => work.complete(taskId, { key: commitKey, message: setup.title }));
          return;
        }
        await checkpoint(setup.title);
        const checks = await runChecks();
        const summary = lastSummary;
        const reviewed = await step('review', () => work.readyForReview(taskId, { checks, summary }));
        if (setup.runtime === 'command' && !reviewed.changed) {
          await step('complete', () => work.complete(taskId));
          return;
        }
        const decided = await decision(['review']);
        if (decided.payload.decision === 'request_changes') {
          prompt = requestedChangesPrompt(String(decided.payload.feedback ?? ''));
          continue;
        }
        await merge();
        await step('complete', () => work.complete(taskId));
        return;
      }

      /** The project's checks, with failures going back to the agent within the budget. */
      async function runChecks(): Promise<TaskReview['checks']> {
        const command = setup.checkCommand;
        if (!command) return null;
        let total = 0;
        for (;;) {
          for (let round = 1; round <= options.checkRounds; round++) {
            total++;
            const result = (await phase({ kind: 'check' })) as PhaseResult;
            if (result.kind === 'failed') {
              await failAndAwaitRetry(result.error);
              round--;
              continue;
            }
            if (result.kind === 'checked' && result.passed) return { command, passed: true, rounds: total };
            const output = result.kind === 'checked' ? result.output : '';
            if (round === options.checkRounds || setup.runtime === 'command') {
              await failAndAwaitRetry(
                `the checks still fail after ${round} round${round === 1 ? '' : 's'}: ${lastLine(output)}`,
              );
              break;
            }
            await agent('implement', fixChecksPrompt(command, output, round, options.checkRounds));
            await checkpoint(`${setup.title} (fix the checks)`);
          }
        }
      }

      async function merge(): Promise<void> {
        for (let attempt = 1; ; attempt++) {
          const result = await step('merge', () => work.merge(taskId));
          if (result.merged) return;
          if (result.conflict && setup.runtime !== 'command' && attempt < MERGE_ATTEMPTS) {
            await agent('implement', mergeConflictPrompt(setup.baseBranch, result.files));
            await checkpoint(`${setup.title} (merge ${setup.baseBranch})`);
            continue;
          }
          const reason = result.conflict
            ? `the branch conflicts with ${setup.baseBranch} (${result.files.join(', ') || 'several files'})`
            : result.reason;
          await failAndAwaitRetry(`could not merge: ${reason}`);
        }
      }
    };
  const taskWorkflow = DBOS.registerWorkflow(runTask(true), { name: 'task.run' });
  /**
   * A task with nothing to plan, check or review (`runsPhasesAsSteps`: a command without a
   * project): its one run is a step, which waits for a process slot in TaskWork, not on the queue.
   * Its hand-over is then immediate (no queue poll, no child workflow, no message), and a task costs
   * a third of the durable bookkeeping.
   */
  const commandWorkflow = DBOS.registerWorkflow(runTask(false), { name: 'task.command' });

  return {
    async start(taskId, setup) {
      const workflow = setup && runsPhasesAsSteps(setup) ? commandWorkflow : taskWorkflow;
      await DBOS.startWorkflow(workflow, { workflowID: taskId })(taskId, setup);
    },
    async wake(taskId) {
      await DBOS.send(taskId, { at: Date.now() }, WAKE_TOPIC);
    },
    async cancel(taskId) {
      await DBOS.cancelWorkflow(taskId, { cancelChildren: true });
    },
    async status(taskId) {
      return (await DBOS.getWorkflowStatus(taskId))?.status;
    },
  };
}

/**
 * Whether a task's workflow runs its phases as steps (`task.command`) rather than as child workflows
 * on the worker queue (`task.run`): a command without a project, which has one phase and no wait but
 * a retry after a failure.
 */
export function runsPhasesAsSteps(setup: Pick<TaskSetup, 'runtime' | 'hasProject'>): boolean {
  return setup.runtime === 'command' && !setup.hasProject;
}

/**
 * How often DBOS looks for a queued phase to start, idle or not (one transaction each). An agent
 * phase runs for minutes, so starting it up to this late costs nothing a person sees, where 50 ms
 * kept an idle server at twenty transactions a second. (Commands without a project do not queue.)
 */
const QUEUE_POLLING_MS = 250;

/** Registers the worker queue; call after DBOS has launched. */
export async function registerWorkerQueue(concurrency: number): Promise<void> {
  await DBOS.registerQueue(WORKER_QUEUE, {
    globalConcurrency: concurrency,
    minPollingIntervalMs: QUEUE_POLLING_MS,
    onConflict: 'always_update',
  });
}

/** What a phase's end is sent on: one topic per phase, so that a wait takes its own phase's message only. */
function phaseTopic(phaseKey: string): string {
  return `phase-done:${phaseKey}`;
}

/** Whether a workflow with this DBOS status will not change any more. */
function isFinished(status: string | undefined): boolean {
  return status !== undefined && !['PENDING', 'ENQUEUED', 'DELAYED'].includes(status);
}

function isCancellation(error: unknown): boolean {
  return (
    error instanceof DBOSErrors.DBOSWorkflowCancelledError ||
    error instanceof DBOSErrors.DBOSAwaitedWorkflowCancelledError
  );
}

/** What went wrong, for a person: the last attempt's error when DBOS gave up after retries. */
function reasonOf(error: unknown): string {
  if (error instanceof DBOSErrors.DBOSMaxStepRetriesError && error.errors.length) return reasonOf(error.errors.at(-1));
  return error instanceof Error ? error.message : String(error);
}

function lastLine(output: string): string {
  const lines = output.trim().split('\n').filter(Boolean);
  return lines.at(-1)?.slice(0, 300) ?? 'no output';
}
