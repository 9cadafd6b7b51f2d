import type { Message } from '../../../contract/index.js';
import { errorMessage, type ApiClient } from '../api/client.js';
import { DraftStore } from '../chat/draft.js';
import {
  DRAFT_KEY_PREFIX,
  newClientId,
  Outbox,
  OutboxDelivery,
  OUTBOX_KEY_PREFIX,
  type StorageLike,
} from './outbox.js';

/** A message on its way: written by the person, not yet accepted by the server. */
export interface PendingSend {
  clientId: string;
  content: string;
  createdAt: string;
  /** `sending`: a request is out; `queued`: waiting for the network or the next try */
  state: 'sending' | 'queued';
  lastError?: string;
}

/**
 * The composer: the draft (kept on this device per user) and the outbox of sends not yet
 * accepted. Sending writes to the outbox first, then delivers; the outbox is delivered again
 * when the device comes back online, when the event stream is live again, and on the
 * delivery's own backoff timer.
 */
export class ComposerState {
  text = $state('');
  pending: PendingSend[] = $state([]);
  /** a send the server refused: why (its text is back in the composer) */
  rejection: string | undefined = $state();

  readonly #api: ApiClient;
  readonly #window: Window;
  readonly #onDelivered: (message: Message) => void;
  #draft: DraftStore | undefined;
  #outbox: Outbox | undefined;
  #delivery: OutboxDelivery | undefined;
  #stopListening: (() => void) | undefined;

  constructor(api: ApiClient, target: Window, onDelivered: (message: Message) => void) {
    this.#api = api;
    this.#window = target;
    this.#onDelivered = onDelivered;
  }

  get online(): boolean {
    return this.#window.navigator.onLine !== false;
  }

  start(userId: string): void {
    this.stop();
    const storage = this.#storage();
    this.#draft = new DraftStore(storage, DRAFT_KEY_PREFIX + userId);
    const outbox = new Outbox(storage, OUTBOX_KEY_PREFIX + userId);
    this.#outbox = outbox;
    this.#delivery = new OutboxDelivery({
      outbox,
      send: async (entry) =>
        (await this.#api.postMessage({ content: entry.content, clientId: entry.clientId })).message,
      isOnline: () => this.online,
      onDelivered: (_entry, message) => this.#onDelivered(message),
      onRejected: (entry, error) => this.#rejected(entry.content, error),
      onChange: () => this.#refresh(),
    });
    this.text = this.#draft.read();
    this.rejection = undefined;
    this.#refresh();

    const online = () => void this.flush();
    const offline = () => this.#refresh();
    const storageChanged = (event: StorageEvent) => {
      if (event.key === outbox.key) this.#refresh(); // another tab sent or delivered
    };
    this.#window.addEventListener('online', online);
    this.#window.addEventListener('offline', offline);
    this.#window.addEventListener('storage', storageChanged);
    this.#stopListening = () => {
      this.#window.removeEventListener('online', online);
      this.#window.removeEventListener('offline', offline);
      this.#window.removeEventListener('storage', storageChanged);
    };
    void this.flush();
  }

  stop(): void {
    this.#stopListening?.();
    this.#stopListening = undefined;
    this.#delivery?.stop();
    this.#delivery = undefined;
    this.#outbox = undefined;
    this.#draft = undefined;
    this.pending = [];
  }

  /** The person typed: keep the draft. */
  setText(text: string): void {
    this.text = text;
    this.#draft?.write(text);
  }

  /** Sends the composer's text; returns false when there is nothing to send. */
  send(): boolean {
    const content = this.text.trim();
    if (!content || !this.#outbox) return false;
    this.#outbox.add({ clientId: newClientId(), content, createdAt: new Date().toISOString() });
    this.rejection = undefined;
    this.setText('');
    this.#refresh();
    void this.flush();
    return true;
  }

  flush(): Promise<void> {
    return this.#delivery?.flush() ?? Promise.resolve();
  }

  /** The server has this message (its event arrived): it needs no further delivery. */
  accepted(clientId: string): void {
    if (this.#delivery?.isSending(clientId)) return; // its own request will remove it
    if (this.#outbox?.remove(clientId)) this.#refresh();
  }

  dismissRejection(): void {
    this.rejection = undefined;
  }

  #rejected(content: string, error: unknown): void {
    this.rejection = `Not sent: ${errorMessage(error)} Your message is back in the composer.`;
    const current = this.text.trim();
    this.setText(current && current !== content ? `${content}\n\n${this.text}` : content);
  }

  #refresh(): void {
    const outbox = this.#outbox;
    if (!outbox) return;
    this.pending = outbox.entries().map((entry) => ({
      clientId: entry.clientId,
      content: entry.content,
      createdAt: entry.createdAt,
      state: this.#delivery?.isSending(entry.clientId) ? 'sending' : 'queued',
      ...(entry.lastError ? { lastError: entry.lastError } : {}),
    }));
  }

  #storage(): StorageLike | undefined {
    try {
      return this.#window.localStorage;
    } catch {
      return undefined;
    }
  }
}
