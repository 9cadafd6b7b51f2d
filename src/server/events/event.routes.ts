import { z } from 'zod';
import { EventId } from '../../contract/events.js';
import type { RoutePlugin } from '../http/app.js';
import { principalOf } from '../http/request-context.js';
import type { EventHub } from './event.hub.js';

/** GET /api/events: the signed-in user's live events as a `text/event-stream`. */
export function eventRoutes(hub: EventHub): RoutePlugin {
  return (app) => {
    // End the streams before the server stops accepting, so closing never waits on them.
    app.addHook('preClose', async () => hub.endStreams());

    app.get(
      '/events',
      {
        schema: {
          tags: ['events'],
          summary: 'Live events (Server-Sent Events)',
          description:
            "A text/event-stream of the signed-in user's events: `id:`, `event:` and JSON `data:`. Reconnect with the Last-Event-ID header (or ?lastEventId=) to first receive every event after that id. A comment line is sent at least every 15 s.",
          produces: ['text/event-stream'],
          querystring: z.object({ lastEventId: EventId.optional() }),
          headers: z.looseObject({ 'last-event-id': EventId.optional() }),
        },
      },
      async (request, reply) => {
        const { userId } = principalOf(request);
        // The header wins: an EventSource keeps its first URL but sends the newest id here.
        const lastEventId = request.headers['last-event-id'] ?? request.query.lastEventId;
        reply.hijack();
        await hub.open({ userId, response: reply.raw, lastEventId, headers: { 'x-request-id': request.id } });
      },
    );
  };
}
