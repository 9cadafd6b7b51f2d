import type { Task } from '../../contract/tasks.js';

/**
 * What starts and stops a task's work once it is created or cancelled. In the product this is
 * the workers module (src/server/workers: a DBOS workflow whose id is the task id).
 *
 * This runner does nothing: a created task stays `queued` and a cancelled one simply shows
 * `cancelled`. Tests of the tasks API use it to look at tasks without their work changing them.
 */
export class IdleTaskRunner {
  async enqueue(_task: Task): Promise<void> {}

  async cancel(_task: Task): Promise<void> {}
}
export type TaskRunner = Pick<IdleTaskRunner, keyof IdleTaskRunner>;
