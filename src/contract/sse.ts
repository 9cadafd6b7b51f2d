/**
 * The `text/event-stream` framing of GET /api/events, without zod: the web app imports it, and a
 * value import from `events.ts` would pull zod and every schema into its bundle.
 */

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
