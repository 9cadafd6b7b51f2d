import { errorMessage, type ApiClient, type FieldLabels } from '../api/client.js';

/**
 * A list in Settings (API tokens, projects): loaded from the API, changed by actions that run one
 * at a time (`busy`), the last failure's message in `error` (cleared when the next action starts),
 * and a removal that waits for a yes (`confirmingId`).
 */
export abstract class SettingsListState<T extends { id: string }> {
  abstract items: T[];
  loaded = $state(false);
  busy = $state(false);
  error: string | undefined = $state();
  /** The item whose removal waits for a yes. */
  confirmingId: string | undefined = $state();

  protected readonly api: ApiClient;
  /** the form's names for the fields it sends, for what the server says is wrong with them */
  protected readonly fieldLabels: FieldLabels = {};

  constructor(api: ApiClient) {
    this.api = api;
  }

  /** The list as the API gives it. */
  protected abstract fetch(): Promise<T[]>;

  async load(): Promise<void> {
    await this.run(async () => {
      this.items = await this.fetch();
      this.loaded = true;
    });
  }

  askToRemove(id: string): void {
    this.confirmingId = id;
  }

  cancelRemoval(): void {
    this.confirmingId = undefined;
  }

  /** Removes the item through `remove` once confirmed. */
  protected async removeWith(id: string, remove: (id: string) => Promise<void>): Promise<void> {
    await this.run(async () => {
      await remove(id);
      this.items = this.items.filter((item) => item.id !== id);
      this.confirmingId = undefined;
    });
  }

  /** Runs `action`; returns whether it succeeded (a failure's message is kept in `error`). */
  protected async run(action: () => Promise<void>): Promise<boolean> {
    this.busy = true;
    this.error = undefined;
    try {
      await action();
      return true;
    } catch (error) {
      this.error = errorMessage(error, this.fieldLabels);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
