import type { Message } from '../../../contract/index.js';
import { errorMessage, type ApiClient } from '../api/client.js';
import { appendDelta, mergeLatest, mergeOlder, oldestId, upsertMessage, type MessageSource } from './thread.js';

export const PAGE_SIZE = 50;

/** The main thread's messages as reactive state: the latest page, older pages on demand, and every change from events. */
export class ThreadState {
  /** oldest first */
  messages: Message[] = $state([]);
  hasMore = $state(false);
  loaded = $state(false);
  loadingOlder = $state(false);
  loadError: string | undefined = $state();
  /** replies whose Retry was pressed and not yet answered */
  retrying: Record<string, boolean> = $state({});
  retryErrors: Record<string, string> = $state({});

  readonly #api: ApiClient;
  readonly #pageSize: number;
  #generation = 0;

  constructor(api: ApiClient, pageSize = PAGE_SIZE) {
    this.#api = api;
    this.#pageSize = pageSize;
  }

  /** The latest page: at start, and again whenever the event stream comes back (to close any gap). */
  async loadLatest(): Promise<void> {
    const generation = this.#generation;
    try {
      const page = await this.#api.listMessages({ limit: this.#pageSize });
      if (generation !== this.#generation) return;
      const first = !this.loaded;
      const replaced = mergeLatest(this.messages, page.messages);
      if (first || replaced) this.hasMore = page.hasMore;
      this.loaded = true;
      this.loadError = undefined;
    } catch (error) {
      if (generation !== this.#generation) return;
      if (!this.loaded) this.loadError = errorMessage(error);
    }
  }

  /** The page before the oldest message held (infinite scroll upwards). */
  async loadOlder(): Promise<void> {
    const before = oldestId(this.messages);
    if (!this.hasMore || this.loadingOlder || !before) return;
    const generation = this.#generation;
    this.loadingOlder = true;
    try {
      const page = await this.#api.listMessages({ before, limit: this.#pageSize });
      if (generation !== this.#generation) return;
      mergeOlder(this.messages, page.messages);
      this.hasMore = page.hasMore && page.messages.length > 0;
    } catch (error) {
      if (generation === this.#generation) this.loadError = errorMessage(error);
    } finally {
      if (generation === this.#generation) this.loadingOlder = false;
    }
  }

  receive(message: Message, source: MessageSource = 'event'): void {
    upsertMessage(this.messages, message, source);
    if (message.status !== 'error' && this.retrying[message.id]) delete this.retrying[message.id];
  }

  receiveDelta(messageId: string, text: string): void {
    appendDelta(this.messages, messageId, text);
  }

  /** Runs a failed reply's turn again; the new attempt arrives as events. */
  async retry(messageId: string): Promise<void> {
    if (this.retrying[messageId]) return;
    this.retrying[messageId] = true;
    delete this.retryErrors[messageId];
    try {
      await this.#api.retryMessage(messageId);
    } catch (error) {
      this.retryErrors[messageId] = errorMessage(error);
      delete this.retrying[messageId];
    }
  }

  /** Forget everything (sign-out, another user). */
  reset(): void {
    this.#generation++;
    this.messages = [];
    this.hasMore = false;
    this.loaded = false;
    this.loadingOlder = false;
    this.loadError = undefined;
    this.retrying = {};
    this.retryErrors = {};
  }
}
