import type { Logger } from 'pino';
import type { AnswerRequest, Question } from '../../contract/questions.js';
import {
  taskReference,
  type LogEntry,
  type PlanDecisionRequest,
  type ReviewDecisionRequest,
  type Task,
  type TaskDiffResponse,
} from '../../contract/tasks.js';
import type { Db, Trx } from '../db/database.js';
import { DomainError, notFound } from '../errors.js';
import type { EventService } from '../events/index.js';
import type { Clock } from '../lib/clock.js';
import { within } from '../lib/deadline.js';
import type { TaskRepository, TaskService } from '../tasks/index.js';
import type { DecisionKind, DecisionRepository } from './decision.repository.js';
import type { QuestionRepository } from './question.repository.js';
import type { TaskLogRepository } from './task-log.repository.js';
import { scratchSetup, type TaskWork } from './task-work.js';
import type { TaskWorkflow } from './task.workflow.js';
import type { WorkspaceManager } from './workspace.js';

/** An open question as the main thread's context lists it. */
export type OpenQuestion = Pick<Question, 'id' | 'taskId' | 'text'>;

export interface WorkerServiceDeps {
  db: Db;
  tasks: TaskRepository;
  taskService: TaskService;
  questions: QuestionRepository;
  logs: TaskLogRepository;
  decisions: DecisionRepository;
  events: Pick<EventService, 'append'>;
  workspaces: WorkspaceManager;
  work: TaskWork;
  clock: Clock;
  logger: Logger;
  /** the inbox (issue 5): an answered question's item is done in the answer's transaction */
  attention?: { questionResolved(trx: Trx, userId: string, questionId: string): Promise<void> };
}

const LOG_PAGE = 500;
const QUESTION_LIST_LIMIT = 500;
/** How many task workflows start at the same time (see WorkerService.enqueue). */
const STARTS_AT_ONCE = 2;
/** The longest a cancel waits for DBOS to record it (see WorkerService.cancel). */
const CANCEL_WAIT_MS = 5_000;

/**
 * What the person does to a running task: approve or revise its plan, answer its questions,
 * review its work, retry it after a failure; and what they read of it: logs and diff. Each
 * decision is checked against the task's state, stored (with its events) and only then handed
 * to the workflow, which wakes and takes it. Also the TaskRunner of TaskService (start, cancel).
 */
export class WorkerService {
  private workflow: TaskWorkflow | undefined;
  /** Workflow starts waiting for their turn (see enqueue). */
  private readonly starting: Array<() => void> = [];
  private started = 0;

  constructor(private readonly deps: WorkerServiceDeps) {}

  /** The workflow is registered with DBOS after this service exists (it calls back into it). */
  attach(workflow: TaskWorkflow): void {
    this.workflow = workflow;
  }

  // TaskRunner: TaskService calls these after its transaction commits.
  /**
   * Starts the task's workflow, STARTS_AT_ONCE at a time: fifty tasks submitted together would
   * otherwise start fifty workflows at once, and the first ones, whose commands could already run,
   * would wait for all the others' bookkeeping (only MAINLOOP_WORKER_CONCURRENCY run anyway).
   */
  async enqueue(task: Task): Promise<void> {
    if (this.started >= STARTS_AT_ONCE) await new Promise<void>((resolve) => this.starting.push(resolve));
    this.started++;
    try {
      await this.requireWorkflow().start(task.id, scratchSetup(task));
    } finally {
      this.started--;
      this.starting.shift()?.();
    }
  }

  /**
   * Stops the task's workflow and its run. DBOS keeps trying while its database is unreachable: the
   * cancel waits for it at most CANCEL_WAIT_MS, and it goes on in the background past that (the task
   * is stored as cancelled already; its run is stopped here in any case).
   */
  async cancel(task: Task): Promise<void> {
    const { logger } = this.deps;
    const cancelling = this.requireWorkflow()
      .cancel(task.id)
      .catch((error: unknown) => logger.warn({ err: error, taskId: task.id }, 'could not cancel a task’s workflow'));
    const late = await within(cancelling, CANCEL_WAIT_MS, () => new Error('late')).then(
      () => false,
      () => true,
    );
    if (late)
      logger.warn(
        { taskId: task.id },
        'a task’s workflow is not cancelled yet: it will be once DBOS reaches its database',
      );
    await this.deps.work.cleanUpCancelled(task);
  }

