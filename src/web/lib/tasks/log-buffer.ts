import type { LogEntry } from '../../../contract/index.js';

/**
 * A task's log as the viewer holds it: entries 1..lastSeq with no gap and no duplicate, however
 * they arrive — pages of `GET /logs?after=`, `task.log` events, both at once, again after a
 * reconnect. Entries beyond a gap wait until the gap is filled (`hasGap` says a page is due).
 */
export class LogBuffer {
  readonly #entries: LogEntry[] = [];
  readonly #ahead = new Map<number, LogEntry>();

  get entries(): readonly LogEntry[] {
    return this.#entries;
  }

  /** the last seq held without a gap (0 before any); ask the server for what comes `after` it */
  get lastSeq(): number {
    return this.#entries.at(-1)?.seq ?? 0;
  }

  /** whether entries arrived beyond a gap: the missing ones must be fetched */
  get hasGap(): boolean {
    return this.#ahead.size > 0;
  }

  /** Adds what is new; returns how many entries joined the log. */
  add(entries: readonly LogEntry[]): number {
    for (const entry of entries) {
      if (entry.seq > this.lastSeq && !this.#ahead.has(entry.seq)) this.#ahead.set(entry.seq, entry);
    }
    let added = 0;
    for (let next = this.#ahead.get(this.lastSeq + 1); next; next = this.#ahead.get(this.lastSeq + 1)) {
      this.#ahead.delete(next.seq);
      this.#entries.push(next);
      added++;
    }
    return added;
  }
}
