import type { TaskStatus } from '../../../contract/index.js';

export type StatusTone = 'neutral' | 'active' | 'attention' | 'success' | 'danger';

/** How a task's status reads in a badge, and its colour family. */
export const TASK_STATUS_LABELS: Record<TaskStatus, { label: string; tone: StatusTone }> = {
  queued: { label: 'queued', tone: 'neutral' },
  planning: { label: 'planning', tone: 'active' },
  awaiting_plan_approval: { label: 'plan ready', tone: 'attention' },
  implementing: { label: 'implementing', tone: 'active' },
  checking: { label: 'checking', tone: 'active' },
  awaiting_review: { label: 'ready for review', tone: 'attention' },
  completed: { label: 'completed', tone: 'success' },
  failed: { label: 'failed', tone: 'danger' },
  cancelled: { label: 'cancelled', tone: 'neutral' },
};

export function taskStatusLabel(status: string, needsInput = false): { label: string; tone: StatusTone } {
  if (needsInput) return { label: 'needs you', tone: 'attention' };
  return TASK_STATUS_LABELS[status as TaskStatus] ?? { label: status, tone: 'neutral' };
}
