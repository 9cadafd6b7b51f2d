import type { ApiToken } from '../../../contract/index.js';
import { SettingsListState } from './settings-list.svelte.js';

/** The person's API tokens: list, create (the secret is shown once), revoke with confirmation. */
export class ApiTokensState extends SettingsListState<ApiToken> {
  items: ApiToken[] = $state([]);
  /** The secret of the token just created: shown once, then forgotten. */
  createdSecret: { name: string; token: string } | undefined = $state();
  protected override readonly fieldLabels = { name: 'The token’s name' };

  protected async fetch(): Promise<ApiToken[]> {
    return (await this.api.listTokens()).tokens;
  }

  /** Returns whether the token was created (so the form can clear its input). */
  async create(name: string): Promise<boolean> {
    return this.run(async () => {
      const { token, apiToken } = await this.api.createToken(name.trim());
      this.items = [...this.items, apiToken];
      this.createdSecret = { name: apiToken.name, token };
    });
  }

  dismissSecret(): void {
    this.createdSecret = undefined;
  }

  revoke(id: string): Promise<void> {
    return this.removeWith(id, (token) => this.api.revokeToken(token));
  }
}
