import type { SessionInfo, User } from '../../../contract/index.js';
import type { ApiClient } from '../api/client.js';

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
    return info;
  }

  signedIn(user: User): void {
    this.info = { user, setupRequired: false };
  }

  signedOut(): void {
    this.info = { user: null, setupRequired: this.info?.setupRequired ?? false };
  }
}
