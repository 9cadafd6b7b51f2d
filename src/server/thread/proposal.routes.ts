import {
  ConfirmProposalRequest,
  ConfirmProposalResponse,
  ListProposalsQuery,
  ProposalIdParams,
  ProposalList,
  ProposalResponse,
} from '../../contract/proposals.js';
import type { RoutePlugin } from '../http/app.js';
import { principalOf } from '../http/request-context.js';
import type { ProposalService } from './proposal.service.js';

/** GET /api/proposals · GET /api/proposals/:id · POST /api/proposals/:id/confirm · POST /api/proposals/:id/dismiss */
export function proposalRoutes(proposals: ProposalService): RoutePlugin {
  return (api) => {
    api.get(
      '/proposals',
      {
        schema: {
          tags: ['proposals'],
          summary: 'What the main thread proposed (oldest first), optionally by status',
          querystring: ListProposalsQuery,
          response: { 200: ProposalList },
        },
      },
      async (request) => ({ proposals: await proposals.list(principalOf(request).userId, request.query) }),
    );

    api.get(
      '/proposals/:id',
      {
        schema: {
          tags: ['proposals'],
          summary: 'One proposal, whatever its status (a card after a reload)',
          params: ProposalIdParams,
          response: { 200: ProposalResponse },
        },
      },
      async (request) => ({ proposal: await proposals.get(principalOf(request).userId, request.params.id) }),
    );

    api.post(
      '/proposals/:id/confirm',
      {
        schema: {
          tags: ['proposals'],
          summary:
            'Say yes: a spawn_task proposal creates its task (with `payload` when edited), a cancel_task one cancels it',
          params: ProposalIdParams,
          body: ConfirmProposalRequest,
          response: { 200: ConfirmProposalResponse },
        },
      },
      async (request) => proposals.confirm(principalOf(request).userId, request.params.id, request.body),
    );

    api.post(
      '/proposals/:id/dismiss',
      {
        schema: {
          tags: ['proposals'],
          summary: 'Say no to a proposal',
          params: ProposalIdParams,
          response: { 200: ProposalResponse },
        },
      },
      async (request) => ({ proposal: await proposals.dismiss(principalOf(request).userId, request.params.id) }),
    );
  };
}