  /**
   * The start-up sweep: a task stored but never started (the process died between the commit and
   * the enqueue) gets its workflow now. Workflows that did start were recovered by DBOS itself.
   */
  async recover(): Promise<void> {
    const workflow = this.requireWorkflow();
    for (const task of await this.deps.tasks.listUnfinished(this.deps.db)) {
      if (await workflow.status(task.id)) continue;
      this.deps.logger.info({ taskId: task.id }, 'starting a task that was stored but never started');
      await workflow
        .start(task.id, scratchSetup(task))
        .catch((error: unknown) => this.deps.logger.error({ err: error, taskId: task.id }, 'could not start a task'));
    }
  }

  async decidePlan(userId: string, taskId: string, request: PlanDecisionRequest): Promise<Task> {
    const approve = request.decision === 'approve';
    return this.decide(
      userId,
      taskId,
      'plan',
      'awaiting_plan_approval',
      { ...request },
      {
        what: approve ? 'approve the plan' : 'revise the plan',
        logged: () => (approve ? 'Plan approved.' : `Plan sent back: ${request.feedback}`),
      },
    );
  }

  async decideReview(userId: string, taskId: string, request: ReviewDecisionRequest): Promise<Task> {
    const approve = request.decision === 'approve';
    return this.decide(
      userId,
      taskId,
      'review',
      'awaiting_review',
      { ...request },
      {
        what: approve ? 'approve the work' : 'request changes',
        logged: (task) =>
          !approve
            ? `Changes requested: ${request.feedback}`
            : task.projectId && task.review?.files.length
              ? 'Work approved, to be merged.'
              : 'Work approved, nothing to merge.',
      },
    );
  }

  async retry(userId: string, taskId: string): Promise<Task> {
    return this.decide(
      userId,
      taskId,
      'retry',
      'failed',
      {},
      {
        what: 'retry',
        logged: (task) => `Retried (attempt ${task.attempt + 1}).`,
      },
    );
  }

  async answer(userId: string, questionId: string, request: AnswerRequest): Promise<Question> {
    const { db, questions, decisions, events, clock, taskService } = this.deps;
    let wake: string | undefined;
    const answered = await db.transaction().execute(async (trx) => {
      const question = await questions.find(trx, userId, questionId, { forUpdate: true });
      if (!question) throw notFound(`question ${questionId}`);
      if (question.status !== 'open') {
        throw new DomainError('CONFLICT', `question ${questionId} is already ${question.status}`);
      }
      const answer = checkAnswer(question, request.answer);
      const stored = await questions.answer(trx, question.id, answer, clock.now());
      await events.append(trx, userId, 'question.answered', { question: stored });
      await this.deps.attention?.questionResolved(trx, userId, question.id);
      // The ask is complete when none of its questions is open: the agent then resumes with all answers.
      const rest = await questions.listAsk(trx, question.askId);
      if (rest.every((other) => other.status !== 'open')) {
        await decisions.insert(trx, question.taskId, 'answers', { askId: question.askId });
        wake = question.taskId;
      }
      if ((await questions.countOpen(trx, question.taskId)) === 0) {
        await taskService.updateWithin(trx, userId, question.taskId, { needsInput: false });
      }
      return stored;
    });
    if (wake) await this.wake(wake);
    return answered;
  }

  async listQuestions(userId: string, filter: { status?: Question['status']; taskId?: string }): Promise<Question[]> {
    return this.deps.questions.list(this.deps.db, userId, { ...filter, limit: QUESTION_LIST_LIMIT });
  }

  async logs(
    userId: string,
    taskId: string,
    after = 0,
    limit = LOG_PAGE,
  ): Promise<{ entries: LogEntry[]; hasMore: boolean }> {
    await this.deps.taskService.get(userId, taskId);
    const entries = await this.deps.logs.page(this.deps.db, taskId, after, limit + 1);
    return { entries: entries.slice(0, limit), hasMore: entries.length > limit };
  }

