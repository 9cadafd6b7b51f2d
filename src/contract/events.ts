import { z } from 'zod';
import { Settings } from './settings.js';
import { Question } from './questions.js';
import { LogEntry, Task } from './tasks.js';
import { Message, Proposal } from './thread.js';

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
  z.object({
    type: z.literal('example.progressed'),
    data: z.object({ workflowId: z.string(), step: z.number(), done: z.boolean() }),
  }),
]);
export type ServerEvent = z.infer<typeof ServerEvent>;
export type EventType = ServerEvent['type'];
export type EventData<T extends EventType> = Extract<ServerEvent, { type: T }>['data'];

/** An event as stored and delivered: `id` increases within one user's stream, never reused. */
export type DeliveredEvent = ServerEvent & { id: string; at: string };

/** An event id on the wire (`id:` lines, `Last-Event-ID`, `?lastEventId=`): a decimal integer. */
export const EventId = z.string().regex(/^\d{1,15}$/, 'an event id is a decimal number such as 42');

/** How long an EventSource waits before reconnecting, sent as `retry:` when a stream opens. */
export const SSE_RETRY_MS = 2000;

/**
 * One block of a `text/event-stream`, as written between blank lines: its fields as sent,
 * not yet interpreted (a block with only `id:` or `retry:` dispatches no event in a browser,
 * but it does set the id a reconnecting EventSource sends as `Last-Event-ID`).
 */
export interface SseFrame {
  id?: string;
  event?: string;
  /** `data:` lines joined with `\n` */
  data?: string;
  retry?: number;
  /** comment lines (`: ping`), without the colon and its space */
  comments: string[];
}

/**
 * A tiny incremental parser for the frames mainloop's server writes: feed it decoded text as it
 * arrives, get back every block completed so far. For tests and the CLI; the web app uses
 * EventSource.
 */
export class SseFrameParser {
  private buffer = '';

  feed(chunk: string): SseFrame[] {
    this.buffer += chunk;
    // A trailing '\r' may be the first half of '\r\n': keep it for the next chunk.
    const complete = this.buffer.endsWith('\r') ? this.buffer.length - 1 : this.buffer.length;
    const text = this.buffer.slice(0, complete).replace(/\r\n?/g, '\n');
    const end = text.lastIndexOf('\n\n');
    if (end < 0) return [];
    this.buffer = text.slice(end + 2) + this.buffer.slice(complete);
    return text
      .slice(0, end)
      .split('\n\n')
      .filter((block) => block.length > 0)
      .map(parseBlock);
  }
}

function parseBlock(block: string): SseFrame {
  const frame: SseFrame = { comments: [] };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      frame.comments.push(line.slice(line.startsWith(': ') ? 2 : 1));
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
    else if (field === 'id') frame.id = value;
    else if (field === 'event') frame.event = value;
    else if (field === 'retry' && /^\d+$/.test(value)) frame.retry = Number(value);
  }
  return frame;
}
