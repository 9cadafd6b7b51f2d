import { z } from 'zod';
import { Settings } from './settings.js';
import { Question } from './questions.js';
import { LogEntry, Task } from './tasks.js';
import { Message } from './thread.js';
import { Proposal } from './proposals.js';

/**
 * Every event on GET /api/events: name and payload, one discriminated union shared by
 * server, web and CLI. Later issues add their members here (message.*, proposal.updated,
 * task.*, question.*) together with the payload types they carry.
 */
export const ServerEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('settings.updated'), data: z.object({ settings: Settings }) }),
  z.object({
    type: z.literal('inbox.updated'),
    data: z.object({
      counts: z.object({ needsYou: z.number(), active: z.number(), failures: z.number() }),
    }),
  }),
  // The main thread: a message stored or (re)started, text to append to a streaming reply, a reply finished.
  z.object({ type: z.literal('message.created'), data: z.object({ message: Message }) }),
  z.object({ type: z.literal('message.delta'), data: z.object({ messageId: z.string(), text: z.string() }) }),
  z.object({ type: z.literal('message.completed'), data: z.object({ message: Message }) }),
  z.object({ type: z.literal('proposal.updated'), data: z.object({ proposal: Proposal }) }),
  z.object({ type: z.literal('task.updated'), data: z.object({ task: Task }) }),
  // Workers: log lines as stored (in order, by seq), a question asked, a question answered or cancelled.
  z.object({ type: z.literal('task.log'), data: z.object({ taskId: z.string(), entries: z.array(LogEntry) }) }),
  z.object({ type: z.literal('question.created'), data: z.object({ question: Question }) }),
  z.object({ type: z.literal('question.answered'), data: z.object({ question: Question }) }),
]);
export type ServerEvent = z.infer<typeof ServerEvent>;
export type EventType = ServerEvent['type'];
export type EventData<T extends EventType> = Extract<ServerEvent, { type: T }>['data'];

/** An event as stored and delivered: `id` increases within one user's stream, never reused. */
export type DeliveredEvent = ServerEvent & { id: string; at: string };

/** An event id on the wire (`id:` lines, `Last-Event-ID`, `?lastEventId=`): a decimal integer. */
export const EventId = z.string().regex(/^\d{1,15}$/, 'an event id is a decimal number such as 42');

export { SSE_RETRY_MS, SseFrameParser, type SseFrame } from './sse.js';
