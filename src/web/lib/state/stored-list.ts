export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** What every held entry carries besides its own fields. */
export interface HeldEntry {
  /** when the person made it */
  createdAt: string;
  /** failed tries so far */
  attempts: number;
  /** why the last try failed, for a person */
  lastError?: string;
}

/**
 * A list of entries kept on the device under one key (per user), each once by its id: the chat
 * outbox and the inbox's action queue. Read afresh on every change so that two tabs do not
 * overwrite each other; what cannot be read (hand-edited, an older version) is skipped. When
 * storage is unavailable (private mode, quota, policy) it still works for the page's life.
 */
export class StoredList<Entry extends HeldEntry> {
  readonly #storage: StorageLike | undefined;
  readonly #key: string;
  readonly #idOf: (entry: Entry) => string;
  /** an entry's own fields from what storage held, or undefined when they are not there */
  readonly #read: (item: Record<string, unknown>) => Omit<Entry, keyof HeldEntry> | undefined;
  #memory: Entry[] = [];

  constructor(
    storage: StorageLike | undefined,
    key: string,
    idOf: (entry: Entry) => string,
    read: (item: Record<string, unknown>) => Omit<Entry, keyof HeldEntry> | undefined,
  ) {
    this.#storage = storage;
    this.#key = key;
    this.#idOf = idOf;
    this.#read = read;
  }

  get key(): string {
    return this.#key;
  }

  entries(): Entry[] {
    if (!this.#storage) return [...this.#memory];
    try {
      const raw = this.#storage.getItem(this.#key);
      return raw === null ? [...this.#memory] : this.#parse(raw);
    } catch {
      return [...this.#memory];
    }
  }

  update(id: string, patch: Partial<Entry>): void {
    const entries = this.entries();
    const entry = entries.find((held) => this.#idOf(held) === id);
    if (!entry) return;
    Object.assign(entry, patch);
    this.#write(entries);
  }

  remove(id: string): boolean {
    const entries = this.entries();
    const kept = entries.filter((held) => this.#idOf(held) !== id);
    if (kept.length === entries.length) return false;
    this.#write(kept);
    return true;
  }

  /** Adds an entry unless one with its id is already there; returns the one held and whether it was added. */
  protected hold(entry: Omit<Entry, 'createdAt' | 'attempts'> & Partial<HeldEntry>): { entry: Entry; added: boolean } {
    const entries = this.entries();
    const id = this.#idOf(entry as Entry);
    const held = entries.find((queued) => this.#idOf(queued) === id);
    if (held) return { entry: held, added: false };
    const added = { attempts: 0, createdAt: new Date().toISOString(), ...entry } as Entry;
    entries.push(added);
    this.#write(entries);
    return { entry: added, added: true };
  }

  protected write(entries: Entry[]): void {
    this.#write(entries);
  }

  #write(entries: Entry[]): void {
    this.#memory = entries;
    if (!this.#storage) return;
    try {
      if (entries.length === 0) this.#storage.removeItem(this.#key);
      else this.#storage.setItem(this.#key, JSON.stringify(entries));
    } catch {
      // storage full or refused: the in-memory copy still delivers while the page lives
    }
  }

  #parse(raw: string): Entry[] {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return [];
    }
    if (!Array.isArray(value)) return [];
    const seen = new Set<string>();
    const entries: Entry[] = [];
    for (const item of value) {
      if (typeof item !== 'object' || item === null) continue;
      const record = item as Record<string, unknown>;
      const own = this.#read(record);
      if (!own) continue;
      const { createdAt, attempts, lastError } = record;
      const entry = {
        ...own,
        createdAt: typeof createdAt === 'string' ? createdAt : new Date(0).toISOString(),
        attempts: typeof attempts === 'number' ? attempts : 0,
        ...(typeof lastError === 'string' ? { lastError } : {}),
      } as Entry;
      const id = this.#idOf(entry);
      if (seen.has(id)) continue;
      seen.add(id);
      entries.push(entry);
    }
    return entries;
  }
}
