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
