import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Question } from '../../contract/questions.js';
import type { DiffFile, Runtime, Task, TaskReview, TaskStatus } from '../../contract/tasks.js';
import type { Usage } from '../../contract/thread.js';
import type { WorkersConfig } from '../config/index.js';
import type { Db } from '../db/database.js';
import type { EventService } from '../events/index.js';
import type { Clock } from '../lib/clock.js';
import type { Ids } from '../lib/ids.js';
import { storable } from '../lib/storable-text.js';
import type { ProjectService } from '../projects/index.js';
import type { TaskChanges, TaskInternals, TaskRepository, TaskService } from '../tasks/index.js';
import type { Decision, DecisionKind, DecisionRepository } from './decision.repository.js';
import { TaskLogWriter } from './log-writer.js';
import type { QuestionRepository } from './question.repository.js';
import type { AgentOutcome, AgentRequest, AskedQuestion } from './runtime.js';
import { CommandRuntime } from './runtimes/command.js';
import type { RuntimeRegistry } from './runtimes/index.js';
import type { EgressPolicy, EgressRoute } from './egress-proxy.js';
import { SandboxUnavailable, type OpenSandbox, type Sandboxes } from './sandboxes.js';
import { explainMissingProgram } from './missing-program.js';
import type { TaskLogRepository } from './task-log.repository.js';
import type { MergeResult, ProjectCheckout, WorkspaceManager } from './workspace.js';

/** What the workflow needs to know about its task, read once at its start. */
export interface TaskSetup {
  title: string;
  prompt: string;
  runtime: Runtime;
  skipPlan: boolean;
  hasProject: boolean;
  checkCommand: string | null;
  baseBranch: string;
}

/** One long step of a task, run from the worker queue: an agent run or the project's checks. */
export type PhaseInput =
  | {
      kind: 'agent';
      taskId: string;
      key: string;
      mode: 'plan' | 'implement';
      prompt: string;
      sessionId?: string;
      fresh?: boolean;
    }
  | { kind: 'check'; taskId: string; key: string };

export type PhaseResult = AgentOutcome | { kind: 'checked'; passed: boolean; output: string };

/** A task with its owner and internals, as read at the start of a step: the workflow knows a task by id only. */
type OwnedTask = Task & { userId: string; internals: TaskInternals };

/** A run's hold on one of this process's process slots: cancel aborts it; `release` frees the slot (once). */
interface RunSlot {
  controller: AbortController;
  release: () => void;
}

/** How many workspaces this process makes at once. */
const PREPARE_AT_ONCE = 4;
/** How much of a failed check's output goes back to the agent. */
const CHECK_OUTPUT_LINES = 80;

export interface TaskWorkDeps {
  db: Db;
  tasks: TaskRepository;
  taskService: TaskService;
  projects: ProjectService;
  questions: QuestionRepository;
  logs: TaskLogRepository;
  decisions: DecisionRepository;
  events: Pick<EventService, 'append'>;
  workspaces: WorkspaceManager;
  runtimes: RuntimeRegistry;
  config: WorkersConfig & { dataDir: string };
  sandboxes: Pick<Sandboxes, 'open'>;
  clock: Clock;
  ids: Ids;
  logger: Logger;
}

/**
 * The steps of a task's workflow (task.workflow.ts), one method each. Each is idempotent or
 * keyed, so a step that runs again after a crash changes nothing twice; each stores what it
 * changed (with `task.updated`) before it returns.
 */
export class TaskWork {
  /** Runs in progress in this process (or waiting for a slot), to stop on cancel. */
  private readonly running = new Map<string, AbortController>();
  /** Workspaces made at once in this process: fifty tasks submitted together do not all clone at once. */
  private readonly preparing = new Limiter(PREPARE_AT_ONCE);
  /**
   * The processes (agents, checks, commands) running at once: MAINLOOP_WORKER_CONCURRENCY. A run
   * holds its slot from its start to its process's end, and the next one waiting starts at once.
   */
  private readonly slots: Limiter;

