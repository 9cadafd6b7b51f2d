import type { InboxItem, InboxResponse, Task } from '../../../contract/index.js';
import { linkKind } from '../../../contract/links.js';
import type { StorageLike } from '../state/outbox.js';
import type { InboxAction } from './actions.js';

/**
 * The inbox as the person sees it: the server's sections, in the server's order, with what
 * they just did (still queued, or sent but not yet refetched) already applied, so a tap takes
 * the item away at once. Plain TypeScript, unit-tested.
 */
export interface InboxView {
  needsYou: InboxItem[];
  active: Task[];
  failures: Task[];
  completed: Task[];
  snoozed: InboxItem[];
  historyCount: number;
  /** the history holds more than `historyCount` (the server counts up to a cap) */
  historyMore: boolean;
}

export const EMPTY_VIEW: InboxView = Object.freeze({
  needsYou: [],
  active: [],
  failures: [],
  completed: [],
  snoozed: [],
  historyCount: 0,
  historyMore: false,
}) as InboxView;

/** The response with `actions` applied: acted-on items leave needs-you; a snooze moves its item to snoozed. */
export function applyActions(response: InboxResponse | undefined, actions: readonly InboxAction[]): InboxView {
  if (!response) return EMPTY_VIEW;
  const gone = new Set<string>();
  const snoozedUntil = new Map<string, string>();
  const retried = new Set<string>();
  const cancelled = new Set<string>();
  for (const action of actions) {
    if (action.type === 'retry') retried.add(action.taskId);
    else if (action.type === 'cancel') cancelled.add(action.taskId);
    else gone.add(action.itemId);
    if (action.type === 'snooze') snoozedUntil.set(action.itemId, action.until);
  }
  const stays = (item: InboxItem) => !gone.has(item.id) && !(item.taskId && cancelled.has(item.taskId));
  const keepSnoozed = (item: InboxItem) =>
    (snoozedUntil.has(item.id) || !gone.has(item.id)) && !(item.taskId && cancelled.has(item.taskId));
  const snoozed = [...response.snoozed, ...response.needsYou.filter((item) => snoozedUntil.has(item.id))]
    .map((item) =>
      snoozedUntil.has(item.id)
        ? { ...item, state: 'snoozed' as const, snoozedUntil: snoozedUntil.get(item.id)! }
        : item,
    )
    .filter(keepSnoozed)
    .sort((a, b) => (a.snoozedUntil ?? '').localeCompare(b.snoozedUntil ?? ''));
  return {
    needsYou: response.needsYou.filter(stays),
    active: response.active.filter((task) => !cancelled.has(task.id)),
    failures: response.failures.filter((task) => !retried.has(task.id) && !cancelled.has(task.id)),
    completed: response.completed,
    snoozed: dedupeById(snoozed),
    historyCount: response.history.count,
    historyMore: response.history.more ?? false,
  };
}

function dedupeById(items: InboxItem[]): InboxItem[] {
  const seen = new Set<string>();
  return items.filter((item) => (seen.has(item.id) ? false : (seen.add(item.id), true)));
}

/**
 * The needs-you count for the badge, title and favicon: the server's count less the items the
 * person has acted on that the server's count does not know about yet.
 */
export function needsYouCount(
  counts: { needsYou: number },
  response: InboxResponse | undefined,
  uncounted: readonly InboxAction[],
): number {
  if (!response || uncounted.length === 0) return Math.max(0, counts.needsYou);
  const view = new Set(applyActions(response, uncounted).needsYou.map((item) => item.id));
  const hidden = response.needsYou.filter((item) => !view.has(item.id)).length;
  return Math.max(0, counts.needsYou - hidden);
}

/** `(3) mainloop`, or `mainloop` when nothing needs the person. */
export function pageTitle(count: number, base = 'mainloop'): string {
  return count > 0 ? `(${count}) ${base}` : base;
}

/**
 * Where an item's link goes: a page of the app, or an http(s) page in a new tab. The server took
 * only such links (contract/links.ts); one stored before it checked them is no link.
 */
export function linkFor(url: string | undefined): { href: string; external: boolean } | undefined {
  if (url === undefined) return undefined;
  const kind = linkKind(url);
  return kind ? { href: url, external: kind === 'web' } : undefined;
}

/** The item's own link, else its task's page. */
export function openTarget(item: Pick<InboxItem, 'url' | 'taskId'>): { href: string; external: boolean } | undefined {
  return (
    linkFor(item.url) ??
    (item.taskId ? { href: `/tasks/${encodeURIComponent(item.taskId)}`, external: false } : undefined)
  );
}

/** The id after (delta 1) or before (-1) `current` in `ids`; the first (or last) when none is selected; stays at the ends. */
export function moveSelection(ids: readonly string[], current: string | undefined, delta: 1 | -1): string | undefined {
  if (ids.length === 0) return undefined;
  const index = current === undefined ? -1 : ids.indexOf(current);
  if (index === -1) return delta === 1 ? ids[0] : ids[ids.length - 1];
  return ids[Math.min(ids.length - 1, Math.max(0, index + delta))];
}

