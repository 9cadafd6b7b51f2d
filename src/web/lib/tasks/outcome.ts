import type { Task, TaskMerge } from '../../../contract/index.js';
import type { ConnectionStatus } from '../events/event-stream.js';

/** What approving a review does, as its button says it: a merge only when there is something to merge. */
export function approveLabel(task: Pick<Task, 'projectId' | 'review'>): string {
  if (!task.review?.files.length) return 'Complete without merging';
  return task.projectId ? 'Approve and merge' : 'Approve';
}

/**
 * What a completed task did with its work, for its page: merged (the commit and files are kept on
 * the task), nothing changed (completed without a merge), kept in its workspace (no project), or
 * merged before mainloop kept what a merge brought in. Undefined for a task that is not completed or
 * was never reviewed.
 */
export type TaskOutcome =
  { kind: 'merged'; merge: TaskMerge } | { kind: 'unchanged' } | { kind: 'kept' } | { kind: 'completed' };

export function outcomeOf(task: Task): TaskOutcome | undefined {
  if (task.status !== 'completed' || !task.review) return undefined;
  if (task.merge) return { kind: 'merged', merge: task.merge };
  if (!task.review.files.length) return { kind: 'unchanged' };
  return task.projectId ? { kind: 'completed' } : { kind: 'kept' };
}

/** Whether a completed task's change can still be shown: from the project (merged) or its workspace (kept). */
export function outcomeHasDiff(outcome: TaskOutcome | undefined): boolean {
  return outcome?.kind === 'merged' || outcome?.kind === 'kept';
}

/**
 * What a task's log says of its liveness while the task works: live only while the event stream
 * is, in the words of the header's connection indicator otherwise (the log does not grow then).
 * Undefined while the task is not at work.
 */
export function logLiveness(working: boolean, connection: ConnectionStatus): string | undefined {
  if (!working) return undefined;
  switch (connection) {
    case 'live':
      return 'live';
    case 'offline':
      return 'offline: not updating';
    default:
      return `${connection}…`;
  }
}
