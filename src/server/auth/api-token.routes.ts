import { z } from 'zod';
import { CreateTokenRequest, CreateTokenResponse, TokenIdParams, TokenList } from '../../contract/auth.js';
import type { RoutePlugin } from '../http/app.js';
import { principalOf } from '../http/request-context.js';
import type { ApiTokenService } from './api-token.service.js';

/** GET /api/tokens · POST /api/tokens · DELETE /api/tokens/:id */
export function apiTokenRoutes(tokens: ApiTokenService): RoutePlugin {
  return (api) => {
    api.get(
      '/tokens',
      { schema: { tags: ['tokens'], summary: 'Your API tokens (never their secrets)', response: { 200: TokenList } } },
      async (request) => ({ tokens: await tokens.list(principalOf(request).userId) }),
    );

    api.post(
      '/tokens',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Create an API token; its secret is in this answer only',
          body: CreateTokenRequest,
          response: { 201: CreateTokenResponse },
        },
      },
      async (request, reply) =>
        reply.status(201).send(await tokens.create(principalOf(request).userId, request.body.name)),
    );

    api.delete(
      '/tokens/:id',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Revoke an API token: it stops working at once',
          params: TokenIdParams,
          response: { 204: z.undefined() },
        },
      },
      async (request, reply) => {
        await tokens.revoke(principalOf(request).userId, request.params.id);
        return reply.status(204).send();
      },
    );
  };
}
