import { describe, expect, it } from 'vitest';
import { ApiRequestError } from '../api/client.js';
import { Backoff } from '../events/backoff.js';
import { fakeTimers, MemoryStorage } from '../state/testing.js';
import { ActionDelivery, ActionQueue, type QueuedAction } from './action-queue.js';
import { actionFailure, type InboxAction } from './actions.js';

const offline = () => new ApiRequestError(0, 'NETWORK_ERROR', 'The mainloop server cannot be reached.');
const done = (itemId: string): InboxAction => ({ type: 'done', itemId });
const answer = (itemId: string, text: string): InboxAction => ({
  type: 'answer',
  itemId,
  questionId: `q-${itemId}`,
  answer: text,
});

function setUp(options: { online?: () => boolean } = {}) {
  const storage = new MemoryStorage();
  const queue = new ActionQueue(storage, 'mainloop.inbox.queue.u1');
  const sent: InboxAction[] = [];
  const events: string[] = [];
  let fail: ((action: InboxAction) => unknown) | undefined;
  const timers = fakeTimers();
  const delivery = new ActionDelivery({
    queue,
    isOnline: options.online ?? (() => true),
    timers,
    backoff: new Backoff({ random: () => 0 }),
    send: async (action) => {
      sent.push(action);
      const error = fail?.(action);
      if (error) throw error;
      return {};
    },
    onDelivered: (entry) => events.push(`delivered ${entry.id}`),
    onConflict: (entry) => events.push(`conflict ${entry.id}`),
    onRejected: (entry, error) => events.push(`rejected ${entry.id}: ${(error as Error).message}`),
  });
  return {
    storage,
    queue,
    sent,
    events,
    timers,
    delivery,
    failWith(next: typeof fail) {
      fail = next;
    },
  };
}

describe('ActionQueue', () => {
  it('keeps actions across a reload, in the order taken, each once', () => {
    const { storage, queue } = setUp();
    queue.add({ id: 'a1', action: done('i1') });
    queue.add({ id: 'a2', action: answer('i2', 'blue') });
    queue.add({ id: 'a1', action: done('i1') }); // the same entry again: kept once
    queue.add({
      id: 'a3',
      action: { type: 'confirm', itemId: 'i3', proposalId: 'p3', payload: { title: 'Edited', prompt: 'x' } },
    });
    queue.add({ id: 'a4', action: { type: 'dismiss', itemId: 'i4', proposalId: 'p4' } });
    const reloaded = new ActionQueue(storage, 'mainloop.inbox.queue.u1');
    expect(reloaded.entries().map((entry: QueuedAction) => [entry.id, entry.action.type])).toEqual([
      ['a1', 'done'],
      ['a2', 'answer'],
      ['a3', 'confirm'],
      ['a4', 'dismiss'],
    ]);
    expect(reloaded.entries()[2]!.action).toMatchObject({ payload: { title: 'Edited' } });
    expect(new ActionQueue(storage, 'mainloop.inbox.queue.u2').entries()).toEqual([]);
  });

  it('skips what it cannot read (hand-edited or from an older version) instead of failing', () => {
    const storage = new MemoryStorage();
    storage.setItem(
      'k',
      JSON.stringify([
        { id: 'ok', action: { type: 'retry', taskId: 't1' } },
        { id: 'bad-type', action: { type: 'explode', itemId: 'x' } },
        { id: 'no-question', action: { type: 'answer', itemId: 'x', answer: 'y' } },
        { id: 'no-proposal', action: { type: 'confirm', itemId: 'x' } },
        'junk',
      ]),
    );
    expect(new ActionQueue(storage, 'k').entries().map((entry) => entry.id)).toEqual(['ok']);
    storage.setItem('k', '{not json');
    expect(new ActionQueue(storage, 'k').entries()).toEqual([]);
  });

  it('works without storage for the life of the page', () => {
    const queue = new ActionQueue(undefined, 'k');
    queue.add({ id: 'a1', action: done('i1') });
    expect(queue.entries()).toHaveLength(1);
    queue.remove('a1');
    expect(queue.entries()).toHaveLength(0);
  });
});

