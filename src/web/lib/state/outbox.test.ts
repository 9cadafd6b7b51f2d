import { describe, expect, it } from 'vitest';
import type { Message } from '../../../contract/index.js';
import { ApiRequestError } from '../api/client.js';
import { Backoff } from '../events/backoff.js';
import { newClientId, Outbox, OutboxDelivery, sendFailure, type OutboxEntry, type StorageLike } from './outbox.js';
import { fakeTimers, MemoryStorage } from './testing.js';

const networkError = () => new ApiRequestError(0, 'NETWORK_ERROR', 'The mainloop server cannot be reached.');
const reply = (entry: OutboxEntry): Message => ({
  id: `m-${entry.clientId}`,
  role: 'user',
  content: entry.content,
  status: 'complete',
  createdAt: '2025-01-01T00:00:00Z',
  clientId: entry.clientId,
});

/** A fake server: idempotent on clientId like the real one; counts what it stored. */
function fakeServer() {
  const stored = new Map<string, Message>();
  const calls: string[] = [];
  let fail: ((entry: OutboxEntry) => unknown) | undefined;
  return {
    stored,
    calls,
    failWith(next: ((entry: OutboxEntry) => unknown) | undefined) {
      fail = next;
    },
    async send(entry: OutboxEntry): Promise<Message> {
      calls.push(entry.clientId);
      const error = fail?.(entry);
      if (error) throw error;
      const message = stored.get(entry.clientId) ?? reply(entry);
      stored.set(entry.clientId, message);
      return message;
    },
  };
}

describe('Outbox', () => {
  it('persists entries per key and survives a new instance (a reload)', () => {
    const storage = new MemoryStorage();
    const outbox = new Outbox(storage, 'mainloop.outbox.u1');
    outbox.add({ clientId: 'c1', content: 'hello' });
    outbox.add({ clientId: 'c2', content: 'world' });
    const reloaded = new Outbox(storage, 'mainloop.outbox.u1');
    expect(reloaded.entries().map((entry) => entry.content)).toEqual(['hello', 'world']);
    expect(new Outbox(storage, 'mainloop.outbox.u2').entries()).toEqual([]);
  });

  it('dedupes by clientId', () => {
    const outbox = new Outbox(new MemoryStorage(), 'k');
    expect(outbox.add({ clientId: 'c1', content: 'a' })).toBe(true);
    expect(outbox.add({ clientId: 'c1', content: 'a again' })).toBe(false);
    expect(outbox.entries()).toHaveLength(1);
  });

  it('sees what another tab wrote before changing anything', () => {
    const storage = new MemoryStorage();
    const tabA = new Outbox(storage, 'k');
    const tabB = new Outbox(storage, 'k');
    tabA.add({ clientId: 'a', content: 'from A' });
    tabB.add({ clientId: 'b', content: 'from B' });
    expect(tabA.entries().map((entry) => entry.clientId)).toEqual(['a', 'b']);
    tabA.remove('a');
    expect(tabB.entries().map((entry) => entry.clientId)).toEqual(['b']);
    tabB.remove('b');
    expect(storage.items.has('k')).toBe(false);
  });

  it('ignores junk in storage and still works without storage', () => {
    const storage = new MemoryStorage();
    storage.setItem('k', '{"not":"a list"}');
    expect(new Outbox(storage, 'k').entries()).toEqual([]);
    storage.setItem('k', JSON.stringify([{ clientId: 'c', content: 'ok' }, { clientId: 3 }, null]));
    expect(new Outbox(storage, 'k').entries()).toMatchObject([{ clientId: 'c', content: 'ok', attempts: 0 }]);
    const throwing: StorageLike = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
      removeItem: () => {},
    };
    const outbox = new Outbox(throwing, 'k');
    outbox.add({ clientId: 'm', content: 'kept in memory' });
    expect(outbox.entries().map((entry) => entry.clientId)).toEqual(['m']);
  });
});

describe('sendFailure', () => {
  it('retries what may pass later and rejects what never will', () => {
    expect(sendFailure(networkError())).toBe('retry');
    for (const status of [500, 502, 503, 408, 429, 401]) {
      expect(sendFailure(new ApiRequestError(status, 'X', 'x')), String(status)).toBe('retry');
    }
    for (const status of [400, 404, 409, 413, 422]) {
      expect(sendFailure(new ApiRequestError(status, 'X', 'x')), String(status)).toBe('reject');
    }
    expect(sendFailure(new TypeError('failed to fetch'))).toBe('retry');
  });
});

