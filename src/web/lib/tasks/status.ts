import type { Task, TaskStatus } from '../../../contract/index.js';

/** Statuses in which an agent or check is at work (the badge pulses). */
export const WORKING: ReadonlySet<TaskStatus> = new Set(['planning', 'implementing', 'checking']);
/** Nothing more happens to these. */
export const FINISHED: ReadonlySet<TaskStatus> = new Set(['completed', 'cancelled']);

export function canCancel(task: Pick<Task, 'status'>): boolean {
  return !FINISHED.has(task.status);
}

/**
 * The tasks the inbox lists for now: everything not completed or cancelled, those that wait for
 * the person first (a question, a plan, a review, a failure), then newest first.
 */
export function activeTasks(tasks: Iterable<Task>): Task[] {
  const waiting = (task: Task) =>
    task.needsInput ||
    task.status === 'awaiting_plan_approval' ||
    task.status === 'awaiting_review' ||
    task.status === 'failed';
  return [...tasks]
    .filter((task) => !FINISHED.has(task.status))
    .sort(
      (a, b) =>
        Number(waiting(b)) - Number(waiting(a)) || b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id),
    );
}

/** 45s · 4m 12s · 1h 5m */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 ? `${minutes}m ${seconds % 60}s` : `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours}h ${minutes % 60}m` : `${hours}h`;
}
