import type { Question, Task, TaskDiffResponse } from '../../../contract/index.js';
import { ApiRequestError, errorMessage, type ApiClient } from '../api/client.js';
import { currentAsk } from '../tasks/answers.js';
import type { TaskLogState } from './task-log.svelte.js';
import type { TasksState } from './tasks.svelte.js';

export type TaskAction = 'cancel' | 'retry' | 'plan' | 'review' | 'answer';

/**
 * One task's page: the task and its open questions (from TasksState), its live log, its diff
 * while it waits for review (and what it merged, after), and what the person does to it, one
 * action at a time.
 */
export class TaskView {
  readonly id: string;
  readonly task: Task | undefined = $derived.by(() => this.#tasks.tasks[this.id]);
  /** the open questions of the oldest ask: what the wizard walks through */
  readonly questions: Question[] = $derived.by(() => currentAsk(this.#tasks.questionsOf(this.id)));
  readonly projectName: string | undefined = $derived.by(() => {
    const projectId = this.task?.projectId;
    return projectId ? (this.#tasks.projects[projectId]?.name ?? projectId) : undefined;
  });
  log: TaskLogState | undefined = $state.raw();
  notFound = $state(false);
  loadError: string | undefined = $state();

  busy: TaskAction | undefined = $state();
  actionError: string | undefined = $state();
  /** which action `actionError` is about (the wizard shows its own, the header the rest) */
  failedAction: TaskAction | undefined = $state();
  /** the task's updatedAt when a decision was accepted: its buttons stay away until the task moves on */
  decidedAt: string | undefined = $state();

  diff: TaskDiffResponse | undefined = $state.raw();
  diffError: string | undefined = $state();
  #diffFor: string | undefined;

  readonly #tasks: TasksState;
  readonly #api: ApiClient;

  constructor(tasks: TasksState, api: ApiClient, id: string) {
    this.#tasks = tasks;
    this.#api = api;
    this.id = id;
  }

  /** Loads the task, its questions and its log, and keeps the log live; returns the close function. */
  open(): () => void {
    const watched = this.#tasks.watchLog(this.id);
    this.log = watched.log;
    this.#tasks.refresh(this.id).then(
      () => (this.loadError = undefined),
      (error: unknown) => {
        if (error instanceof ApiRequestError && error.status === 404) this.notFound = true;
        else this.loadError = errorMessage(error);
      },
    );
    this.#tasks.loadQuestions(this.id).catch(() => {}); // the open ones came with the list already
    return watched.release;
  }

  /** whether a decision was just accepted and the task has not moved on yet */
  get decided(): boolean {
    return this.decidedAt !== undefined && this.decidedAt === this.task?.updatedAt;
  }

  /** The diff of the commit under review, or of what the task merged; once per commit. */
  async loadDiff(): Promise<void> {
    const commit = this.task?.merge?.commit ?? this.task?.review?.commit;
    if (!commit || commit === this.#diffFor) return;
    this.#diffFor = commit;
    this.diffError = undefined;
    try {
      const diff = await this.#api.getTaskDiff(this.id);
      if (this.#diffFor === commit) this.diff = diff;
    } catch (error) {
      if (this.#diffFor !== commit) return;
      this.#diffFor = undefined;
      this.diffError = `Could not load the changes: ${errorMessage(error)}`;
    }
  }

  cancel(): Promise<boolean> {
    return this.#act('cancel', () => this.#tasks.cancel(this.id));
  }
  retry(): Promise<boolean> {
    return this.#act('retry', () => this.#tasks.retry(this.id));
  }
  approvePlan(): Promise<boolean> {
    return this.#act('plan', () => this.#tasks.decidePlan(this.id, { decision: 'approve' }), true);
  }
  revisePlan(feedback: string): Promise<boolean> {
    return this.#act('plan', () => this.#tasks.decidePlan(this.id, { decision: 'revise', feedback }), true);
  }
  approveReview(): Promise<boolean> {
    return this.#act('review', () => this.#tasks.decideReview(this.id, { decision: 'approve' }), true);
  }
  requestChanges(feedback: string): Promise<boolean> {
    return this.#act(
      'review',
      () => this.#tasks.decideReview(this.id, { decision: 'request_changes', feedback }),
      true,
    );
  }

  /**
   * The wizard's answers, sent one question at a time in order (the last one resumes the agent).
   * If one fails, those before it stay answered and the wizard shows what is still open.
   */
  answer(answers: Array<{ questionId: string; answer: string | string[] }>): Promise<boolean> {
    return this.#act('answer', async () => {
      for (const { questionId, answer } of answers) await this.#tasks.answer(questionId, answer);
    });
  }

  async #act(action: TaskAction, run: () => Promise<Task | void>, decision = false): Promise<boolean> {
    if (this.busy) return false;
    this.busy = action;
    this.actionError = undefined;
    this.failedAction = undefined;
    try {
      const task = await run();
      if (decision && task) this.decidedAt = task.updatedAt;
      return true;
    } catch (error) {
      this.actionError = errorMessage(error);
      this.failedAction = action;
      // the task may have moved on meanwhile (a 409): show it as it is
      void this.#tasks.refresh(this.id).catch(() => {});
      return false;
    } finally {
      this.busy = undefined;
    }
  }
}