  constructor(private readonly deps: TaskWorkDeps) {
    this.slots = new Limiter(deps.config.concurrency);
  }

  /**
   * Reads what the workflow needs and, for a task with a project, clones its workspace (outside
   * the concurrency limit: a clone is cheap next to an agent run, and it is made while others
   * run). A scratch workspace is a few files written: its first phase makes it.
   */
  async prepare(taskId: string): Promise<TaskSetup> {
    const task = await this.task(taskId);
    const project = task.projectId ? await this.deps.projects.find(task.userId, task.projectId) : undefined;
    const checkout = project && toCheckout(project);
    if (checkout) {
      await this.preparing.run(async () => {
        const made = await this.ensureWorkspace(task);
        if (made) await this.update(task, made);
      });
    }
    return (
      scratchSetup(task) ?? {
        ...setupOf(task),
        hasProject: !!checkout,
        checkCommand: project?.checkCommand ?? null,
        baseBranch: checkout?.defaultBranch ?? 'main',
      }
    );
  }

  /**
   * Creates the task's workspace (a clone of its project, or a scratch repository) unless it
   * exists (a phase checks again: a workspace removed meanwhile is made anew); answers the branch
   * and base commit to store when it made one.
   */
  private async ensureWorkspace(task: OwnedTask): Promise<Pick<TaskChanges, 'branch' | 'baseCommit'> | undefined> {
    const { workspaces } = this.deps;
    if (task.internals.baseCommit && (await workspaces.exists(task.id))) return undefined;
    const project = task.projectId ? await this.deps.projects.find(task.userId, task.projectId) : undefined;
    const prepared = await workspaces.prepare(task, project && toCheckout(project));
    return { branch: prepared.branch, baseCommit: prepared.baseCommit };
  }

