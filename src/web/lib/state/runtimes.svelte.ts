import type { ApiClient } from '../api/client.js';
import { runtimeChoices, type RuntimeChoice, type RuntimeInfo } from '../tasks/task-form.js';

/**
 * Which agent runtimes can run on this server (`GET /api/providers`), for every runtime picker.
 * Asked again each time a form opens: a CLI may have been installed or signed in meanwhile.
 */
export class RuntimesState {
  /** undefined until the server has said (every runtime is offered meanwhile) */
  described: RuntimeInfo[] | undefined = $state.raw();
  readonly choices: RuntimeChoice[] = $derived(runtimeChoices(this.described));

  readonly #api: ApiClient;
  #loading: Promise<void> | undefined;

  constructor(api: ApiClient) {
    this.#api = api;
  }

  /** Asks the server (once at a time). */
  load(): Promise<void> {
    this.#loading ??= this.#api
      .getProviders()
      .then(
        (response) => void (this.described = response.runtimes),
        () => {}, // unknown for now: the picker offers every runtime until the server can say
      )
      .finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  /** Asks the server unless it has said already. */
  async ensure(): Promise<void> {
    if (this.described === undefined) await this.load();
  }
}
