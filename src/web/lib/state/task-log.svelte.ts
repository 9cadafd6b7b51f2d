import type { LogEntry } from '../../../contract/index.js';
import { errorMessage, type ApiClient } from '../api/client.js';
import { LogFeed } from '../tasks/log-feed.js';

const PAGE = 1000;

/** One task's log while someone looks at it, as reactive state (the logic is LogFeed's). */
export class TaskLogState {
  entries: readonly LogEntry[] = $state.raw([]);
  /** the first pages are in */
  loaded = $state(false);
  error: string | undefined = $state();

  readonly taskId: string;
  readonly #feed: LogFeed;

  constructor(api: ApiClient, taskId: string) {
    this.taskId = taskId;
    this.#feed = new LogFeed(
      (after) => api.getTaskLogs(taskId, { after, limit: PAGE }),
      (entries) => (this.entries = [...entries]),
    );
  }

  /** Lines from a `task.log` event. */
  receive(entries: readonly LogEntry[]): void {
    this.#feed.receive(entries);
  }

  /** Fetches everything after the last line held (at start, after a reconnect). */
  async sync(): Promise<void> {
    try {
      await this.#feed.sync();
      this.loaded = true;
      this.error = undefined;
    } catch (error) {
      this.error = `Could not load the log: ${errorMessage(error)}`;
    }
  }

  close(): void {
    this.#feed.close();
  }
}
