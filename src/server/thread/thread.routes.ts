import {
  ListMessagesQuery,
  MessageIdParams,
  MessagePage,
  MessageResponse,
  PostMessageRequest,
} from '../../contract/thread.js';
import type { RoutePlugin } from '../http/app.js';
import { principalOf } from '../http/request-context.js';
import type { ThreadService } from './thread.service.js';

/** GET /api/thread/messages · POST /api/thread/messages · POST /api/thread/messages/:id/retry */
export function threadRoutes(thread: ThreadService): RoutePlugin {
  return (api) => {
    api.get(
      '/thread/messages',
      {
        schema: {
          tags: ['thread'],
          summary: 'The main thread: a page before a message (newest last), or every message in a time range',
          description:
            'Without `from`/`to`: up to `limit` (default 50) messages before `before` (or the newest), oldest first, and whether older ones exist. With `from` and/or `to`: the messages created in that range (both ends included), oldest first, at most `limit` (default 1000).',
          querystring: ListMessagesQuery,
          response: { 200: MessagePage },
        },
      },
      async (request) => thread.list(principalOf(request).userId, request.query),
    );

    api.post(
      '/thread/messages',
      {
        schema: {
          tags: ['thread'],
          summary: 'Send a message: stored before this answers; the reply arrives as events',
          description:
            'Idempotent on `clientId`: the same clientId again answers with the stored message and starts no new turn. The reply streams as `message.created`, `message.delta` and `message.completed` on GET /api/events.',
          body: PostMessageRequest,
          response: { 202: MessageResponse },
        },
      },
      async (request, reply) =>
        reply.status(202).send({ message: await thread.post(principalOf(request).userId, request.body) }),
    );

    api.post(
      '/thread/messages/:id/retry',
      {
        schema: {
          tags: ['thread'],
          summary: 'Run again the turn of an assistant reply that ended in error (the same reply, rewritten)',
          params: MessageIdParams,
          response: { 202: MessageResponse },
        },
      },
      async (request, reply) =>
        reply.status(202).send({ message: await thread.retry(principalOf(request).userId, request.params.id) }),
    );
  };
}
