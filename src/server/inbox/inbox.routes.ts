import {
  CreateInboxItemRequest,
  InboxHistoryQuery,
  InboxHistoryResponse,
  InboxItemIdParams,
  InboxItemResponse,
  InboxQuery,
  InboxResponse,
  SnoozeRequest,
} from '../../contract/inbox.js';
import type { RoutePlugin } from '../http/app.js';
import { principalOf } from '../http/request-context.js';
import type { InboxService } from './inbox.service.js';

/** GET /api/inbox · /api/inbox/history · POST /api/inbox/items · /api/inbox/items/:id/done|snooze */
export function inboxRoutes(inbox: InboxService): RoutePlugin {
  return (api) => {
    const tags = ['inbox'];
    api.get(
      '/inbox',
      {
        schema: {
          tags,
          summary: 'The attention queue: what needs you, active work, failures, recent completions, history count',
          querystring: InboxQuery,
          response: { 200: InboxResponse },
        },
        // The largest answer the app asks for on every change (hundreds of items with their
        // tasks), built from typed rows: written as is, without checking it against its schema.
        serializerCompiler: () => (data) => JSON.stringify(data),
      },
      async (request) => inbox.view(principalOf(request).userId, request.query),
    );
    api.get(
      '/inbox/history',
      {
        schema: {
          tags,
          summary: 'Done items, newest first; `q` searches titles and bodies, `before` pages',
          querystring: InboxHistoryQuery,
          response: { 200: InboxHistoryResponse },
        },
      },
      async (request) => inbox.history(principalOf(request).userId, request.query),
    );
    api.post(
      '/inbox/items',
      {
        schema: {
          tags,
          summary:
            'Put something in front of the person (a script, a cron job, CI); the same dedupeKey updates the same live item',
          body: CreateInboxItemRequest,
          response: { 201: InboxItemResponse },
        },
      },
      async (request, reply) =>
        reply.status(201).send({ item: await inbox.post(principalOf(request).userId, request.body) }),
    );
    api.get(
      '/inbox/items/:id',
      { schema: { tags, summary: 'One inbox item', params: InboxItemIdParams, response: { 200: InboxItemResponse } } },
      async (request) => ({ item: await inbox.get(principalOf(request).userId, request.params.id) }),
    );
    api.post(
      '/inbox/items/:id/done',
      {
        schema: {
          tags,
          summary: 'Done: the item leaves the queue on every device',
          params: InboxItemIdParams,
          response: { 200: InboxItemResponse },
        },
      },
      async (request) => ({ item: await inbox.done(principalOf(request).userId, request.params.id) }),
    );
    api.post(
      '/inbox/items/:id/snooze',
      {
        schema: {
          tags,
          summary: 'Out of the queue until a time in the future; then back where it was',
          params: InboxItemIdParams,
          body: SnoozeRequest,
          response: { 200: InboxItemResponse },
        },
      },
      async (request) => ({
        item: await inbox.snooze(principalOf(request).userId, request.params.id, request.body.until),
      }),
    );
  };
}
