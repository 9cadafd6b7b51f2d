import { BLOCKING_KINDS, type InboxItem, type InboxReply, type Priority } from '../../contract/inbox.js';
import type { PushAction, PushPayload } from '../../contract/push.js';
import type { QuietHours } from '../../contract/settings.js';
import { fromWallClock, wallClock } from '../../contract/wall-clock.js';

/**
 * What is pushed, and when: pure functions of an item, the person's quiet hours and time zone,
 * and the time. No I/O; the dispatcher applies them (push-dispatcher.ts).
 *
 * - Which items are worth a push at all is decided when they are stored (`pushStateFor` in the
 *   inbox module: blocking kinds, external urgent/high); this module decides send now or hold.
 * - Quiet hours are wall-clock times in the person's zone; `start > end` crosses midnight. Local
 *   times come from Intl (the zone's rules, DST included), never from a fixed offset.
 */

/** The payload the service worker gets stays below this (Web Push allows about 4 KB). */
export const MAX_PAYLOAD_BYTES = 3_000;

export interface QuietPreferences {
  timeZone: string;
  quietHours: QuietHours | null;
}

export type Decision = 'send' | 'hold';

/** Urgent items always go; anything else waits while it is quiet. */
export function decide(item: { priority: Priority }, preferences: QuietPreferences, now: Date): Decision {
  if (item.priority === 'urgent') return 'send';
  return isQuiet(now, preferences) ? 'hold' : 'send';
}

/** Whether `at` falls in the quiet hours, in the person's zone: [start, end), across midnight when start > end. */
export function isQuiet(at: Date, { timeZone, quietHours }: QuietPreferences): boolean {
  if (!quietHours) return false;
  const start = minutesOf(quietHours.start);
  const end = minutesOf(quietHours.end);
  const clock = wallClock(at, timeZone);
  const now = clock.hour * 60 + clock.minute;
  return start < end ? now >= start && now < end : now >= start || now < end;
}

/** When the quiet period `at` falls in ends (the next local `end`), or undefined when it is not quiet. */
export function quietEndsAt(at: Date, preferences: QuietPreferences): Date | undefined {
  if (!preferences.quietHours || !isQuiet(at, preferences)) return undefined;
  const local = wallClock(at, preferences.timeZone);
  const end = minutesOf(preferences.quietHours.end);
  // Before `end` today (the small hours of a period that crossed midnight, or a same-day period): today; else tomorrow.
  const dayOffset = local.hour * 60 + local.minute < end ? 0 : 1;
  const day = new Date(Date.UTC(local.year, local.month - 1, local.day + dayOffset));
  return fromWallClock(
    {
      year: day.getUTCFullYear(),
      month: day.getUTCMonth() + 1,
      day: day.getUTCDate(),
      hour: Math.floor(end / 60),
      minute: end % 60,
    },
    preferences.timeZone,
  );
}

/** Held items go out in one digest once it is no longer quiet. */
export function digestDue(preferences: QuietPreferences, now: Date): boolean {
  return !isQuiet(now, preferences);
}

/** Blocking items (and urgent ones) ask the push service to wake the device now. */
export function webPushUrgency(item: { kind: InboxItem['kind'] | 'digest'; priority: Priority }): 'high' | 'normal' {
  return item.priority === 'urgent' || (item.kind !== 'digest' && BLOCKING_KINDS.includes(item.kind))
    ? 'high'
    : 'normal';
}

/** What the notification offers without opening the app: approve a plan or a review, reply to a question. */
export function actionsFor(item: Pick<InboxItem, 'kind' | 'replies' | 'taskId' | 'questionId'>): PushAction[] {
  if ((item.kind === 'plan_review' || item.kind === 'review') && item.taskId && item.replies.includes('approve')) {
    return [{ action: 'approve', title: 'Approve' }];
  }
  if (item.kind === 'question' && item.questionId && item.replies.includes('answer')) {
    return [{ action: 'reply', title: 'Reply' }];
  }
  return [];
}

/** The service worker's payload for one item, clipped to stay below MAX_PAYLOAD_BYTES. */
export function itemPayload(item: InboxItem): PushPayload {
  return fit({
    itemId: item.id,
    kind: item.kind,
    priority: item.priority,
    title: clip(item.title, 200),
    body: clip(item.body ?? '', 1_000),
    url: item.url ?? (item.taskId ? `/tasks/${item.taskId}` : '/'),
    ...(item.taskId ? { taskId: item.taskId } : {}),
    ...(item.questionId ? { questionId: item.questionId } : {}),
    replies: item.replies as InboxReply[],
    actions: actionsFor(item),
  });
}

/**
 * What goes out when quiet hours end: one item alone is pushed as itself (with its actions);
 * several become one digest, "3 things need you: …", that opens the inbox.
 */
export function digestPayload(items: readonly InboxItem[]): PushPayload {
  if (items.length === 1) return itemPayload(items[0]!);
  const priority = items.some((item) => item.priority === 'urgent') ? 'urgent' : 'high';
  return fit({
    itemId: `digest:${items[0]!.id}`,
    kind: 'digest',
    priority,
    title: digestTitle(items),
    body: items.map((item) => `• ${clip(item.title, 120)}`).join('\n'),
    url: '/',
    replies: [],
    actions: [],
    itemIds: items.map((item) => item.id),
  });
}

/** "3 things need you: Plan ready: …, Deploy?, …" (the first titles, shortened). */
export function digestTitle(items: readonly InboxItem[]): string {
  const lead = `${items.length} ${items.length === 1 ? 'thing needs' : 'things need'} you`;
  return clip(`${lead}: ${items.map((item) => item.title).join(', ')}`, 120);
}

/** The plain text a channel without structure shows (ntfy's body, Slack's fallback). */
export function messageText(payload: PushPayload): string {
  return payload.body || payload.title;
}

function fit(payload: PushPayload): PushPayload {
  let fitted = payload;
  let bodyLength = payload.body.length;
  while (Buffer.byteLength(JSON.stringify(fitted)) > MAX_PAYLOAD_BYTES && bodyLength > 0) {
    bodyLength = Math.floor(bodyLength / 2);
    fitted = { ...fitted, body: clip(payload.body, bodyLength) };
  }
  if (Buffer.byteLength(JSON.stringify(fitted)) > MAX_PAYLOAD_BYTES && fitted.itemIds) {
    fitted = { ...fitted, itemIds: fitted.itemIds.slice(0, 20) };
  }
  return fitted;
}

function clip(text: string, length: number): string {
  if (length <= 0) return '';
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

function minutesOf(clock: string): number {
  const [hours, minutes] = clock.split(':').map(Number);
  return hours! * 60 + minutes!;
}
