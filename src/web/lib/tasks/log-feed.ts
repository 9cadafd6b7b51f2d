import type { LogEntry, TaskLogsResponse } from '../../../contract/index.js';
import { LogBuffer } from './log-buffer.js';

export type FetchLogPage = (after: number) => Promise<TaskLogsResponse>;

/**
 * One task's log kept complete from two sources: pages of `GET /logs?after=<last seq>` and
 * `task.log` events. Lines are held by seq (LogBuffer), so a page and an event that overlap,
 * or a page fetched again after a reconnect, add every line exactly once; an event beyond a gap
 * fetches the missing lines. One fetch at a time: a sync asked for during one runs right after.
 * Plain TypeScript; TaskLogState (lib/state) makes it reactive.
 */
export class LogFeed {
  readonly #buffer = new LogBuffer();
  readonly #fetchPage: FetchLogPage;
  readonly #onChange: (entries: readonly LogEntry[]) => void;
  #syncing: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(fetchPage: FetchLogPage, onChange: (entries: readonly LogEntry[]) => void) {
    this.#fetchPage = fetchPage;
    this.#onChange = onChange;
  }

  get entries(): readonly LogEntry[] {
    return this.#buffer.entries;
  }

  /** Lines from a `task.log` event. */
  receive(entries: readonly LogEntry[]): void {
    if (this.#closed) return;
    this.#apply(entries);
    if (this.#buffer.hasGap) void this.sync().catch(() => {}); // the next sync (a reconnect) tries again
  }

  /** Fetches everything after the last line held; rejects with the request's error. */
  sync(): Promise<void> {
    if (this.#syncing) {
      this.#again = true;
      return this.#syncing;
    }
    this.#syncing = this.#fetch().finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  close(): void {
    this.#closed = true;
  }

  async #fetch(): Promise<void> {
    do {
      this.#again = false;
      for (let more = true; more && !this.#closed;) {
        const page = await this.#fetchPage(this.#buffer.lastSeq);
        if (this.#closed) return;
        const before = this.#buffer.lastSeq;
        this.#apply(page.entries);
        more = page.hasMore && this.#buffer.lastSeq > before;
      }
    } while (this.#again && !this.#closed);
  }

  #apply(entries: readonly LogEntry[]): void {
    if (this.#buffer.add(entries) > 0) this.#onChange(this.#buffer.entries);
  }
}
