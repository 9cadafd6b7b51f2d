import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeltaCoalescer } from './delta-coalescer.js';

let now = 0;
let sent: string[];
let coalescer: DeltaCoalescer;

beforeEach(() => {
  vi.useFakeTimers();
  now = 0;
  sent = [];
  coalescer = new DeltaCoalescer({ publish: async (text) => void sent.push(text), intervalMs: 50, now: () => now });
});
afterEach(() => {
  vi.useRealTimers();
});

const advance = async (ms: number) => {
  now += ms;
  await vi.advanceTimersByTimeAsync(ms);
};

describe('DeltaCoalescer', () => {
  it('sends the first piece at once, then what arrived meanwhile at most every interval, in order', async () => {
    coalescer.push('Hel');
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual(['Hel']);
    coalescer.push('lo');
    coalescer.push(', ');
    await advance(20);
    coalescer.push('wor');
    expect(sent).toEqual(['Hel']);
    await advance(30);
    expect(sent).toEqual(['Hel', 'lo, wor']);
    coalescer.push('ld');
    await coalescer.flush();
    expect(sent).toEqual(['Hel', 'lo, wor', 'ld']);
  });

  it('sends a piece at once when the interval has passed since the last one', async () => {
    coalescer.push('a');
    await advance(120);
    coalescer.push('b');
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual(['a', 'b']);
  });

  it('publishes one piece at a time, in order, even when publishing is slow', async () => {
    const order: string[] = [];
    const slow = new DeltaCoalescer({
      publish: (text) =>
        new Promise<void>((resolve) =>
          setTimeout(
            () => {
              order.push(text);
              resolve();
            },
            text === 'first' ? 80 : 1,
          ),
        ),
      intervalMs: 50,
      now: () => now,
    });
    slow.push('first');
    await advance(60);
    slow.push('second');
    const flushed = slow.flush();
    await advance(100);
    await flushed;
    expect(order).toEqual(['first', 'second']);
  });

  it('raises a publishing failure at flush, and drops what is held on discard', async () => {
    const failing = new DeltaCoalescer({
      publish: async () => {
        throw new Error('database down');
      },
      intervalMs: 50,
      now: () => now,
    });
    failing.push('x');
    await expect(failing.flush()).rejects.toThrow('database down');

    coalescer.push('kept');
    coalescer.push('dropped');
    coalescer.discard();
    await coalescer.flush();
    expect(sent).toEqual(['kept']);
  });
});
