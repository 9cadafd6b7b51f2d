import { z } from 'zod';
import {
  DeletePushSubscriptionRequest,
  PushSubscriptionRequest,
  PushSubscriptionResponse,
  VapidPublicKeyResponse,
} from '../../contract/push.js';
import type { RoutePlugin } from '../http/app.js';
import { principalOf } from '../http/request-context.js';
import type { PushService } from './push.service.js';

/** GET /api/push/vapid-public-key · POST /api/push/subscriptions · DELETE /api/push/subscriptions */
export function pushRoutes(push: PushService): RoutePlugin {
  return (api) => {
    api.get(
      '/push/vapid-public-key',
      {
        schema: {
          tags: ['push'],
          summary: 'The server’s VAPID public key (base64url): the applicationServerKey for pushManager.subscribe',
          response: { 200: VapidPublicKeyResponse },
        },
      },
      async (request) => {
        principalOf(request);
        return { key: await push.vapidPublicKey() };
      },
    );

    api.post(
      '/push/subscriptions',
      {
        schema: {
          tags: ['push'],
          summary: 'Store this device’s PushSubscription (subscription.toJSON()); the same endpoint again updates it',
          body: PushSubscriptionRequest,
          response: { 201: PushSubscriptionResponse },
        },
      },
      async (request, reply) => {
        const subscription = await push.subscribe(
          principalOf(request).userId,
          request.body,
          request.headers['user-agent'],
        );
        return reply.status(201).send({ subscription });
      },
    );

    api.delete(
      '/push/subscriptions',
      {
        schema: {
          tags: ['push'],
          summary: 'This device stops receiving pushes',
          body: DeletePushSubscriptionRequest,
          response: { 204: z.undefined() },
        },
      },
      async (request, reply) => {
        await push.unsubscribe(principalOf(request).userId, request.body.endpoint);
        return reply.status(204).send();
      },
    );
  };
}
