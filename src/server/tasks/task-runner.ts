import type { Task } from '../../contract/tasks.js';

/**
 * What starts and stops a task's work once it is created or cancelled: the seam issue 4 fills
 * with the task workflow (a DBOS workflow whose id is the task id).
 *
 * Until then nothing runs a task: this runner does nothing, so a created task stays `queued`
 * and a cancelled one simply shows `cancelled`.
 */
export class IdleTaskRunner {
  async enqueue(_task: Task): Promise<void> {}

  async cancel(_task: Task): Promise<void> {}
}
export type TaskRunner = Pick<IdleTaskRunner, keyof IdleTaskRunner>;