  /**
   * One phase (from the worker queue, or a step of a command task's workflow): its workspace is
   * made, then it waits for a process slot (see `slots`), then it runs.
   */
  async runPhase(input: PhaseInput): Promise<PhaseResult> {
    const task = await this.task(input.taskId);
    if (task.status === 'cancelled') return { kind: 'failed', error: 'cancelled' };
    let made: TaskChanges | undefined;
    try {
      made = await this.ensureWorkspace(task);
    } catch (error) {
      return {
        kind: 'failed',
        error: `could not prepare the workspace: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    const controller = new AbortController();
    this.running.set(task.id, controller);
    let release: () => void;
    try {
      release = await this.slots.acquire(controller.signal);
    } catch {
      this.running.delete(task.id);
      return { kind: 'failed', error: 'cancelled' };
    }
    const slot: RunSlot = { controller, release };
    try {
      // Counted once it holds its slot: a phase that only waited did not start.
      const again = await this.startedBefore(input.taskId, input.key);
      const log = this.logWriter(task);
      if (again || (input.kind === 'agent' && input.fresh)) {
        await this.deps.workspaces.reset(task.id);
        if (again)
          log.write(
            'system',
            'This step is running again after an interruption: the workspace is back at its last checkpoint.',
          );
      }
      // The new status (with a workspace made now) is stored while the run starts: the run does not
      // wait for it, the slot's hand-over is a transaction shorter. The phase ends once it is stored.
      const stored = this.update(task, {
        ...made,
        status: input.kind === 'check' ? 'checking' : input.mode === 'plan' ? 'planning' : 'implementing',
        error: null,
        startedAt: this.deps.clock.now(), // kept when set before
      });
      stored.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
      try {
        const result =
          input.kind === 'check' ? await this.check(task, log, slot) : await this.agent(task, input, log, slot);
        // What the agent said (a plan, questions, a summary, an error), stored but for what Postgres refuses
        return storable(result);
      } finally {
        await log.close();
        await stored;
      }
    } finally {
      slot.release();
      if (this.running.get(task.id) === controller) this.running.delete(task.id);
    }
  }

  /** Checkpoints the workspace as one commit, once per key. */
  async checkpoint(taskId: string, key: string, message: string): Promise<{ commit: string; changed: boolean }> {
    return this.deps.workspaces.commit(taskId, key, message);
  }

  /** Stores the agent's questions (once per key) and marks the task as needing the person. */
  async ask(taskId: string, key: string, asked: AskedQuestion[]): Promise<void> {
    const { db, questions, events, clock, ids } = this.deps;
    const task = await this.task(taskId);
    if (task.status === 'cancelled') return;
    await db.transaction().execute(async (trx) => {
      const created = await questions.insertAsk(trx, {
        userId: task.userId,
        taskId,
        askId: `${taskId}:${key}`,
        questions: asked,
        ids: asked.map(() => ids.id()),
        at: clock.now(),
      });
      for (const question of created) await events.append(trx, task.userId, 'question.created', { question });
    });
    // Also when this step runs again and finds its questions stored: the task needs the person.
    await this.update(task, { needsInput: true });
  }

  /** The person's answers to one ask, in order, for the prompt that resumes the agent. */
  async answersOf(askId: string): Promise<Array<{ question: string; answer: string | string[] }>> {
    const asked = await this.deps.questions.listAsk(this.deps.db, askId);
    return asked.map((question: Question) => ({ question: question.text, answer: question.answer ?? '(no answer)' }));
  }

  /** The oldest waiting decision of these kinds, taken for the wait `key` (the same again for the same key). */
  async takeDecision(taskId: string, kinds: DecisionKind[], key: string): Promise<Decision | undefined> {
    const { db, decisions, clock } = this.deps;
    return db.transaction().execute((trx) => decisions.take(trx, taskId, kinds, key, clock.now()));
  }

  async planReady(taskId: string, plan: string): Promise<void> {
    const task = await this.task(taskId);
    await this.update(task, { plan, status: 'awaiting_plan_approval' });
  }

  /** Publishes the branch (a project's) and asks for review with a phone-sized summary. */
  async readyForReview(
    taskId: string,
    info: { checks: TaskReview['checks']; summary: string | undefined },
  ): Promise<{ changed: boolean }> {
    const { workspaces, clock } = this.deps;
    const task = await this.task(taskId);
    const { internals } = task;
    const base = internals.baseCommit ?? (await workspaces.head(taskId));
    const files = await workspaces.diffFiles(taskId, base, { withPatch: false });
    const head = await workspaces.head(taskId);
    const checkout = task.branch && files.length ? await this.checkoutOf(task) : undefined;
    if (checkout) await workspaces.publish(taskId, checkout, task.branch!);
    const review: TaskReview = {
      ...changeSummary(files),
      checks: info.checks,
      durationMs: Math.max(0, clock.now().getTime() - (internals.startedAt ?? new Date(task.createdAt)).getTime()),
      ...(info.summary ? { summary: info.summary.slice(0, 1_000) } : {}),
      commit: head,
    };
    await this.update(task, { review, status: 'awaiting_review', needsInput: false });
    return { changed: files.length > 0 };
  }

  /**
   * Merges the approved work into the project's default branch and keeps on the task what it merged
   * (`merge`: the commit and its files, which the task page shows once the workspace is gone).
   * Nothing to merge — no project, or work that changed no file — is done at once: the task then
   * completes without a merge.
   */
  async merge(taskId: string): Promise<{ merged: true } | Exclude<MergeResult, { merged: true }>> {
    const { workspaces, clock } = this.deps;
    const task = await this.task(taskId);
    if (!task.projectId || !task.branch) return { merged: true };
    const base = task.internals.baseCommit ?? (await workspaces.head(taskId));
    if (!(await workspaces.diffFiles(taskId, base, { withPatch: false })).length) return { merged: true };
    const project = await this.deps.projects.find(task.userId, task.projectId);
    if (!project) return { merged: false, conflict: false, reason: 'the task’s project was removed' };
    const checkout = toCheckout(project);
    if (!checkout) return { merged: false, conflict: false, reason: 'only local projects can be merged for now' };
    await workspaces.publish(taskId, checkout, task.branch);
    const result = await workspaces.merge(taskId, checkout, task.branch, task.title);
    if (!result.merged) return result;
    // Merged some other way already (no merge commit of ours): what it brought in is the work itself.
    const onto = result.onto ?? base;
    const files = await workspaces.diffFiles(taskId, onto, { withPatch: false, head: result.commit });
    await this.update(task, {
      merge: {
        commit: result.commit,
        onto,
        into: checkout.defaultBranch,
        ...changeSummary(files),
        at: clock.now().toISOString(),
      },
    });
    return { merged: true };
  }

  /**
   * Done: a project's workspace goes (its branch stays in the repository); a scratch one stays, it
   * holds the work. With `checkpoint` the workspace is committed first (once per key): a task with
   * nothing to check or review ends in this one step.
   */
  async complete(taskId: string, checkpoint?: { key: string; message: string }): Promise<void> {
    const task = await this.task(taskId);
    if (checkpoint && task.status !== 'completed') await this.checkpoint(taskId, checkpoint.key, checkpoint.message);
    if (task.projectId) await this.deps.workspaces.remove(taskId);
    await this.changeWithNote(
      task,
      { status: 'completed', needsInput: false, error: null, stuckSince: null },
      completionNote(task),
    );
  }

  /**
   * The task shows `failed` with the reason (an agent's words, or an error's, made storable; a
   * program that is not installed said as such, with how to install it) and
   * waits for a retry only: a decision still waiting (one whose taking failed) is dropped, or the
   * person's retry would be refused as a second decision.
   */
  async fail(taskId: string, error: string): Promise<void> {
    const { db, decisions, clock } = this.deps;
    const task = await this.task(taskId);
    const reason = storable(explainMissingProgram(error));
    await decisions.dropPending(db, taskId, clock.now());
    await this.changeWithNote(
      task,
      { status: 'failed', error: reason, needsInput: false, stuckSince: null },
      `Failed: ${reason}`,
    );
  }

  /** Stops the run of this task in this process, if one is going (cancel). */
  stop(taskId: string): boolean {
    const controller = this.running.get(taskId);
    controller?.abort(new Error('cancelled'));
    return !!controller;
  }

  /** After a cancel: the agent is stopped, questions closed, decisions dropped, the workspace removed (a project's branch kept). */
  async cleanUpCancelled(cancelled: Task): Promise<void> {
    const { db, questions, decisions, events, workspaces, clock, logger } = this.deps;
    this.stop(cancelled.id);
    const userId = await this.ownerOf(cancelled.id);
    if (!userId) return;
    const task = { ...cancelled, userId };
    await db.transaction().execute(async (trx) => {
      for (const question of await questions.cancelOpen(trx, task.id)) {
        await events.append(trx, task.userId, 'question.answered', { question });
      }
      await decisions.dropPending(trx, task.id, clock.now());
    });
    try {
      const checkout = task.branch ? await this.checkoutOf({ ...task, userId }) : undefined;
      if (checkout && (await workspaces.exists(task.id))) {
        const internals = await this.deps.tasks.internals(db, task.id);
        const head = await workspaces.head(task.id);
        if (internals?.baseCommit && head !== internals.baseCommit)
          await workspaces.publish(task.id, checkout, task.branch!);
      }
    } catch (error) {
      logger.warn({ err: error, taskId: task.id }, 'could not keep a cancelled task’s branch');
    }
    await workspaces.remove(task.id);
  }

  /** The local repository of the task's project, if it has one (a merged task's change is read there once its workspace is gone). */
  async checkoutOf(task: Pick<OwnedTask, 'userId' | 'projectId'>): Promise<ProjectCheckout | undefined> {
    const project = task.projectId ? await this.deps.projects.find(task.userId, task.projectId) : undefined;
    return project && toCheckout(project);
  }

  /** The task's owner, for callers that know only its id. */
  async ownerOf(taskId: string): Promise<string | undefined> {
    return this.deps.tasks.ownerOf(this.deps.db, taskId);
  }

  private async agent(
    task: OwnedTask,
    input: Extract<PhaseInput, { kind: 'agent' }>,
    log: TaskLogWriter,
    slot: RunSlot,
  ): Promise<AgentOutcome> {
    const runtime = this.deps.runtimes.get(task.runtime);
    if (!runtime) return { kind: 'failed', error: `the ${task.runtime} runtime is not available on this server` };
    const availability = await runtime.availability();
    if (!availability.available) return { kind: 'failed', error: `${task.runtime} cannot run: ${availability.reason}` };
    const project = task.projectId ? await this.deps.projects.find(task.userId, task.projectId) : undefined;
    const access = {
      network: networkFor(runtime.egress?.() ?? [], project?.allowNetwork ?? false),
      readOnlyWorkspace: input.mode === 'plan',
    };
    const outcome = await this.supervised(task, log, slot, access, (run) =>
      runtime.run({
        ...run,
        taskId: task.id,
        mode: input.mode,
        prompt: input.prompt,
        ...(input.sessionId ? { sessionId: input.sessionId } : {}),
        ...(task.model ? { model: task.model } : {}),
        ...(task.command ? { command: task.command } : {}),
        log: (entry) => log.write(entry.kind, entry.text),
      }),
    );
    const changes: TaskChanges = {};
    if (outcome.sessionId) changes.sessionId = outcome.sessionId;
    if (outcome.usage) changes.usage = addUsage(task.usage, outcome.usage);
    if (Object.keys(changes).length) await this.update(task, changes);
    return outcome;
  }

  private async check(task: OwnedTask, log: TaskLogWriter, slot: RunSlot): Promise<PhaseResult> {
    const project = task.projectId ? await this.deps.projects.find(task.userId, task.projectId) : undefined;
    const command = project?.checkCommand;
    if (!command) return { kind: 'checked', passed: true, output: '' };
    const runner = new CommandRuntime({ tailLines: CHECK_OUTPUT_LINES });
    log.write('system', `Running the project's checks: ${command}`);
    const access = { network: networkFor([], project?.allowNetwork ?? false) };
    const outcome = await this.supervised(task, log, slot, access, (run) =>
      runner.run({
        ...run,
        taskId: task.id,
        mode: 'implement',
        prompt: '',
        command,
        log: (e) => log.write(e.kind, e.text),
      }),
    );
    if (outcome.kind === 'done') return { kind: 'checked', passed: true, output: '' };
    return { kind: 'checked', passed: false, output: outcome.kind === 'failed' ? outcome.error : '' };
  }

  /**
   * Runs `work` with a scrubbed environment in the task's sandbox (reaching what `access.network`
   * allows; a plan run sees its workspace read-only),
   * under a watchdog: silence longer than stuckAfterMs flags the task stuck, longer than stuckLimitMs
   * stops it, and no run lasts longer than stepTimeoutMs. Cancel (`stop`) aborts it; the runtime ends
   * its process tree. The slot is freed as soon as the work ends, before its last lines and status
   * are stored. No sandbox (bubblewrap missing, MAINLOOP_SANDBOX not `none`): the run fails saying so.
   */
  private async supervised(
    task: OwnedTask,
    log: TaskLogWriter,
    slot: RunSlot,
    access: { network: EgressPolicy | undefined; readOnlyWorkspace?: boolean },
    work: (run: Pick<AgentRequest, 'cwd' | 'stateDir' | 'env' | 'sandbox' | 'signal'>) => Promise<AgentOutcome>,
  ): Promise<AgentOutcome> {
    const { workspaces, sandboxes, config, clock } = this.deps;
    const { path: cwd, home, gitDir, state: stateDir } = workspaces.paths(task.id);
    let opened: OpenSandbox;
    try {
      await workspaces.linkGitDir(task.id);
      opened = await sandboxes.open({ taskId: task.id, workspace: cwd, home, gitDir, ...access });
    } catch (error) {
      if (error instanceof SandboxUnavailable) return { kind: 'failed', error: error.message };
      return { kind: 'failed', error: `could not set up the task's sandbox: ${messageOf(error)}` };
    }
    const { sandbox } = opened;
    const tmp = path.join(home, 'tmp');
    if (sandbox.kind === 'none') await mkdir(tmp, { recursive: true });
    const env = scrubbedEnv({ home, tmp: sandbox.kind === 'bubblewrap' ? '/tmp' : tmp });
    const { controller } = slot;
    const startedAt = clock.now().getTime();
    let lastActivity = startedAt;
    let stuckSince: number | undefined;
    let stopReason: string | undefined;
    const unwatch = log.watch(() => {
      lastActivity = clock.now().getTime();
      if (stuckSince !== undefined) {
        stuckSince = undefined;
        void this.update(task, { stuckSince: null }).catch(() => {});
      }
    });
    const watchdog = setInterval(
      () => {
        const now = clock.now().getTime();
        const silent = now - lastActivity;
        if (now - startedAt > config.stepTimeoutMs) {
          stopReason = `the step ran longer than its limit of ${minutes(config.stepTimeoutMs)}`;
        } else if (silent > config.stuckLimitMs) {
          stopReason = `no output for ${minutes(silent)}: stopped as stuck`;
        } else if (silent > config.stuckAfterMs && stuckSince === undefined) {
          stuckSince = lastActivity;
          log.write('system', `No output for ${minutes(silent)}: this step may be stuck.`, { quiet: true });
          void this.update(task, { stuckSince: new Date(lastActivity) }).catch(() => {});
        }
        if (stopReason && !controller.signal.aborted) controller.abort(new Error(stopReason));
      },
      Math.max(50, Math.min(5_000, Math.floor(config.stuckAfterMs / 4))),
    );
    try {
      const outcome = await work({ cwd, stateDir, env, sandbox, signal: controller.signal });
      if (stopReason) return { ...outcome, kind: 'failed', error: stopReason };
      return outcome;
    } catch (error) {
      return { kind: 'failed', error: `the runtime failed: ${messageOf(error)}` };
    } finally {
      slot.release();
      await opened.close().catch(() => {});
      clearInterval(watchdog);
      unwatch();
      if (stuckSince !== undefined) await this.update(task, { stuckSince: null }).catch(() => {});
    }
  }

  private async startedBefore(taskId: string, key: string): Promise<boolean> {
    const row = await this.deps.db
      .insertInto('task_step_runs')
      .values({ task_id: taskId, key })
      .onConflict((conflict) =>
        conflict.columns(['task_id', 'key']).doUpdateSet((eb) => ({ runs: eb('task_step_runs.runs', '+', 1) })),
      )
      .returning('runs')
      .executeTakeFirstOrThrow();
    return row.runs > 1;
  }

  private async task(taskId: string): Promise<OwnedTask> {
    const task = await this.deps.tasks.findForWork(this.deps.db, taskId);
    if (!task) throw new Error(`task ${taskId} does not exist`);
    return task;
  }

  private async update(task: OwnedTask, changes: TaskChanges): Promise<Task> {
    return this.deps.taskService.update(task.userId, task.id, changes);
  }

  /**
   * A change of the task's status with its line in the log, stored (with their events) in one
   * transaction. Nothing when the task is cancelled or completed, or already has that status (the
   * step runs again after a crash: its line is there once).
   */
  private async changeWithNote(
    task: OwnedTask,
    changes: TaskChanges & { status: TaskStatus },
    text: string,
  ): Promise<void> {
    const { db, tasks, taskService, logs, clock } = this.deps;
    await db.transaction().execute(async (trx) => {
      // The row first, as the log writer takes it: the log's numbers stay gapless.
      const before = await tasks.find(trx, task.userId, task.id, { forUpdate: true });
      if (!before || before.status === 'cancelled' || before.status === 'completed') return;
      if (before.status === changes.status) return;
      const entries = await logs.append(trx, task.id, [{ kind: 'status', text, at: clock.now() }]);
      await taskService.updateWithin(trx, task.userId, task.id, changes, {
        locked: before,
        events: [{ type: 'task.log', data: { taskId: task.id, entries } }],
      });
    });
  }

  private logWriter(task: OwnedTask): TaskLogWriter {
    const { db, logs, events, clock, logger } = this.deps;
    return new TaskLogWriter({ db, logs, events, clock, logger }, { id: task.id, userId: task.userId });
  }
}

/**
 * The setup of a task without a project, which its creator knows as well as `prepare` does: its
 * workflow starts with it and needs no step to read it. Undefined for a task with a project.
 */
export function scratchSetup(task: Task): TaskSetup | undefined {
  if (task.projectId) return undefined;
  return { ...setupOf(task), hasProject: false, checkCommand: null, baseBranch: 'main' };
}

/** The files of a change, without their patches, and its totals: a review's or a merge's. */
function changeSummary(files: DiffFile[]): Pick<TaskReview, 'files' | 'additions' | 'deletions'> {
  return {
    files: files.map(({ path: file, additions, deletions }) => ({ path: file, additions, deletions })),
    additions: files.reduce((sum, file) => sum + file.additions, 0),
    deletions: files.reduce((sum, file) => sum + file.deletions, 0),
  };
}

/** The log's last line of a task: what its completion did with the work. */
function completionNote(task: Task): string {
  if (task.merge) return `Completed: merged into ${task.merge.into} as ${task.merge.commit.slice(0, 7)}.`;
  if (task.review && !task.review.files.length) return 'Completed without a merge: nothing changed.';
  return 'Completed.';
}

function setupOf(task: Task): Pick<TaskSetup, 'title' | 'prompt' | 'runtime' | 'skipPlan'> {
  return { title: task.title, prompt: task.prompt, runtime: task.runtime, skipPlan: task.skipPlan };
}

function toCheckout(project: {
  repo: { kind: string; path?: string };
  defaultBranch: string;
}): ProjectCheckout | undefined {
  if (project.repo.kind !== 'local' || !project.repo.path) return undefined;
  return { repoPath: project.repo.path, defaultBranch: project.defaultBranch };
}

/**
 * The agent's whole environment: enough to run tools (PATH, locale, a HOME and TMPDIR of the
 * task's own), nothing of the server's (no DATABASE_URL, no API keys, no MAINLOOP_*). A runtime
 * adds the credentials it was configured with.
 */
export function scrubbedEnv(paths: { home: string; tmp: string }): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: paths.home,
    TMPDIR: paths.tmp,
    LANG: process.env.LANG ?? 'C.UTF-8',
    TERM: 'dumb',
    CI: 'true',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'mainloop worker',
    GIT_AUTHOR_EMAIL: 'worker@mainloop.localhost',
    GIT_COMMITTER_NAME: 'mainloop worker',
    GIT_COMMITTER_EMAIL: 'worker@mainloop.localhost',
  };
}

