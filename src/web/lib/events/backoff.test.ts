import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles up to the cap, jittered within the upper half of each window', () => {
    const highest = new Backoff({ initialMs: 500, maxMs: 10_000, random: () => 0.999999 });
    expect(Array.from({ length: 8 }, () => highest.next())).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000,
    ]);
    const lowest = new Backoff({ initialMs: 500, maxMs: 10_000, random: () => 0 });
    expect(Array.from({ length: 7 }, () => lowest.next())).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });

  it('starts over after reset', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    backoff.next();
    backoff.next();
    expect(backoff.attempt).toBe(2);
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(100);
  });

  it('never exceeds the cap however many failures', () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 10_000, random: () => 0.999999 });
    for (let index = 0; index < 2000; index++) expect(backoff.next()).toBeLessThanOrEqual(10_000);
  });
});
