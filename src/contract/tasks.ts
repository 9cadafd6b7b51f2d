import { z } from 'zod';
import { Runtime, Usage } from './thread.js';

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

export const Task = z.object({
  id: z.string(),
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
  error: z.string().optional(),
  usage: Usage.optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Task = z.infer<typeof Task>;

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
