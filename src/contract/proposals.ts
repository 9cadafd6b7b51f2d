import { z } from 'zod';
import { Task } from './tasks.js';
import { CreateTaskRequest, Proposal, ProposalStatus } from './thread.js';

/** The Proposals routes' requests and answers (the `Proposal` itself is in thread.ts). */

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
