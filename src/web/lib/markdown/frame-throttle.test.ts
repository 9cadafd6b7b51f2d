import { describe, expect, it } from 'vitest';
import { FrameThrottle, type FrameScheduler } from './frame-throttle.js';

function fakeFrames() {
  let time = 0;
  let queue: Array<() => void> = [];
  const frames: FrameScheduler & { tick(ms?: number): void; advance(ms: number): void } = {
    request(callback) {
      queue.push(callback);
      return callback;
    },
    cancel(handle) {
      queue = queue.filter((callback) => callback !== handle);
    },
    now: () => time,
    /** one animation frame later */
    tick(ms = 16) {
      time += ms;
      const due = queue;
      queue = [];
      due.forEach((callback) => callback());
    },
    advance(ms) {
      time += ms;
    },
  };
  return frames;
}

describe('FrameThrottle', () => {
  it('runs once per frame however often it is asked', () => {
    const frames = fakeFrames();
    let runs = 0;
    const throttle = new FrameThrottle(() => runs++, { frames });
    for (let i = 0; i < 50; i++) throttle.schedule();
    expect(runs).toBe(0);
    frames.tick();
    expect(runs).toBe(1);
    frames.tick();
    expect(runs).toBe(1); // nothing new asked for
  });

  it('waits longer after expensive work, so a long reply does not take every frame', () => {
    const frames = fakeFrames();
    let runs = 0;
    const throttle = new FrameThrottle(
      () => {
        runs++;
        frames.advance(20); // a 20 ms render
      },
      { frames, budgetFactor: 4 },
    );
    throttle.schedule();
    frames.tick();
    expect(runs).toBe(1);
    throttle.schedule();
    for (let i = 0; i < 4; i++) frames.tick(16); // 64 ms < 80 ms budget
    expect(runs).toBe(1);
    frames.tick(16);
    expect(runs).toBe(2);
  });

  it('flush runs pending work at once; cancel drops it', () => {
    const frames = fakeFrames();
    let runs = 0;
    const throttle = new FrameThrottle(() => runs++, { frames });
    throttle.schedule();
    throttle.flush();
    expect(runs).toBe(1);
    frames.tick();
    expect(runs).toBe(1);
    throttle.schedule();
    throttle.cancel();
    frames.tick();
    expect(runs).toBe(1);
    throttle.flush(); // nothing pending: nothing to do
    expect(runs).toBe(1);
  });
});