export type KeyCommand = 'next' | 'previous' | 'open' | 'approve' | 'reply' | 'done' | 'snooze' | 'help';

const KEYS: Record<string, KeyCommand> = {
  j: 'next',
  k: 'previous',
  Enter: 'open',
  a: 'approve',
  r: 'reply',
  e: 'done',
  s: 'snooze',
  '?': 'help',
};

/** The keys and what they do, for the help dialog. */
export const KEY_HELP: ReadonlyArray<{ key: string; does: string }> = [
  { key: 'j', does: 'next item' },
  { key: 'k', does: 'previous item' },
  { key: 'Enter', does: 'open the item (its task or link)' },
  { key: 'a', does: 'approve (a plan or a review)' },
  { key: 'r', does: 'reply: answer the question, or write feedback' },
  { key: 'e', does: 'done' },
  { key: 's', does: 'snooze' },
  { key: '?', does: 'this list' },
  { key: 'Esc', does: 'close a menu or this list' },
];

/**
 * The triage command for a key press, or undefined: never while the person types (an input,
 * a textarea, a select, an editable element), never with Ctrl/Alt/Meta, never on a repeat of
 * Enter inside a button (the button handles it).
 */
export function keyCommand(
  event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'altKey' | 'metaKey' | 'defaultPrevented' | 'isComposing'> & {
    target: EventTarget | null;
  },
): KeyCommand | undefined {
  if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.altKey || event.metaKey) return undefined;
  const command = KEYS[event.key];
  if (!command) return undefined;
  const target = event.target as (Partial<HTMLElement> & { tagName?: string }) | null;
  const tag = target?.tagName?.toUpperCase();
  if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target?.isContentEditable) return undefined;
  if (command === 'open' && (tag === 'BUTTON' || tag === 'A' || tag === 'SUMMARY')) return undefined;
  return command;
}

// ——— what the device keeps: the project filter and the last inbox (for offline) ———

export const FILTER_KEY_PREFIX = 'mainloop.inbox.project.';
export const CACHE_KEY_PREFIX = 'mainloop.inbox.cache.';

export function readFilter(storage: StorageLike | undefined, userId: string): string | undefined {
  try {
    return storage?.getItem(FILTER_KEY_PREFIX + userId) || undefined;
  } catch {
    return undefined;
  }
}

export function writeFilter(storage: StorageLike | undefined, userId: string, projectId: string | undefined): void {
  try {
    if (projectId) storage?.setItem(FILTER_KEY_PREFIX + userId, projectId);
    else storage?.removeItem(FILTER_KEY_PREFIX + userId);
  } catch {
    // the choice holds for this page's life
  }
}

/** The last inbox the server sent, with when it was fetched and for which filter. */
export interface CachedInbox {
  at: string;
  projectId?: string;
  response: InboxResponse;
  /** the projects' names, for the cards and the filter */
  projects?: Array<{ id: string; name: string }>;
}

export function readCache(storage: StorageLike | undefined, userId: string): CachedInbox | undefined {
  try {
    const raw = storage?.getItem(CACHE_KEY_PREFIX + userId);
    if (!raw) return undefined;
    const value = JSON.parse(raw) as Partial<CachedInbox> | null;
    if (!value || typeof value.at !== 'string' || !isResponse(value.response)) return undefined;
    const projects = Array.isArray(value.projects)
      ? value.projects.filter((project) => typeof project?.id === 'string' && typeof project.name === 'string')
      : [];
    return {
      at: value.at,
      response: value.response,
      projects,
      ...(typeof value.projectId === 'string' ? { projectId: value.projectId } : {}),
    };
  } catch {
    return undefined;
  }
}

export function writeCache(storage: StorageLike | undefined, userId: string, cached: CachedInbox): void {
  try {
    storage?.setItem(CACHE_KEY_PREFIX + userId, JSON.stringify(cached));
  } catch {
    // too big or refused: the inbox still works online
  }
}

export function clearDeviceInbox(storage: StorageLike | undefined, userId: string): void {
  try {
    storage?.removeItem(CACHE_KEY_PREFIX + userId);
  } catch {
    // nothing to clear
  }
}

function isResponse(value: unknown): value is InboxResponse {
  if (typeof value !== 'object' || value === null) return false;
  const response = value as Record<string, unknown>;
  return (
    Array.isArray(response.needsYou) &&
    Array.isArray(response.active) &&
    Array.isArray(response.failures) &&
    Array.isArray(response.completed) &&
    Array.isArray(response.snoozed) &&
    typeof response.history === 'object' &&
    response.history !== null &&
    typeof response.counts === 'object' &&
    response.counts !== null
  );
}
