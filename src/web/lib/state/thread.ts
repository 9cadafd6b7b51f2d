import type { Message } from '../../../contract/index.js';

/**
 * The thread's list logic, in plain TypeScript so that it is tested without a browser: messages
 * are kept oldest first, unique by id, and changed in place (the Svelte state hands in its
 * reactive array, so a delta touches one message and nothing else re-renders).
 *
 * Where a message comes from decides who wins when it is already known:
 * - `event` (`message.created` / `message.completed`): the server's word, replaces what is held;
 *   a turn that restarted sends `message.created` again and starts over from its content.
 * - `snapshot` (a fetched page): may be older than the events already applied, so it never
 *   replaces a final message with a streaming one, nor a streaming message's streamed text.
 */
export type MessageSource = 'event' | 'snapshot';

export function upsertMessage(messages: Message[], incoming: Message, source: MessageSource): void {
  const index = indexOfMessage(messages, incoming.id);
  if (index < 0) {
    messages.splice(insertionIndex(messages, incoming), 0, { ...incoming });
    return;
  }
  const held = messages[index]!;
  if (source === 'snapshot' && held.status !== 'streaming' && incoming.status === 'streaming') return;
  if (source === 'snapshot' && held.status === 'streaming' && incoming.status === 'streaming') {
    messages[index] = { ...incoming, content: held.content };
    return;
  }
  messages[index] = { ...incoming };
}

/**
 * `message.delta`: text to append to a streaming message. A delta for a message not seen yet
 * (its `message.created` was missed) starts a placeholder that the next created/completed
 * event or page replaces; a delta for a message already final is stale and ignored.
 */
export function appendDelta(
  messages: Message[],
  messageId: string,
  text: string,
  now: () => Date = () => new Date(),
): void {
  const index = indexOfMessage(messages, messageId);
  if (index < 0) {
    messages.push({
      id: messageId,
      role: 'assistant',
      content: text,
      status: 'streaming',
      createdAt: now().toISOString(),
    });
    return;
  }
  const held = messages[index]!;
  if (held.status !== 'streaming') return;
  held.content += text;
}

/** An older page (infinite scroll upwards): everything in it slots in by time. */
export function mergeOlder(messages: Message[], older: readonly Message[]): void {
  for (const message of older) upsertMessage(messages, message, 'snapshot');
}

/**
 * The latest page, fetched again (on start, and after the event stream reconnects). When it
 * does not reach back to what is held, messages in between are unknown: the held list is
 * replaced by the page (and the caller takes the page's `hasMore`). Returns whether it was.
 */
export function mergeLatest(messages: Message[], latest: readonly Message[]): boolean {
  if (latest.length === 0) return false;
  const newestHeld = messages[messages.length - 1];
  const overlaps =
    !newestHeld ||
    latest.some((message) => indexOfMessage(messages, message.id) >= 0) ||
    compareMessages(latest[0]!, newestHeld) <= 0;
  if (!overlaps) {
    messages.splice(0, messages.length, ...latest.map((message) => ({ ...message })));
    return true;
  }
  for (const message of latest) upsertMessage(messages, message, 'snapshot');
  return false;
}

/** The id to page backwards from. */
export function oldestId(messages: readonly Message[]): string | undefined {
  return messages[0]?.id;
}

/** Oldest first: by creation time, then by id (numerically when both are numbers). */
export function compareMessages(a: Pick<Message, 'id' | 'createdAt'>, b: Pick<Message, 'id' | 'createdAt'>): number {
  const byTime = timeOf(a.createdAt) - timeOf(b.createdAt);
  if (byTime !== 0 && !Number.isNaN(byTime)) return byTime;
  return compareIds(a.id, b.id);
}

export function indexOfMessage(messages: readonly Message[], id: string): number {
  // Deltas and completions nearly always concern the newest messages: search from the end.
  for (let index = messages.length - 1; index >= 0; index--) {
    if (messages[index]!.id === id) return index;
  }
  return -1;
}

function insertionIndex(messages: readonly Message[], incoming: Message): number {
  let low = 0;
  let high = messages.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareMessages(messages[middle]!, incoming) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

function timeOf(iso: string): number {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? 0 : time;
}

function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
