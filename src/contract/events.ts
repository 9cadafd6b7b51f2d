import { z } from 'zod';
import { Settings } from './settings.js';

/**
 * Every event on GET /api/events: name and payload, one discriminated union shared by
 * server, web and CLI. Later issues add their members here (message.*, task.*, ...).
 */
export const ServerEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('settings.updated'), data: z.object({ settings: Settings }) }),
  z.object({
    type: z.literal('inbox.updated'),
    data: z.object({
      counts: z.object({ needsYou: z.number(), active: z.number(), failures: z.number() }),
    }),
  }),
  z.object({
    type: z.literal('example.progressed'),
    data: z.object({ workflowId: z.string(), step: z.number(), done: z.boolean() }),
  }),
]);
export type ServerEvent = z.infer<typeof ServerEvent>;
export type EventType = ServerEvent['type'];
export type EventData<T extends EventType> = Extract<ServerEvent, { type: T }>['data'];

/** An event as stored and delivered: `id` increases per server, never reused. */
export type DeliveredEvent = ServerEvent & { id: string; at: string };
