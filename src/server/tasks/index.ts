export { TaskService, attentionNote, type TaskReporter, type WithinTransaction } from './task.service.js';
export {
  TaskRepository,
  FINISHED_TASK_STATUSES,
  toTask,
  type TaskChanges,
  type TaskInternals,
} from './task.repository.js';
export { IdleTaskRunner, type TaskRunner } from './task-runner.js';
export { taskRoutes } from './task.routes.js';
