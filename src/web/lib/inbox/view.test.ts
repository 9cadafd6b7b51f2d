import { describe, expect, it } from 'vitest';
import type { InboxItem, InboxResponse, Task } from '../../../contract/index.js';
import type { StorageLike } from '../state/outbox.js';
import { MemoryStorage } from '../state/testing.js';
import { runtimeChoices } from '../tasks/task-form.js';
import {
  applyActions,
  keyCommand,
  linkFor,
  moveSelection,
  needsYouCount,
  openTarget,
  pageTitle,
  proposalProblem,
  readCache,
  readFilter,
  selectedIn,
  triage,
  writeCache,
  writeFilter,
} from './view.js';

const item = (id: string, extra: Partial<InboxItem> = {}): InboxItem => ({
  id,
  kind: 'external',
  priority: 'normal',
  title: `item ${id}`,
  dedupeKey: `external:${id}`,
  replies: ['done', 'snooze'],
  state: 'open',
  createdAt: '2026-01-15T09:00:00Z',
  updatedAt: '2026-01-15T09:00:00Z',
  ...extra,
});
const task = (id: string, status: Task['status']): Task => ({
  id,
  number: 1,
  title: `task ${id}`,
  prompt: 'p',
  projectId: null,
  runtime: 'command',
  skipPlan: true,
  status,
  needsInput: false,
  attempt: 1,
  createdAt: '2026-01-15T09:00:00Z',
  updatedAt: '2026-01-15T09:00:00Z',
});
const response = (extra: Partial<InboxResponse> = {}): InboxResponse => ({
  needsYou: [
    item('a'),
    item('b', { kind: 'question', questionId: 'q1', replies: ['answer', 'open', 'snooze'] }),
    item('c'),
  ],
  active: [task('t1', 'implementing')],
  failures: [task('t2', 'failed')],
  completed: [],
  history: { count: 4 },
  snoozed: [item('z', { state: 'snoozed', snoozedUntil: '2026-01-15T18:00:00Z' })],
  counts: { needsYou: 3, active: 1, failures: 1 },
  ...extra,
});

describe('applyActions: what the person did shows at once', () => {
  it('keeps the server order when nothing is pending', () => {
    const view = applyActions(response(), []);
    expect(view.needsYou.map((entry) => entry.id)).toEqual(['a', 'b', 'c']);
    expect(view.historyCount).toBe(4);
  });

  it('done and answered items leave needs-you; the rest keep their order', () => {
    const view = applyActions(response(), [
      { type: 'done', itemId: 'a' },
      { type: 'answer', itemId: 'b', questionId: 'q1', answer: 'yes' },
    ]);
    expect(view.needsYou.map((entry) => entry.id)).toEqual(['c']);
  });

  it('a snoozed item moves to snoozed, sorted by its time', () => {
    const view = applyActions(response(), [{ type: 'snooze', itemId: 'c', until: '2026-01-15T10:00:00Z' }]);
    expect(view.needsYou.map((entry) => entry.id)).toEqual(['a', 'b']);
    expect(view.snoozed.map((entry) => [entry.id, entry.state, entry.snoozedUntil])).toEqual([
      ['c', 'snoozed', '2026-01-15T10:00:00Z'],
      ['z', 'snoozed', '2026-01-15T18:00:00Z'],
    ]);
  });

  it('a confirmed or dismissed proposal leaves needs-you', () => {
    const view = applyActions(
      response({
        needsYou: [
          item('a'),
          item('p1', { kind: 'proposal', proposalId: 'x' }),
          item('p2', { kind: 'proposal', proposalId: 'y' }),
        ],
      }),
      [
        { type: 'confirm', itemId: 'p1', proposalId: 'x', payload: { title: 'Edited', prompt: 'p' } },
        { type: 'dismiss', itemId: 'p2', proposalId: 'y' },
      ],
    );
    expect(view.needsYou.map((entry) => entry.id)).toEqual(['a']);
  });

  it('retry takes a task out of failures; cancel out of failures, active and its items', () => {
    const withItem = response({
      needsYou: [item('p', { kind: 'plan_review', taskId: 't1', replies: ['approve', 'revise', 'cancel', 'open'] })],
    });
    expect(applyActions(withItem, [{ type: 'retry', taskId: 't2' }]).failures).toEqual([]);
    const cancelled = applyActions(withItem, [{ type: 'cancel', taskId: 't1', itemId: 'p' }]);
    expect(cancelled.needsYou).toEqual([]);
    expect(cancelled.active).toEqual([]);
  });
});

