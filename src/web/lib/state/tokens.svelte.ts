import type { ApiToken } from '../../../contract/index.js';
import { errorMessage, type ApiClient } from '../api/client.js';

/** The person's API tokens: list, create (the secret is shown once), revoke with confirmation. */
export class ApiTokensState {
  tokens: ApiToken[] = $state([]);
  loaded = $state(false);
  busy = $state(false);
  error: string | undefined = $state();
  /** The secret of the token just created: shown once, then forgotten. */
  createdSecret: { name: string; token: string } | undefined = $state();
  /** The token whose revocation waits for a yes. */
  confirmingId: string | undefined = $state();

  readonly #api: ApiClient;

  constructor(api: ApiClient) {
    this.#api = api;
  }

  async load(): Promise<void> {
    await this.#run(async () => {
      this.tokens = (await this.#api.listTokens()).tokens;
      this.loaded = true;
    });
  }

  /** Returns whether the token was created (so the form can clear its input). */
  async create(name: string): Promise<boolean> {
    return this.#run(async () => {
      const { token, apiToken } = await this.#api.createToken(name.trim());
      this.tokens = [...this.tokens, apiToken];
      this.createdSecret = { name: apiToken.name, token };
    });
  }

  dismissSecret(): void {
    this.createdSecret = undefined;
  }

  askRevoke(id: string): void {
    this.confirmingId = id;
  }

  cancelRevoke(): void {
    this.confirmingId = undefined;
  }

  async revoke(id: string): Promise<void> {
    await this.#run(async () => {
      await this.#api.revokeToken(id);
      this.tokens = this.tokens.filter((token) => token.id !== id);
      this.confirmingId = undefined;
    });
  }

  async #run(action: () => Promise<void>): Promise<boolean> {
    this.busy = true;
    this.error = undefined;
    try {
      await action();
      return true;
    } catch (error) {
      this.error = errorMessage(error);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
