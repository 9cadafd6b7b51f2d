import { describe, expect, it } from 'vitest';
import type { LogEntry, TaskLogsResponse } from '../../../contract/index.js';
import { LogFeed } from './log-feed.js';

const entry = (seq: number): LogEntry => ({ seq, at: '2025-01-01T00:00:00Z', kind: 'stdout', text: `line ${seq}` });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => entry(from + index));

/** A server log of `total` lines, paged `size` at a time; each request waits until released when `manual`. */
function fakeServer(total: number, size: number, manual = false) {
  const requests: number[] = [];
  const waiting: Array<() => void> = [];
  const fetchPage = async (after: number): Promise<TaskLogsResponse> => {
    requests.push(after);
    const last = Math.min(total, after + size); // read when asked
    const page = { entries: range(after + 1, last), hasMore: last < total };
    if (manual) await new Promise<void>((resolve) => waiting.push(resolve));
    return page;
  };
  return {
    requests,
    fetchPage,
    grow: (to: number) => (total = to),
    release: async () => {
      while (!waiting.length) await Promise.resolve();
      waiting.shift()!();
    },
  };
}

const seqs = (entries: readonly LogEntry[]) => entries.map((e) => e.seq);

describe('LogFeed', () => {
  it('pages in the whole log with ?after=, then adds events without doubling a line', async () => {
    const server = fakeServer(5, 2);
    const changes: number[][] = [];
    const feed = new LogFeed(server.fetchPage, (entries) => changes.push(seqs(entries)));
    await feed.sync();
    expect(server.requests).toEqual([0, 2, 4]);
    expect(seqs(feed.entries)).toEqual([1, 2, 3, 4, 5]);
    feed.receive([entry(5), entry(6)]);
    expect(seqs(feed.entries)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(changes.at(-1)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('keeps events that arrive while the first page is on its way, and fetches what a gap hides', async () => {
    const server = fakeServer(3, 100, true);
    const feed = new LogFeed(server.fetchPage, () => {});
    const first = feed.sync(); // reads lines 1..3
    server.grow(6);
    // Line 4's event came before the stream was connected; 5 and 6 arrive while the page is on its way.
    feed.receive([entry(5), entry(6)]);
    expect(feed.entries).toEqual([]);
    await server.release();
    await server.release(); // 5 and 6 wait for 4: the feed asks again after 3
    await first;
    expect(server.requests).toEqual([0, 3]);
    expect(seqs(feed.entries)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('after a reconnect asks only for what came after its last line', async () => {
    const server = fakeServer(2, 100);
    const feed = new LogFeed(server.fetchPage, () => {});
    await feed.sync();
    server.grow(4);
    await feed.sync();
    expect(server.requests).toEqual([0, 2]);
    expect(seqs(feed.entries)).toEqual([1, 2, 3, 4]);
  });

  it('stops when closed, and passes a failed request on', async () => {
    const failing = new LogFeed(
      async () => {
        throw new Error('offline');
      },
      () => {},
    );
    await expect(failing.sync()).rejects.toThrow('offline');

    const server = fakeServer(2, 100);
    const feed = new LogFeed(server.fetchPage, () => {});
    feed.close();
    feed.receive([entry(1)]);
    await feed.sync();
    expect(feed.entries).toEqual([]);
  });
});