describe('needsYouCount', () => {
  it('is the server count less what was acted on and is not counted yet', () => {
    expect(needsYouCount({ needsYou: 3 }, response(), [])).toBe(3);
    expect(needsYouCount({ needsYou: 3 }, response(), [{ type: 'done', itemId: 'a' }])).toBe(2);
    // acting on an item not in the list (another filter) changes nothing; never below 0
    expect(needsYouCount({ needsYou: 3 }, response(), [{ type: 'done', itemId: 'elsewhere' }])).toBe(3);
    expect(needsYouCount({ needsYou: 0 }, response(), [{ type: 'done', itemId: 'a' }])).toBe(0);
  });

  it('titles the page', () => {
    expect(pageTitle(3)).toBe('(3) mainloop');
    expect(pageTitle(0)).toBe('mainloop');
  });
});

describe('links from items', () => {
  it('only app paths and http(s) URLs become links; outside ones open in a new tab', () => {
    expect(linkFor('/tasks/42')).toEqual({ href: '/tasks/42', external: false });
    expect(linkFor('https://ci.example.com/run/1')).toEqual({ href: 'https://ci.example.com/run/1', external: true });
    for (const url of [
      'javascript:alert(1)',
      '//evil.example.com',
      '/\\evil.example.com',
      'data:text/html,x',
      'ftp://x',
      '',
    ]) {
      expect(linkFor(url)).toBeUndefined();
    }
    expect(openTarget({ taskId: 'a/b' })).toEqual({ href: '/tasks/a%2Fb', external: false });
    expect(openTarget({ url: 'javascript:x', taskId: undefined })).toBeUndefined();
  });
});

