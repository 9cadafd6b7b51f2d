import type { StorageLike } from '../state/outbox.js';

/** The composer's text, kept on this device per user, so that a reload or a tab switch loses nothing. */
export class DraftStore {
  readonly #storage: StorageLike | undefined;
  readonly #key: string;

  constructor(storage: StorageLike | undefined, key: string) {
    this.#storage = storage;
    this.#key = key;
  }

  read(): string {
    try {
      return this.#storage?.getItem(this.#key) ?? '';
    } catch {
      return '';
    }
  }

  write(text: string): void {
    try {
      if (text.trim() === '') this.#storage?.removeItem(this.#key);
      else this.#storage?.setItem(this.#key, text);
    } catch {
      // not kept on this device; the text is still in the composer
    }
  }
}