export function addUsage(total: Usage | undefined, more: Usage): Usage {
  const costUsd = (total?.costUsd ?? 0) + (more.costUsd ?? 0);
  return {
    inputTokens: (total?.inputTokens ?? 0) + more.inputTokens,
    outputTokens: (total?.outputTokens ?? 0) + more.outputTokens,
    ...(total?.costUsd !== undefined || more.costUsd !== undefined ? { costUsd } : {}),
  };
}

/**
 * A run's network: none, unless its runtime needs hosts (the model API) or the project allows the
 * internet (`allowNetwork`), and then only those through the egress proxy.
 */
function networkFor(allowed: EgressRoute[], open: boolean): EgressPolicy | undefined {
  return allowed.length || open ? { allowed, open } : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function minutes(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** Runs at most `limit` of the given jobs at once, the others in the order they came. */
class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await job();
    } finally {
      release();
    }
  }

  /**
   * Waits for a place; answers how to give it back (once), which hands it straight to the next one
   * waiting. Rejects, leaving the line, when `signal` aborts first.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active < this.limit) this.active++;
    else {
      await new Promise<void>((resolve, reject) => {
        const take = () => {
          signal?.removeEventListener('abort', leave);
          resolve();
        };
        const leave = () => {
          this.waiting.splice(this.waiting.indexOf(take), 1);
          reject(signal!.reason);
        };
        this.waiting.push(take);
        signal?.addEventListener('abort', leave, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}
