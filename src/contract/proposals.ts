import { z } from 'zod';
import { CreateTaskRequest, Task, TaskSpec } from './tasks.js';

/** What the main thread proposes (a task to start or to cancel), and the Proposals routes' requests and answers. */

export const ProposalKind = z.enum(['spawn_task', 'cancel_task']);
export const ProposalStatus = z.enum(['pending', 'confirmed', 'dismissed']);
export const CancelTaskPayload = z.object({ taskId: z.string(), reason: z.string().optional() });
export type CancelTaskPayload = z.infer<typeof CancelTaskPayload>;

export const Proposal = z.object({
  id: z.string(),
  kind: ProposalKind,
  status: ProposalStatus,
  payload: z.union([TaskSpec, CancelTaskPayload]),
  taskId: z.string().optional(),
  messageId: z.string(),
  createdAt: z.string(),
});
export type Proposal = z.infer<typeof Proposal>;

/** GET /api/proposals?status= */
export const ListProposalsQuery = z.object({ status: ProposalStatus.optional() });
export type ListProposalsQuery = z.infer<typeof ListProposalsQuery>;

export const ProposalList = z.object({ proposals: z.array(Proposal) });
export type ProposalList = z.infer<typeof ProposalList>;

/** POST /api/proposals/:id/confirm: `payload` replaces a spawn_task proposal's payload (the person edited it). */
export const ConfirmProposalRequest = z.object({ payload: CreateTaskRequest.optional() });
export type ConfirmProposalRequest = z.infer<typeof ConfirmProposalRequest>;

/** `task`: the task a spawn_task proposal created, or the task a cancel_task proposal cancelled. */
export const ConfirmProposalResponse = z.object({ proposal: Proposal, task: Task.optional() });
export type ConfirmProposalResponse = z.infer<typeof ConfirmProposalResponse>;

/** POST /api/proposals/:id/dismiss */
export const ProposalResponse = z.object({ proposal: Proposal });
export type ProposalResponse = z.infer<typeof ProposalResponse>;

export const ProposalIdParams = z.object({ id: z.string().min(1, 'id is required') });
