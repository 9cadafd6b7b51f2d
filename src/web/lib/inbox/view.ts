import type { InboxItem, InboxResponse, Task, TaskSpec } from '../../../contract/index.js';
import { linkKind } from '../../../contract/links.js';
import type { StorageLike } from '../state/outbox.js';
import { runtimeProblem, type RuntimeChoice } from '../tasks/task-form.js';
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

/**
 * The item the keys act on, which is also the one shown selected: the one the person chose while
 * it is listed; once it leaves (done, answered, snoozed), the one now in its place; the first
 * when none was chosen. So what looks selected is what `a`, `e`, `s`, `r` and Enter act on, from
 * the first key.
 */
export function selectedIn(
  ids: readonly string[],
  chosen: string | undefined,
  chosenIndex: number,
): string | undefined {
  if (chosen !== undefined && ids.includes(chosen)) return chosen;
  if (ids.length === 0) return undefined;
  return ids[Math.min(Math.max(0, chosenIndex), ids.length - 1)];
}

/** The id after (delta 1) or before (-1) `current` in `ids`; the first (or last) when none is selected; stays at the ends. */
export function moveSelection(ids: readonly string[], current: string | undefined, delta: 1 | -1): string | undefined {
  if (ids.length === 0) return undefined;
  const index = current === undefined ? -1 : ids.indexOf(current);
  if (index === -1) return delta === 1 ? ids[0] : ids[ids.length - 1];
  return ids[Math.min(ids.length - 1, Math.max(0, index + delta))];
}

export type KeyCommand = 'next' | 'previous' | 'open' | 'approve' | 'reply' | 'done' | 'snooze' | 'help';

/** What a triage key does to an item: an action, a form opened on it, or why it does nothing there. */
export type Triage =
  | { type: 'act'; action: InboxAction }
  | { type: 'mode'; mode: 'reply' | 'feedback' | 'snooze' | 'edit' }
  | { type: 'explain'; text: string };

/**
 * What `a` (approve, confirm), `r` (reply: answer, feedback, edit), `e` (done) and `s` (snooze) do
 * to `item`, by what the item offers. `e` on an item that still waits on the person does not put
 * it away: it says which keys resolve it. `confirmBlocked`: why a proposal cannot be confirmed as
 * it is (its runtime cannot run here), said instead of confirming.
 */
export function triage(
  item: InboxItem,
  command: 'approve' | 'reply' | 'done' | 'snooze',
  options: { confirmBlocked?: string } = {},
): Triage | undefined {
  const offers = new Set(item.replies);
  const taskId = item.taskId;
  switch (command) {
    case 'approve':
      if (offers.has('confirm') && item.proposalId) {
        if (options.confirmBlocked) return { type: 'explain', text: options.confirmBlocked };
        return { type: 'act', action: { type: 'confirm', itemId: item.id, proposalId: item.proposalId } };
      }
      if (!offers.has('approve') || !taskId) return undefined;
      if (item.kind === 'plan_review')
        return { type: 'act', action: { type: 'plan', itemId: item.id, taskId, decision: 'approve' } };
      if (item.kind === 'review')
        return { type: 'act', action: { type: 'review', itemId: item.id, taskId, decision: 'approve' } };
      return undefined;
    case 'reply':
      if (offers.has('answer')) return { type: 'mode', mode: 'reply' };
      if (offers.has('revise') || offers.has('request_changes')) return { type: 'mode', mode: 'feedback' };
      if (editable(item)) return { type: 'mode', mode: 'edit' };
      return undefined;
    case 'done':
      if (offers.has('done')) return { type: 'act', action: { type: 'done', itemId: item.id } };
      return { type: 'explain', text: whyItStays(item) };
    case 'snooze':
      return offers.has('snooze') ? { type: 'mode', mode: 'snooze' } : undefined;
  }
}

/** Why a proposed task cannot be confirmed as it is (its runtime cannot run here); undefined when it can. */
export function proposalProblem(
  item: Pick<InboxItem, 'proposal'>,
  choices: readonly RuntimeChoice[],
): string | undefined {
  if (item.proposal?.kind !== 'spawn_task') return undefined;
  return runtimeProblem({ runtime: (item.proposal.payload as TaskSpec).runtime ?? '' }, choices);
}

/** A proposal to start a task can be edited before it is confirmed (one to cancel a task cannot). */
export function editable(item: Pick<InboxItem, 'replies' | 'proposal'>): boolean {
  return item.replies.includes('confirm') && item.proposal?.kind === 'spawn_task';
}

const WAITING: Partial<Record<InboxItem['kind'], string>> = {
  plan_review: 'This plan',
  review: 'This review',
  question: 'This question',
  proposal: 'This proposal',
};

/** Why `e` leaves an item where it is, and which keys resolve it. */
function whyItStays(item: InboxItem): string {
  const offers = new Set(item.replies);
  const keys: string[] = [];
  if (offers.has('confirm')) keys.push('a confirms it');
  if (offers.has('approve')) keys.push('a approves it');
  if (offers.has('answer')) keys.push('r answers it');
  if (offers.has('revise')) keys.push('r asks for a revision');
  if (offers.has('request_changes')) keys.push('r requests changes');
  if (editable(item)) keys.push('r edits it');
  if (offers.has('snooze')) keys.push('s snoozes it');
  const what = WAITING[item.kind] ?? 'This item';
  if (keys.length === 0) return `${what} cannot be marked done here.`;
  return `${what} waits on you, so it stays: ${keys.join(', ')}.`;
}

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
  { key: 'a', does: 'approve a plan or a review; confirm a proposal' },
  { key: 'r', does: 'reply: answer the question, write feedback, edit a proposal' },
  { key: 'e', does: 'done (not for what waits on you: resolve it or snooze it)' },
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
