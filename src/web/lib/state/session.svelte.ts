import type { SessionInfo, User } from '../../../contract/index.js';
import type { ApiClient } from '../api/client.js';

/** Where this device remembers who was last signed in, so that the app opens offline. */
const REMEMBERED_USER_KEY = 'mainloop.session.user';

/** Who is signed in, as the server last said. `info` stays undefined until the first answer. */
export class SessionState {
  info: SessionInfo | undefined = $state();
  readonly user: User | null = $derived(this.info?.user ?? null);

  readonly #api: ApiClient;

  constructor(api: ApiClient) {
    this.#api = api;
  }

  async load(): Promise<SessionInfo> {
    const info = await this.#api.getSession();
    this.info = info;
    this.#remember(info.user);
    return info;
  }

  signedIn(user: User): void {
    this.info = { user, setupRequired: false };
    this.#remember(user);
  }

  signedOut(): void {
    this.info = { user: null, setupRequired: this.info?.setupRequired ?? false };
    this.#remember(null);
  }

  /** The user this device last saw signed in (for opening offline), if any. */
  remembered(): User | undefined {
    try {
      const value = JSON.parse(globalThis.localStorage?.getItem(REMEMBERED_USER_KEY) ?? 'null') as User | null;
      return value && typeof value.id === 'string' && typeof value.username === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }

  #remember(user: User | null): void {
    try {
      if (user) globalThis.localStorage?.setItem(REMEMBERED_USER_KEY, JSON.stringify(user));
      else globalThis.localStorage?.removeItem(REMEMBERED_USER_KEY);
    } catch {
      // storage refused: opening offline shows the splash instead
    }
  }
}
