import type { Settings } from '../../../contract/index.js';
import type { ApiClient } from '../api/client.js';
import { applyTheme, readStoredTheme, storeTheme, type Theme } from '../theme/themes.js';

/**
 * The person's settings. The theme shows at once and is remembered on this device
 * (so the next load paints in it) and on the server (so every device follows; the
 * server's value wins at sign-in and when another device changes it).
 */
export class SettingsState {
  theme: Theme = $state('eighties');
  /** Set when saving to the server failed; the theme still applies on this device. */
  saveError: string | undefined = $state();
  /** The server's settings as last heard (at sign-in, a save here, or a change on another device). */
  current: Settings | undefined = $state.raw();

  /** the person's time zone, as the server knows it */
  get timeZone(): string | undefined {
    return this.current?.timeZone;
  }

  readonly #api: ApiClient;
  readonly #window: Window;

  constructor(api: ApiClient, target: Window) {
    this.#api = api;
    this.#window = target;
    this.theme = readStoredTheme(this.#storage());
    applyTheme(target.document, this.theme);
  }

  /** Take the server's settings (at sign-in, or from a `settings.updated` event). */
  receive(settings: Settings): void {
    this.current = settings;
    this.#show(settings.theme);
  }

  async load(): Promise<void> {
    const { settings } = await this.#api.getSettings();
    this.receive(settings);
  }

  /** The person picked a theme on this device. */
  async chooseTheme(theme: Theme): Promise<void> {
    this.#show(theme);
    this.saveError = undefined;
    try {
      const { settings } = await this.#api.updateSettings({ theme });
      this.current = settings;
    } catch {
      this.saveError = 'Could not save the theme to your account; it applies on this device only for now.';
    }
  }

  #show(theme: Theme): void {
    this.theme = theme;
    storeTheme(this.#storage(), theme);
    applyTheme(this.#window.document, theme);
  }

  #storage(): Storage | undefined {
    try {
      return this.#window.localStorage;
    } catch {
      return undefined;
    }
  }
}