describe('ActionDelivery', () => {
  it('sends in order and empties the queue', async () => {
    const { queue, delivery, sent, events, storage } = setUp();
    queue.add({ id: 'a1', action: done('i1') });
    queue.add({ id: 'a2', action: answer('i2', 'blue') });
    await delivery.flush();
    expect(sent.map((action) => action.itemId)).toEqual(['i1', 'i2']);
    expect(events).toEqual(['delivered a1', 'delivered a2']);
    expect(storage.items.size).toBe(0);
  });

  it('offline: keeps everything, in order, and sends it when back online', async () => {
    let online = false;
    const { queue, delivery, sent } = setUp({ online: () => online });
    queue.add({ id: 'a1', action: done('i1') });
    queue.add({ id: 'a2', action: done('i2') });
    await delivery.flush();
    expect(sent).toEqual([]);
    online = true;
    await delivery.flush();
    expect(sent.map((action) => action.itemId)).toEqual(['i1', 'i2']);
    expect(queue.entries()).toEqual([]);
  });

  it('a network failure stops the run (the later ones wait behind it) and tries again with backoff', async () => {
    const { queue, delivery, sent, timers, failWith } = setUp();
    queue.add({ id: 'a1', action: done('i1') });
    queue.add({ id: 'a2', action: done('i2') });
    failWith(() => offline());
    await delivery.flush();
    expect(sent.map((action) => action.itemId)).toEqual(['i1']);
    expect(queue.entries().map((entry) => [entry.id, entry.attempts])).toEqual([
      ['a1', 1],
      ['a2', 0],
    ]);
    expect(queue.entries()[0]!.lastError).toContain('cannot be reached');
    expect(timers.pending).toHaveLength(1);

    failWith(undefined);
    timers.fire();
    await delivery.flush();
    expect(sent.map((action) => action.itemId)).toEqual(['i1', 'i1', 'i2']);
    expect(queue.entries()).toEqual([]);
  });

  it('a 409 on replay (answered or decided on another device) is dropped with a note; the rest go on', async () => {
    const { queue, delivery, events, failWith } = setUp();
    queue.add({ id: 'a1', action: answer('i1', 'red') });
    queue.add({ id: 'a2', action: done('i2') });
    failWith((action) =>
      action.type === 'answer' ? new ApiRequestError(409, 'CONFLICT', 'question q-i1 is already answered') : undefined,
    );
    await delivery.flush();
    expect(events).toEqual(['conflict a1', 'delivered a2']);
    expect(queue.entries()).toEqual([]);
  });

  it('another 4xx is refused for good and said plainly', async () => {
    const { queue, delivery, events, failWith } = setUp();
    queue.add({ id: 'a1', action: { type: 'snooze', itemId: 'i1', until: '2999-01-01T00:00:00Z' } });
    failWith(() => new ApiRequestError(400, 'VALIDATION_FAILED', 'until: snooze for at most a year'));
    await delivery.flush();
    expect(events).toEqual(['rejected a1: until: snooze for at most a year']);
    expect(queue.entries()).toEqual([]);
  });

  it('classifies failures', () => {
    expect(actionFailure(offline())).toBe('retry');
    expect(actionFailure(new ApiRequestError(503, 'HTTP_503', 'x'))).toBe('retry');
    expect(actionFailure(new ApiRequestError(401, 'UNAUTHENTICATED', 'x'))).toBe('retry');
    expect(actionFailure(new ApiRequestError(429, 'RATE_LIMITED', 'x'))).toBe('retry');
    expect(actionFailure(new ApiRequestError(409, 'CONFLICT', 'x'))).toBe('conflict');
    // done on what still waits on the person is refused, not a race another device won
    expect(actionFailure(new ApiRequestError(409, 'ITEM_STILL_WAITING', 'x'))).toBe('rejected');
    expect(actionFailure(new ApiRequestError(404, 'NOT_FOUND', 'x'))).toBe('rejected');
    expect(actionFailure(new TypeError('fetch failed'))).toBe('retry');
  });
});