describe('keyboard triage', () => {
  const key = (k: string, target: Partial<HTMLElement> & { tagName: string } = { tagName: 'BODY' }, extra = {}) =>
    keyCommand({
      key: k,
      ctrlKey: false,
      altKey: false,
      metaKey: false,
      defaultPrevented: false,
      isComposing: false,
      target: target as EventTarget,
      ...extra,
    });

  it('maps the keys', () => {
    expect(['j', 'k', 'Enter', 'a', 'r', 'e', 's', '?'].map((k) => key(k))).toEqual([
      'next',
      'previous',
      'open',
      'approve',
      'reply',
      'done',
      'snooze',
      'help',
    ]);
    expect(key('x')).toBeUndefined();
  });

  it('never while typing, never with modifiers, and leaves Enter on a button to the button', () => {
    expect(key('e', { tagName: 'INPUT' })).toBeUndefined();
    expect(key('e', { tagName: 'TEXTAREA' })).toBeUndefined();
    expect(key('e', { tagName: 'SELECT' })).toBeUndefined();
    expect(key('e', { tagName: 'DIV', isContentEditable: true })).toBeUndefined();
    expect(key('e', { tagName: 'BODY' }, { ctrlKey: true })).toBeUndefined();
    expect(key('j', { tagName: 'BODY' }, { isComposing: true })).toBeUndefined();
    expect(key('Enter', { tagName: 'BUTTON' })).toBeUndefined();
    expect(key('Enter', { tagName: 'ARTICLE' })).toBe('open');
    expect(key('e', { tagName: 'BUTTON' })).toBe('done');
  });

  it('moves the selection and stops at the ends', () => {
    const ids = ['a', 'b', 'c'];
    expect(moveSelection(ids, undefined, 1)).toBe('a');
    expect(moveSelection(ids, undefined, -1)).toBe('c');
    expect(moveSelection(ids, 'a', 1)).toBe('b');
    expect(moveSelection(ids, 'c', 1)).toBe('c');
    expect(moveSelection(ids, 'a', -1)).toBe('a');
    expect(moveSelection(ids, 'gone', 1)).toBe('a');
    expect(moveSelection([], 'a', 1)).toBeUndefined();
  });

  it('acts on what is shown selected: the first before any choice, the one now in place of one that left', () => {
    expect(selectedIn(['a', 'b', 'c'], undefined, 0)).toBe('a');
    expect(selectedIn(['a', 'b', 'c'], 'b', 1)).toBe('b');
    expect(selectedIn(['x', 'a', 'b', 'c'], 'b', 1)).toBe('b'); // one arrived above: still b
    expect(selectedIn(['a', 'c'], 'b', 1)).toBe('c'); // b left: the one now at its place
    expect(selectedIn(['a'], 'c', 2)).toBe('a'); // the last left: the one before it
    expect(selectedIn([], 'a', 0)).toBeUndefined();
  });

  it('a approves or confirms, r answers, writes feedback or edits, e is done only where it may be, s snoozes', () => {
    const plan = item('p', {
      kind: 'plan_review',
      taskId: 't1',
      replies: ['approve', 'revise', 'cancel', 'open', 'snooze'],
    });
    expect(triage(plan, 'approve')).toEqual({
      type: 'act',
      action: { type: 'plan', itemId: 'p', taskId: 't1', decision: 'approve' },
    });
    expect(triage(plan, 'reply')).toEqual({ type: 'mode', mode: 'feedback' });
    expect(triage(plan, 'snooze')).toEqual({ type: 'mode', mode: 'snooze' });
    expect(triage(plan, 'done')).toEqual({
      type: 'explain',
      text: 'This plan waits on you, so it stays: a approves it, r asks for a revision, s snoozes it.',
    });
    const review = item('r', { kind: 'review', taskId: 't1', replies: ['approve', 'request_changes', 'snooze'] });
    expect(triage(review, 'approve')).toMatchObject({ action: { type: 'review', decision: 'approve' } });
    expect(triage(review, 'reply')).toEqual({ type: 'mode', mode: 'feedback' });

    const question = item('q', { kind: 'question', questionId: 'q1', replies: ['answer', 'open', 'snooze'] });
    expect(triage(question, 'reply')).toEqual({ type: 'mode', mode: 'reply' });
    expect(triage(question, 'approve')).toBeUndefined();
    expect(triage(question, 'done')).toEqual({
      type: 'explain',
      text: 'This question waits on you, so it stays: r answers it, s snoozes it.',
    });

    const proposal = item('x', {
      kind: 'proposal',
      proposalId: 'pr1',
      replies: ['confirm', 'dismiss', 'snooze'],
      proposal: {
        id: 'pr1',
        kind: 'spawn_task',
        status: 'pending',
        payload: { title: 'Tidy', prompt: 'Sort it' },
        messageId: 'm1',
        createdAt: '2026-01-15T09:00:00Z',
      },
    });
    expect(triage(proposal, 'approve')).toEqual({
      type: 'act',
      action: { type: 'confirm', itemId: 'x', proposalId: 'pr1' },
    });
    expect(triage(proposal, 'approve', { confirmBlocked: 'codex cannot run here.' })).toEqual({
      type: 'explain',
      text: 'codex cannot run here.',
    });
    expect(triage(proposal, 'reply')).toEqual({ type: 'mode', mode: 'edit' });
    expect(triage(proposal, 'done')).toMatchObject({ text: expect.stringContaining('a confirms it, r edits it') });

    // a proposal on a runtime that cannot run here is not confirmed as it is
    const codex = {
      ...proposal,
      proposal: { ...proposal.proposal!, payload: { title: 'Tidy', prompt: 'x', runtime: 'codex' as const } },
    };
    const choices = runtimeChoices([
      { name: 'claude-code', available: true, reason: '', default: true },
      { name: 'codex', available: false, reason: 'not installed', default: false },
      { name: 'command', available: true, reason: '', default: false },
    ]);
    expect(proposalProblem(codex, choices)).toBe('codex cannot run here: not installed. Choose another runtime.');
    expect(proposalProblem(proposal, choices)).toBeUndefined();
    expect(proposalProblem(item('n'), choices)).toBeUndefined();

    expect(triage(item('n'), 'done')).toEqual({ type: 'act', action: { type: 'done', itemId: 'n' } });
    expect(triage(item('n'), 'approve')).toBeUndefined();
  });
});

describe('what the device keeps', () => {
  it('remembers the project filter per user', () => {
    const storage = new MemoryStorage();
    writeFilter(storage, 'u1', 'p1');
    expect(readFilter(storage, 'u1')).toBe('p1');
    expect(readFilter(storage, 'u2')).toBeUndefined();
    writeFilter(storage, 'u1', undefined);
    expect(readFilter(storage, 'u1')).toBeUndefined();
  });

  it('keeps the last inbox with its time and filter, and ignores what it cannot read', () => {
    const storage = new MemoryStorage();
    writeCache(storage, 'u1', { at: '2026-01-15T10:42:00Z', projectId: 'p1', response: response() });
    expect(readCache(storage, 'u1')).toMatchObject({ at: '2026-01-15T10:42:00Z', projectId: 'p1' });
    expect(readCache(storage, 'u1')?.response.needsYou).toHaveLength(3);
    storage.setItem('mainloop.inbox.cache.u1', JSON.stringify({ at: 'x', response: { needsYou: 'no' } }));
    expect(readCache(storage, 'u1')).toBeUndefined();
    const full: StorageLike = {
      getItem: () => null,
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {},
    };
    expect(() => writeCache(full, 'u1', { at: 'x', response: response() })).not.toThrow();
  });
});
