import { describe, expect, it } from 'vitest';
import type { Message } from '../../../contract/index.js';
import { appendDelta, compareMessages, mergeLatest, mergeOlder, upsertMessage } from './thread.js';

let clock = Date.parse('2025-01-01T10:00:00Z');
function message(id: string, patch: Partial<Message> = {}): Message {
  clock += 1000;
  return { id, role: 'assistant', content: '', status: 'complete', createdAt: new Date(clock).toISOString(), ...patch };
}
const ids = (messages: Message[]) => messages.map((item) => item.id);

describe('thread list logic', () => {
  it('keeps messages in time order, unique by id, whatever order they arrive in', () => {
    const a = message('1', { role: 'user' });
    const b = message('2');
    const c = message('3', { role: 'user' });
    const list: Message[] = [];
    upsertMessage(list, c, 'event');
    upsertMessage(list, a, 'event');
    upsertMessage(list, b, 'event');
    upsertMessage(list, b, 'event');
    expect(ids(list)).toEqual(['1', '2', '3']);
  });

  it('breaks ties in time by numeric id', () => {
    const at = '2025-01-01T00:00:00.000Z';
    expect(compareMessages({ id: '9', createdAt: at }, { id: '10', createdAt: at })).toBeLessThan(0);
    expect(compareMessages({ id: 'b', createdAt: at }, { id: 'a', createdAt: at })).toBeGreaterThan(0);
  });

  it('streams: created, deltas appended, completed replaces with the final content', () => {
    const list: Message[] = [];
    const reply = message('7', { status: 'streaming' });
    upsertMessage(list, reply, 'event');
    appendDelta(list, '7', 'Hel');
    appendDelta(list, '7', 'lo');
    expect(list[0]!.content).toBe('Hello');
    upsertMessage(
      list,
      { ...reply, status: 'complete', content: 'Hello, world.', usage: { inputTokens: 10, outputTokens: 3 } },
      'event',
    );
    expect(list[0]).toMatchObject({ content: 'Hello, world.', status: 'complete', usage: { outputTokens: 3 } });
    appendDelta(list, '7', ' stale'); // a late delta after completion changes nothing
    expect(list[0]!.content).toBe('Hello, world.');
  });

  it('a restarted turn (message.created again for the same id) starts its text over', () => {
    const list: Message[] = [];
    const reply = message('8', { status: 'streaming' });
    upsertMessage(list, reply, 'event');
    appendDelta(list, '8', 'first try, cut');
    upsertMessage(list, reply, 'event');
    appendDelta(list, '8', 'second try');
    expect(list).toHaveLength(1);
    expect(list[0]!.content).toBe('second try');
  });

  it('a delta for a message not seen yet starts a placeholder that the event then replaces', () => {
    const list: Message[] = [message('1', { role: 'user' })];
    appendDelta(list, '2', 'partial', () => new Date(clock + 500));
    expect(list[1]).toMatchObject({ id: '2', role: 'assistant', status: 'streaming', content: 'partial' });
    upsertMessage(list, message('2', { content: 'final' }), 'event');
    expect(list).toHaveLength(2);
    expect(list[1]!.content).toBe('final');
  });

  it('an error reply keeps its reason', () => {
    const list: Message[] = [];
    upsertMessage(list, message('5', { status: 'streaming' }), 'event');
    upsertMessage(list, message('5', { status: 'error', error: 'The model is overloaded.' }), 'event');
    expect(list[0]).toMatchObject({ status: 'error', error: 'The model is overloaded.' });
  });

  it('a fetched page never rolls back what events already said', () => {
    const list: Message[] = [];
    const reply = message('9', { status: 'streaming' });
    upsertMessage(list, reply, 'event');
    appendDelta(list, '9', 'streamed so far');
    // a page fetched meanwhile holds the message as the database saw it
    mergeLatest(list, [{ ...reply, content: 'stream' }]);
    expect(list[0]!.content).toBe('streamed so far');
    upsertMessage(list, { ...reply, status: 'complete', content: 'done' }, 'event');
    mergeLatest(list, [{ ...reply, content: 'stream' }]); // a stale snapshot
    expect(list[0]).toMatchObject({ status: 'complete', content: 'done' });
    mergeLatest(list, [{ ...reply, status: 'complete', content: 'done, edited' }]);
    expect(list[0]!.content).toBe('done, edited');
  });

  it('older pages slot in before, without duplicates', () => {
    const [a, b, c, d] = [message('1'), message('2'), message('3'), message('4')];
    const list: Message[] = [];
    mergeLatest(list, [c!, d!]);
    mergeOlder(list, [a!, b!, c!]);
    expect(ids(list)).toEqual(['1', '2', '3', '4']);
  });

  it('the latest page after a long absence: joined when it overlaps, replaces the list when there is a gap', () => {
    const older = [message('1'), message('2')];
    const list: Message[] = [...older];
    expect(mergeLatest(list, [older[1]!, message('3')])).toBe(false);
    expect(ids(list)).toEqual(['1', '2', '3']);
    const later = [message('50'), message('51')];
    expect(mergeLatest(list, later)).toBe(true);
    expect(ids(list)).toEqual(['50', '51']);
    expect(mergeLatest(list, [])).toBe(false);
    expect(ids(list)).toEqual(['50', '51']);
  });
});