describe('OutboxDelivery', () => {
  function setUp(options: { online?: () => boolean } = {}) {
    const storage = new MemoryStorage();
    const outbox = new Outbox(storage, 'k');
    const server = fakeServer();
    const timers = fakeTimers();
    const delivered: string[] = [];
    const rejected: Array<{ content: string; error: unknown }> = [];
    const delivery = new OutboxDelivery({
      outbox,
      send: (entry) => server.send(entry),
      isOnline: options.online ?? (() => true),
      timers,
      backoff: new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 }),
      onDelivered: (entry) => delivered.push(entry.clientId),
      onRejected: (entry, error) => rejected.push({ content: entry.content, error }),
    });
    return { storage, outbox, server, timers, delivery, delivered, rejected };
  }

  it('delivers in order and empties the outbox', async () => {
    const { outbox, server, delivery, delivered } = setUp();
    outbox.add({ clientId: 'c1', content: 'one' });
    outbox.add({ clientId: 'c2', content: 'two' });
    await delivery.flush();
    expect(server.calls).toEqual(['c1', 'c2']);
    expect(delivered).toEqual(['c1', 'c2']);
    expect(outbox.entries()).toEqual([]);
  });

  it('keeps an entry through network failures and delivers it exactly once, with the same clientId', async () => {
    const { outbox, server, timers, delivery } = setUp();
    outbox.add({ clientId: 'c1', content: 'written offline' });
    outbox.add({ clientId: 'c2', content: 'behind it' });
    server.failWith(() => networkError());
    await delivery.flush();
    expect(server.calls).toEqual(['c1']); // c2 waits behind c1: the order holds
    expect(outbox.entries()).toMatchObject([
      { clientId: 'c1', attempts: 1, lastError: expect.stringContaining('cannot be reached') },
      { clientId: 'c2', attempts: 0 },
    ]);
    expect(timers.pending).toHaveLength(1); // a retry is scheduled with backoff

    server.failWith(undefined);
    timers.fire();
    await delivery.flush();
    expect(server.calls).toEqual(['c1', 'c1', 'c2']);
    expect([...server.stored.keys()]).toEqual(['c1', 'c2']);
    expect(outbox.entries()).toEqual([]);
  });

  it('a response lost after the server stored the message: the retry gets the same message, nothing twice', async () => {
    const { outbox, server, delivery } = setUp();
    outbox.add({ clientId: 'c1', content: 'hi' });
    let first = true;
    server.failWith(() => {
      if (!first) return undefined;
      first = false;
      server.stored.set('c1', reply({ clientId: 'c1', content: 'hi', createdAt: '', attempts: 0 }));
      return networkError(); // stored, but the answer never arrived
    });
    await delivery.flush();
    await delivery.flush();
    expect(server.calls).toEqual(['c1', 'c1']);
    expect(server.stored.size).toBe(1);
    expect(outbox.entries()).toEqual([]);
  });

  it('waits while offline, without scheduling timers, and goes when flushed online', async () => {
    let online = false;
    const { outbox, server, timers, delivery } = setUp({ online: () => online });
    outbox.add({ clientId: 'c1', content: 'later' });
    await delivery.flush();
    expect(server.calls).toEqual([]);
    expect(timers.pending).toHaveLength(0);
    online = true;
    await delivery.flush();
    expect(server.calls).toEqual(['c1']);
  });

  it('drops a message the server refuses (4xx) and hands its text back; the rest still goes', async () => {
    const { outbox, server, delivery, rejected, delivered } = setUp();
    outbox.add({ clientId: 'bad', content: 'too long' });
    outbox.add({ clientId: 'good', content: 'fine' });
    server.failWith((entry) =>
      entry.clientId === 'bad'
        ? new ApiRequestError(400, 'VALIDATION_FAILED', 'content is at most 100000 characters')
        : undefined,
    );
    await delivery.flush();
    expect(rejected).toMatchObject([{ content: 'too long' }]);
    expect(delivered).toEqual(['good']);
    expect(outbox.entries()).toEqual([]);
  });

  it('one run at a time: a flush during a run runs once more afterwards, never in parallel', async () => {
    const { outbox, server, delivery } = setUp();
    outbox.add({ clientId: 'c1', content: 'one' });
    const first = delivery.flush();
    outbox.add({ clientId: 'c2', content: 'two' });
    const second = delivery.flush();
    await Promise.all([first, second]);
    expect(server.calls).toEqual(['c1', 'c2']);
  });
});

describe('newClientId', () => {
  it('uses randomUUID where it exists and random bytes where it does not (plain http on a LAN)', () => {
    expect(newClientId()).toMatch(/^[0-9a-f-]{36}$/);
    const insecure = {
      getRandomValues: <T extends ArrayBufferView | null>(array: T) =>
        globalThis.crypto.getRandomValues(array as never) as T,
    };
    const id = newClientId(insecure as Pick<Crypto, 'getRandomValues'>);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(newClientId(insecure as Pick<Crypto, 'getRandomValues'>)).not.toBe(id);
  });
});