  /**
   * The task's change against its base, from its workspace; once a merged task's workspace is gone,
   * what its merge brought in, from the project's repository. 409 when there is neither (not started
   * yet, cancelled, or completed without a merge).
   */
  async diff(userId: string, taskId: string): Promise<TaskDiffResponse & { text: () => Promise<string> }> {
    const { db, tasks, workspaces, taskService, work } = this.deps;
    const task = await taskService.get(userId, taskId);
    const internals = await tasks.internals(db, taskId);
    if (internals?.baseCommit && (await workspaces.exists(taskId))) {
      const base = internals.baseCommit;
      return {
        base,
        head: await workspaces.head(taskId),
        files: await workspaces.diffFiles(taskId, base),
        text: () => workspaces.diffText(taskId, base),
      };
    }
    const checkout = task.merge && (await work.checkoutOf({ userId, projectId: task.projectId }));
    if (!task.merge || !checkout) {
      throw new DomainError(
        'CONFLICT',
        `task ${taskReference(task)} has no changes to show now: it has not started yet, or it ended without merging any`,
      );
    }
    const { onto, commit } = task.merge;
    try {
      return {
        base: onto,
        head: commit,
        files: await workspaces.projectDiffFiles(checkout, onto, commit),
        text: () => workspaces.projectDiffText(checkout, onto, commit),
      };
    } catch (error) {
      throw new DomainError(
        'CONFLICT',
        `the project's repository no longer has what task ${taskReference(task)} merged (${commit.slice(0, 7)})`,
        { cause: error },
      );
    }
  }

  /** Open questions for the main thread's context (its answer_question tool answers them through answerFromThread). */
  async listOpen(userId: string, limit: number): Promise<OpenQuestion[]> {
    const open = await this.deps.questions.list(this.deps.db, userId, { status: 'open', limit });
    return open.map((question) => ({ id: question.id, taskId: question.taskId, text: question.text }));
  }

  async answerFromThread(
    userId: string,
    questionId: string,
    answer: string | string[],
  ): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      await this.answer(userId, questionId, { answer });
      return { ok: true };
    } catch (error) {
      if (error instanceof DomainError && error.code === 'NOT_FOUND') {
        return { ok: false, error: `no open question with id ${questionId}` };
      }
      if (error instanceof DomainError) return { ok: false, error: error.message };
      throw error;
    }
  }

  /**
   * Stores a decision with the task's new state and, in the task's log, what the person decided (with
   * their feedback): the task's history. `what`: the decision in an error's words.
   */
  private async decide(
    userId: string,
    taskId: string,
    kind: DecisionKind,
    expected: Task['status'],
    payload: Record<string, unknown>,
    { what, logged }: { what: string; logged: (task: Task) => string },
  ): Promise<Task> {
    const { db, tasks, decisions, taskService, logs, clock } = this.deps;
    const task = await db.transaction().execute(async (trx: Trx) => {
      const current = await tasks.find(trx, userId, taskId, { forUpdate: true });
      if (!current) throw notFound(`task ${taskId}`);
      if (current.status !== expected) {
        throw new DomainError(
          'CONFLICT',
          `cannot ${what}: task ${taskId} is ${current.status.replaceAll('_', ' ')}, not ${expected.replaceAll('_', ' ')}`,
        );
      }
      if (await decisions.hasPending(trx, taskId)) {
        throw new DomainError('CONFLICT', `task ${taskId} is already acting on a decision; wait a moment`);
      }
      await decisions.insert(trx, taskId, kind, payload);
      // The row is locked (above), as the log's writers take it: the log's numbers stay gapless.
      const entries = await logs.append(trx, taskId, [{ kind: 'decision', text: logged(current), at: clock.now() }]);
      const approveReview = kind === 'review' && payload.decision === 'approve';
      return taskService.updateWithin(
        trx,
        userId,
        taskId,
        {
          ...(approveReview ? {} : { status: 'queued' as const }),
          ...(kind === 'retry' ? { attempt: current.attempt + 1, error: null } : {}),
        },
        { locked: current, events: [{ type: 'task.log', data: { taskId, entries } }] },
      );
    });
    await this.wake(taskId);
    return task;
  }

  private async wake(taskId: string): Promise<void> {
    try {
      await this.requireWorkflow().wake(taskId);
    } catch (error) {
      // Stored: the workflow finds it at its next look (at the latest within the hour).
      this.deps.logger.warn({ err: error, taskId }, 'could not wake a task’s workflow');
    }
  }

  private requireWorkflow(): TaskWorkflow {
    if (!this.workflow) throw new Error('the task workflow is not registered');
    return this.workflow;
  }
}

/** An answer must fit its question: one of the options or free text; several options only for a multi-select. */
function checkAnswer(question: Question, answer: string | string[]): string | string[] {
  if (Array.isArray(answer)) {
    if (!question.multiSelect) {
      if (answer.length === 1) return answer[0]!;
      throw new DomainError('VALIDATION_FAILED', 'answer: this question takes one answer, not several', {
        details: { issues: [{ path: 'answer', message: 'one answer expected' }] },
      });
    }
    return [...new Set(answer)];
  }
  return answer;
}
