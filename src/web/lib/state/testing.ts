/**
 * Fakes for the web app's unit tests (not used by the app): storage
 * held in a map, and timers that wait until the test fires them.
 */
import type { Timers } from '../events/event-stream.js';
import type { StorageLike } from './stored-list.js';

export class MemoryStorage implements StorageLike {
  readonly items = new Map<string, string>();
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
}

export function fakeTimers() {
  const pending: Array<{ callback: () => void; ms: number }> = [];
  const timers: Timers & { pending: typeof pending; fire(): void } = {
    pending,
    setTimeout(callback, ms) {
      const timer = { callback, ms };
      pending.push(timer);
      return timer;
    },
    clearTimeout(handle) {
      const index = pending.indexOf(handle as (typeof pending)[number]);
      if (index >= 0) pending.splice(index, 1);
    },
    fire() {
      pending.splice(0).forEach((timer) => timer.callback());
    },
  };
  return timers;
}
