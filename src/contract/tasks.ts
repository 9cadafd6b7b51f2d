import { z } from 'zod';
import { MAX_MESSAGE_LENGTH, Usage } from './thread.js';

export const TASK_STATUSES = [
  'queued',
  'planning',
  'awaiting_plan_approval',
  'implementing',
  'checking',
  'awaiting_review',
  'completed',
  'failed',
  'cancelled',
] as const;
export const TaskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const RUNTIMES = ['claude-code', 'codex', 'command'] as const;
export const Runtime = z.enum(RUNTIMES);
export type Runtime = z.infer<typeof Runtime>;

/** What a task is asked to be: `spawn_task`'s input, a proposal's payload, `POST /api/tasks`'s body. */
export const TaskSpec = z.object({
  title: z.string().trim().min(1, 'title is required').max(200, 'title is at most 200 characters'),
  prompt: z.string().trim().min(1, 'prompt is required').max(MAX_MESSAGE_LENGTH),
  projectId: z.string().min(1).optional(),
  runtime: Runtime.optional(),
  model: z.string().min(1).max(200).optional(),
  skipPlan: z.boolean().optional(),
  command: z.string().min(1).max(10_000).optional(),
});
export type TaskSpec = z.infer<typeof TaskSpec>;

/**
 * A TaskSpec that can become a task: `POST /api/tasks`'s body, an edited proposal's payload and
 * what `spawn_task` is checked against. A `command` task names its command; no other runtime takes one.
 */
export const CreateTaskRequest = TaskSpec.superRefine((spec, context) => {
  if (spec.runtime === 'command' && !spec.command) {
    context.addIssue({ code: 'custom', path: ['command'], message: 'a task with runtime "command" needs `command`' });
  }
  if (spec.command && spec.runtime !== 'command') {
    context.addIssue({
      code: 'custom',
      path: ['runtime'],
      message: '`command` is only for runtime "command" (set runtime to "command", or leave command out)',
    });
  }
});
export type CreateTaskRequest = z.infer<typeof CreateTaskRequest>;

/** One file of a task's change against its base: `GET /api/tasks/:id/diff` (JSON) and the review summary. */
export const DiffFile = z.object({
  path: z.string(),
  additions: z.number().int().nonnegative(),
  deletions: z.number().int().nonnegative(),
  /** the unified diff of this file (empty in a review summary) */
  patch: z.string(),
});
export type DiffFile = z.infer<typeof DiffFile>;

/** What the person sees when a task asks for review: sized for a phone. */
export const TaskReview = z.object({
  files: z.array(DiffFile.omit({ patch: true })),
  additions: z.number().int().nonnegative(),
  deletions: z.number().int().nonnegative(),
  /** the project's check command and how it ended; null when the task has none */
  checks: z
    .object({
      command: z.string(),
      passed: z.boolean(),
      /** how many check runs it took (a failure goes back to the agent to fix) */
      rounds: z.number().int().positive(),
    })
    .nullable(),
  /** time from the task's start to this review */
  durationMs: z.number().int().nonnegative(),
  /** what the agent said it did, shortened */
  summary: z.string().optional(),
  commit: z.string(),
});
export type TaskReview = z.infer<typeof TaskReview>;

/** What approving a task merged into its project: kept on the task, which outlives its workspace. */
export const TaskMerge = z.object({
  /** the merge commit, in the project's repository */
  commit: z.string(),
  /** the commit it was merged onto (its first parent): the merge's change is `onto..commit` */
  onto: z.string(),
  /** the branch merged into (the project's default branch) */
  into: z.string(),
  files: z.array(DiffFile.omit({ patch: true })),
  additions: z.number().int().nonnegative(),
  deletions: z.number().int().nonnegative(),
  at: z.string(),
});
export type TaskMerge = z.infer<typeof TaskMerge>;

