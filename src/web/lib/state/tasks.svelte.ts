import type {
  AnswerRequest,
  PlanDecisionRequest,
  Project,
  Question,
  ReviewDecisionRequest,
  Task,
} from '../../../contract/index.js';
import { errorMessage, type ApiClient } from '../api/client.js';
import type { ConnectionStatus, EventStream } from '../events/event-stream.js';
import { subscribeTaskEvents } from '../events/task-events.js';
import { activeTasks } from '../tasks/status.js';
import type { ProjectList } from './project-list.svelte.js';
import { TaskLogState } from './task-log.svelte.js';

/**
 * The person's tasks and their workers' questions, kept live: `GET /api/tasks` and the open
 * questions at start and whenever the event stream is live again (a gap may have passed), and
 * `task.updated` / `question.*` in between. Logs are held only for the tasks someone watches.
 * The chat's proposals read their tasks from here too: one copy of each task in the app.
 */
export class TasksState {
  tasks: Record<string, Task> = $state({});
  questions: Record<string, Question> = $state({});
  /** the list has been loaded once */
  loaded = $state(false);
  loadError: string | undefined = $state();
  readonly active: Task[] = $derived(activeTasks(Object.values(this.tasks)));

  readonly #api: ApiClient;
  readonly #stream: EventStream;
  readonly #projects: ProjectList;
  readonly #logs = new Map<string, { log: TaskLogState; watchers: number }>();
  readonly #requested = new Set<string>();
  #stop: (() => void) | undefined;
  #generation = 0;

  constructor(api: ApiClient, stream: EventStream, projects: ProjectList) {
    this.#api = api;
    this.#stream = stream;
    this.#projects = projects;
  }

  /** the projects by id, for names on cards */
  get projects(): Record<string, Project> {
    return this.#projects.byId;
  }

  start(): void {
    if (this.#stop) return;
    const stopEvents = subscribeTaskEvents(this.#stream, {
      'task.updated': ({ task }) => this.receive(task),
      'task.log': ({ taskId, entries }) => this.#logs.get(taskId)?.log.receive(entries),
      'question.created': ({ question }) => this.receiveQuestion(question),
      'question.answered': ({ question }) => this.receiveQuestion(question),
    });
    let previous: ConnectionStatus = this.#stream.status;
    const stopStatus = this.#stream.onStatus((status) => {
      if (status === 'live' && previous !== 'live') this.#caughtUp();
      previous = status;
    });
    this.#stop = () => {
      stopEvents();
      stopStatus();
    };
    void this.load();
  }

  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
    this.#generation++;
    this.#requested.clear();
    for (const { log } of this.#logs.values()) log.close();
    this.#logs.clear();
    this.tasks = {};
    this.questions = {};
    this.loaded = false;
    this.loadError = undefined;
  }

  /** The task list and the open questions. */
  async load(): Promise<void> {
    const generation = this.#generation;
    try {
      const [{ tasks }, { questions }] = await Promise.all([
        this.#api.listTasks(),
        this.#api.listQuestions({ status: 'open' }),
      ]);
      if (generation !== this.#generation) return;
      for (const task of tasks) this.receive(task);
      const open = new Set(questions.map((question) => question.id));
      for (const question of questions) this.receiveQuestion(question);
      // Held as open but no longer listed: answered or cancelled while we were away.
      const stale = Object.values(this.questions).filter(
        (question) => question.status === 'open' && !open.has(question.id),
      );
      for (const taskId of new Set(stale.map((question) => question.taskId))) void this.loadQuestions(taskId);
      this.loaded = true;
      this.loadError = undefined;
    } catch (error) {
      if (generation === this.#generation) this.loadError = errorMessage(error);
    }
  }

  /** A newer version of a task; an older one (a slow response after an event) is ignored. */
  receive(task: Task): void {
    const held = this.tasks[task.id];
    if (held && held.updatedAt > task.updatedAt) return;
    this.tasks[task.id] = task;
  }

  /** An answered or cancelled question never opens again. */
  receiveQuestion(question: Question): void {
    const held = this.questions[question.id];
    if (held && held.status !== 'open' && question.status === 'open') return;
    this.questions[question.id] = question;
  }

  /** A card or note needs this task: ask the server once when it is not known. */
  async ensure(id: string): Promise<void> {
    if (this.tasks[id] || this.#requested.has(id)) return;
    this.#requested.add(id);
    try {
      await this.refresh(id);
    } catch {
      this.#requested.delete(id); // try again next time something asks
    }
  }

  /** Fetches one task (throws what the API throws: a 404 for an unknown id). */
  async refresh(id: string): Promise<Task> {
    const generation = this.#generation;
    const { task } = await this.#api.getTask(id);
    if (generation === this.#generation) this.receive(task);
    return task;
  }

  async loadQuestions(taskId: string): Promise<void> {
    const generation = this.#generation;
    const { questions } = await this.#api.listQuestions({ taskId });
    if (generation !== this.#generation) return;
    for (const question of questions) this.receiveQuestion(question);
  }

  questionsOf(taskId: string): Question[] {
    return Object.values(this.questions).filter((question) => question.taskId === taskId);
  }

  /** Starts holding a task's log (paged in, then live); `release` when no longer shown. */
  watchLog(taskId: string): { log: TaskLogState; release: () => void } {
    let watched = this.#logs.get(taskId);
    if (!watched) {
      watched = { log: new TaskLogState(this.#api, taskId), watchers: 0 };
      this.#logs.set(taskId, watched);
      void watched.log.sync();
    }
    watched.watchers++;
    const held = watched;
    let released = false;
    return {
      log: held.log,
      release: () => {
        if (released) return;
        released = true;
        if (--held.watchers > 0 || this.#logs.get(taskId) !== held) return;
        held.log.close();
        this.#logs.delete(taskId);
      },
    };
  }

  // What the person does; each answer is the task as it is now.
  cancel(id: string): Promise<Task> {
    return this.#taskAction(this.#api.cancelTask(id));
  }
  retry(id: string): Promise<Task> {
    return this.#taskAction(this.#api.retryTask(id));
  }
  decidePlan(id: string, decision: PlanDecisionRequest): Promise<Task> {
    return this.#taskAction(this.#api.decidePlan(id, decision));
  }
  decideReview(id: string, decision: ReviewDecisionRequest): Promise<Task> {
    return this.#taskAction(this.#api.decideReview(id, decision));
  }
  async answer(questionId: string, answer: AnswerRequest['answer']): Promise<Question> {
    const { question } = await this.#api.answerQuestion(questionId, answer);
    this.receiveQuestion(question);
    return question;
  }

  async #taskAction(request: Promise<{ task: Task }>): Promise<Task> {
    const { task } = await request;
    this.receive(task);
    return task;
  }

  #caughtUp(): void {
    void this.load();
    for (const { log } of this.#logs.values()) void log.sync();
    for (const taskId of this.#logs.keys()) {
      void this.refresh(taskId).catch(() => {});
      void this.loadQuestions(taskId).catch(() => {});
    }
  }
}
