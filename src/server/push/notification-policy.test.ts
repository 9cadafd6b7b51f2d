import { describe, expect, it } from 'vitest';
import type { InboxItem } from '../../contract/inbox.js';
import {
  MAX_PAYLOAD_BYTES,
  decide,
  digestDue,
  digestPayload,
  isQuiet,
  itemPayload,
  quietEndsAt,
  webPushUrgency,
} from './notification-policy.js';

const night = { start: '22:00', end: '07:00' };
const berlin = { timeZone: 'Europe/Berlin', quietHours: night };
const at = (iso: string) => new Date(iso);

function item(overrides: Partial<InboxItem> = {}): InboxItem {
  return {
    id: 'item-1',
    kind: 'external',
    priority: 'high',
    title: 'Deploy finished',
    dedupeKey: 'k',
    replies: ['done', 'snooze'],
    state: 'open',
    createdAt: '2026-01-15T10:00:00.000Z',
    updatedAt: '2026-01-15T10:00:00.000Z',
    ...overrides,
  };
}

describe('quiet hours', () => {
  it('cross midnight in the person’s zone: 22:00–07:00 Berlin is quiet at 22:30 and 06:59, not at 07:00 or 21:59', () => {
    // January: Berlin is UTC+1
    expect(isQuiet(at('2026-01-15T21:30:00Z'), berlin)).toBe(true);
    expect(isQuiet(at('2026-01-16T05:59:00Z'), berlin)).toBe(true);
    expect(isQuiet(at('2026-01-16T06:00:00Z'), berlin)).toBe(false);
    expect(isQuiet(at('2026-01-15T20:59:00Z'), berlin)).toBe(false);
    // 06:30Z is 07:30 in Berlin (awake) but 06:30 in UTC (quiet)
    expect(isQuiet(at('2026-01-16T06:30:00Z'), berlin)).toBe(false);
    expect(isQuiet(at('2026-01-16T06:30:00Z'), { timeZone: 'UTC', quietHours: night })).toBe(true);
  });

  it('follow the zone’s summer time (Intl, not a fixed offset)', () => {
    // July: Berlin is UTC+2, so 05:30Z is 07:30 local
    expect(isQuiet(at('2026-07-15T05:30:00Z'), berlin)).toBe(false);
    expect(isQuiet(at('2026-07-15T04:30:00Z'), berlin)).toBe(true);
  });

  it('within one day (13:00–14:00) are quiet only then', () => {
    const lunch = { timeZone: 'UTC', quietHours: { start: '13:00', end: '14:00' } };
    expect(isQuiet(at('2026-01-15T12:59:00Z'), lunch)).toBe(false);
    expect(isQuiet(at('2026-01-15T13:00:00Z'), lunch)).toBe(true);
    expect(isQuiet(at('2026-01-15T14:00:00Z'), lunch)).toBe(false);
  });

  it('are never quiet when none are set', () => {
    expect(isQuiet(at('2026-01-15T23:00:00Z'), { timeZone: 'UTC', quietHours: null })).toBe(false);
    expect(quietEndsAt(at('2026-01-15T23:00:00Z'), { timeZone: 'UTC', quietHours: null })).toBeUndefined();
  });

  it('end at the next local end time: the same night after midnight, the next morning before it', () => {
    expect(quietEndsAt(at('2026-01-15T21:30:00Z'), berlin)).toEqual(at('2026-01-16T06:00:00Z'));
    expect(quietEndsAt(at('2026-01-16T03:00:00Z'), berlin)).toEqual(at('2026-01-16T06:00:00Z'));
    expect(quietEndsAt(at('2026-01-15T12:00:00Z'), berlin)).toBeUndefined();
  });

  it('end at 07:00 local across a DST change (New York springs forward on 8 March 2026)', () => {
    const newYork = { timeZone: 'America/New_York', quietHours: night };
    // 22:00 EST on 7 March; 07:00 the next morning is EDT (UTC−4): 11:00Z, not 12:00Z
    expect(quietEndsAt(at('2026-03-08T03:00:00Z'), newYork)).toEqual(at('2026-03-08T11:00:00Z'));
    expect(isQuiet(at('2026-03-08T10:59:00Z'), newYork)).toBe(true);
    expect(isQuiet(at('2026-03-08T11:00:00Z'), newYork)).toBe(false);
    // and back in November (EST again, UTC−5): 07:00 is 12:00Z
    expect(quietEndsAt(at('2026-11-01T03:00:00Z'), newYork)).toEqual(at('2026-11-01T12:00:00Z'));
  });
});

