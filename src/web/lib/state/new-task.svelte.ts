import type { Task, TaskSpec } from '../../../contract/index.js';
import { errorMessage, type ApiClient } from '../api/client.js';

/** A task started without the chat (the inbox's "New task"): the form open or not, its sending, why it failed. */
export class NewTaskState {
  open = $state(false);
  busy = $state(false);
  error: string | undefined = $state();

  readonly #api: ApiClient;

  constructor(api: ApiClient) {
    this.#api = api;
  }

  show(): void {
    this.open = true;
    this.error = undefined;
  }

  close(): void {
    if (this.busy) return;
    this.open = false;
    this.error = undefined;
  }

  /** `POST /api/tasks`; the form closes when the task is made, and stays with the reason when not. */
  async create(spec: TaskSpec): Promise<Task | undefined> {
    if (this.busy) return undefined;
    this.busy = true;
    this.error = undefined;
    try {
      const { task } = await this.#api.createTask(spec);
      this.open = false;
      return task;
    } catch (error) {
      this.error = errorMessage(error);
      return undefined;
    } finally {
      this.busy = false;
    }
  }
}