export const Task = z.object({
  id: z.string(),
  /** the task's number among its owner's tasks, from 1 (shown as `#12`) */
  number: z.number().int().positive(),
  title: z.string(),
  prompt: z.string(),
  projectId: z.string().nullable(),
  runtime: Runtime,
  model: z.string().optional(),
  command: z.string().optional(),
  skipPlan: z.boolean(),
  status: TaskStatus,
  needsInput: z.boolean(),
  attempt: z.number().int(),
  branch: z.string().optional(),
  plan: z.string().optional(),
  issueUrl: z.string().optional(),
  prUrl: z.string().optional(),
  review: TaskReview.optional(),
  /** set once approval merged the work into the project (a review with no change completes without one) */
  merge: TaskMerge.optional(),
  error: z.string().optional(),
  usage: Usage.optional(),
  /** set while a step has been silent longer than MAINLOOP_STEP_STUCK_AFTER_MS: when it went quiet */
  stuckSince: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Task = z.infer<typeof Task>;

/** How a task is named to a person: `#12`, its number among its owner's tasks (the id is for machines). */
export function taskReference(task: Pick<Task, 'number'>): string {
  return `#${task.number}`;
}

/** GET /api/tasks?status=&projectId= */
export const ListTasksQuery = z.object({
  status: TaskStatus.optional(),
  projectId: z.string().min(1).optional(),
});
export type ListTasksQuery = z.infer<typeof ListTasksQuery>;

export const TaskList = z.object({ tasks: z.array(Task) });
export type TaskList = z.infer<typeof TaskList>;

/** GET /api/tasks/:id, POST /api/tasks → 201 */
export const TaskResponse = z.object({ task: Task });
export type TaskResponse = z.infer<typeof TaskResponse>;

export const TaskIdParams = z.object({ id: z.string().min(1, 'id is required') });

/** POST /api/tasks/:id/plan */
export const PlanDecisionRequest = z
  .object({
    decision: z.enum(['approve', 'revise']),
    feedback: z.string().trim().max(20_000).optional(),
  })
  .refine((body) => body.decision !== 'revise' || (body.feedback?.length ?? 0) > 0, {
    path: ['feedback'],
    message: 'revise needs feedback: what should change in the plan',
  });
export type PlanDecisionRequest = z.infer<typeof PlanDecisionRequest>;

/**
 * POST /api/tasks/:id/review: `approve` merges the work into the project's default branch, or
 * completes the task without a merge when it changed nothing (or has no project to merge into).
 */
export const ReviewDecisionRequest = z
  .object({
    decision: z.enum(['approve', 'request_changes']),
    feedback: z.string().trim().max(20_000).optional(),
  })
  .refine((body) => body.decision !== 'request_changes' || (body.feedback?.length ?? 0) > 0, {
    path: ['feedback'],
    message: 'request_changes needs feedback: what should change',
  });
export type ReviewDecisionRequest = z.infer<typeof ReviewDecisionRequest>;

/**
 * Where a log entry came from: the viewer tags and folds by it. `decision`: what the person decided
 * (a plan approved or sent back, changes requested, with their feedback).
 */
export const LOG_KINDS = ['system', 'agent', 'tool', 'tool_result', 'stdout', 'stderr', 'status', 'decision'] as const;
export const LogKind = z.enum(LOG_KINDS);
export type LogKind = z.infer<typeof LogKind>;

export const LogEntry = z.object({
  /** increasing within the task, from 1 */
  seq: z.number().int().positive(),
  at: z.string(),
  kind: LogKind,
  text: z.string(),
});
export type LogEntry = z.infer<typeof LogEntry>;

/** GET /api/tasks/:id/logs?after=&limit= */
export const TaskLogsQuery = z.object({
  after: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export const TaskLogsResponse = z.object({ entries: z.array(LogEntry), hasMore: z.boolean() });
export type TaskLogsResponse = z.infer<typeof TaskLogsResponse>;

/** GET /api/tasks/:id/diff with Accept: application/json */
export const TaskDiffResponse = z.object({
  base: z.string(),
  head: z.string(),
  files: z.array(DiffFile),
});
export type TaskDiffResponse = z.infer<typeof TaskDiffResponse>;