describe('what is sent when', () => {
  const quietNow = at('2026-01-15T23:00:00Z');

  it('holds a high item in quiet hours, sends it outside them, and sends an urgent one always', () => {
    expect(decide({ priority: 'high' }, berlin, quietNow)).toBe('hold');
    expect(decide({ priority: 'high' }, berlin, at('2026-01-15T12:00:00Z'))).toBe('send');
    expect(decide({ priority: 'urgent' }, berlin, quietNow)).toBe('send');
    expect(decide({ priority: 'high' }, { timeZone: 'Europe/Berlin', quietHours: null }, quietNow)).toBe('send');
  });

  it('sends the digest once quiet hours are over', () => {
    expect(digestDue(berlin, quietNow)).toBe(false);
    expect(digestDue(berlin, at('2026-01-16T06:00:00Z'))).toBe(true);
  });

  it('asks the push service for high urgency for blocking and urgent items only', () => {
    expect(webPushUrgency({ kind: 'question', priority: 'high' })).toBe('high');
    expect(webPushUrgency({ kind: 'external', priority: 'urgent' })).toBe('high');
    expect(webPushUrgency({ kind: 'external', priority: 'high' })).toBe('normal');
    expect(webPushUrgency({ kind: 'digest', priority: 'high' })).toBe('normal');
  });
});

describe('payloads', () => {
  it('offer Approve for a plan or a review, Reply for a question, nothing for an external item', () => {
    const plan = itemPayload(
      item({ kind: 'plan_review', taskId: 't1', url: '/tasks/t1', replies: ['approve', 'revise', 'cancel', 'open'] }),
    );
    expect(plan).toMatchObject({ kind: 'plan_review', taskId: 't1', url: '/tasks/t1' });
    expect(plan.actions).toEqual([{ action: 'approve', title: 'Approve' }]);
    expect(itemPayload(item({ kind: 'review', taskId: 't1', replies: ['approve'] })).actions).toEqual([
      { action: 'approve', title: 'Approve' },
    ]);
    const question = itemPayload(
      item({ kind: 'question', taskId: 't1', questionId: 'q1', replies: ['answer', 'open', 'snooze'] }),
    );
    expect(question).toMatchObject({ questionId: 'q1', actions: [{ action: 'reply', title: 'Reply' }] });
    expect(itemPayload(item()).actions).toEqual([]);
    expect(itemPayload(item()).url).toBe('/');
  });

  it('stay below 3 KB however long the item is', () => {
    const long = itemPayload(item({ title: '✓'.repeat(5_000), body: '€'.repeat(20_000) }));
    expect(Buffer.byteLength(JSON.stringify(long))).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(long.title.length).toBeLessThanOrEqual(200);
  });

  it('make one digest of several held items ("3 things need you: …") and push a single one as itself', () => {
    const items = [
      item({ id: 'a', title: 'Plan ready: search' }),
      item({ id: 'b', title: 'Deploy?' }),
      item({ id: 'c', title: 'CI red' }),
    ];
    const digest = digestPayload(items);
    expect(digest).toMatchObject({ kind: 'digest', url: '/', itemIds: ['a', 'b', 'c'], actions: [] });
    expect(digest.title).toBe('3 things need you: Plan ready: search, Deploy?, CI red');
    expect(digest.body).toBe('• Plan ready: search\n• Deploy?\n• CI red');
    expect(digestPayload([items[0]!])).toEqual(itemPayload(items[0]!));
    const many = digestPayload(
      Array.from({ length: 100 }, (_, i) => item({ id: `item-${i}`, title: 'x'.repeat(100) })),
    );
    expect(Buffer.byteLength(JSON.stringify(many))).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });
});
