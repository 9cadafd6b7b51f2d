import type { NotificationChannelsPatch, QuietHours, Settings } from '../../../contract/settings.js';
import { ApiRequestError, errorMessage, type ApiClient } from '../api/client.js';
import type { FieldLabels } from '../api/validation.js';
import {
  browserPushEnvironment,
  currentSubscription,
  disablePush,
  enablePush,
  pushSupport,
  type PushEnvironment,
  type PushSupport,
} from './push-device.js';

/** The form's names for what it sends (Settings → Notifications), for the server's validation errors. */
const FIELD_LABELS: FieldLabels = {
  'notifications.ntfyUrl': 'ntfy topic URL',
  'notifications.slackWebhookUrl': 'Slack incoming webhook',
  'notifications.webhookUrl': 'Webhook URL',
  'notifications.webhookSecret': 'Webhook secret',
  'quietHours.start': 'From',
  'quietHours.end': 'Until',
};

/**
 * The Notifications section: Web Push on this device, the outbound channels (ntfy, Slack, a
 * signed webhook; its secret write-only) and quiet hours. Saved values go back to the shared
 * settings state through `onSaved`, so every part of the app sees them.
 */
export class NotificationsState {
  support: PushSupport = $state('unsupported');
  /** whether this device has a push subscription */
  enabled = $state(false);
  busy = $state(false);
  deviceError: string | undefined = $state();

  ntfyUrl = $state('');
  slackWebhookUrl = $state('');
  webhookUrl = $state('');
  /** typed here only to be saved; never read back from the server */
  webhookSecret = $state('');
  webhookSecretSet = $state(false);
  quietEnabled = $state(false);
  quietStart = $state('22:00');
  quietEnd = $state('07:00');
  saving = $state(false);
  saveError: string | undefined = $state();
  /** the settings could not be read (offline, say): `load()` again when back online */
  loadFailed = $state(false);
  saved = $state(false);

  readonly #api: ApiClient;
  readonly #environment: PushEnvironment;
  readonly #onSaved: (settings: Settings) => void;
  /** the form's values as the server's settings last filled it (see follow) */
  #received: string;

  constructor(api: ApiClient, options: { environment?: PushEnvironment; onSaved?: (settings: Settings) => void } = {}) {
    this.#api = api;
    this.#environment = options.environment ?? browserPushEnvironment(window);
    this.#onSaved = options.onSaved ?? (() => {});
    this.support = pushSupport(this.#environment);
    this.#received = this.#formValues();
  }

  async load(): Promise<void> {
    try {
      const [{ settings }, subscription] = await Promise.all([
        this.#api.getSettings(),
        currentSubscription(this.#environment).catch(() => null),
      ]);
      this.follow(settings); // what the person typed meanwhile stays
      this.enabled = !!subscription;
      this.loadFailed = false;
      this.saveError = undefined;
    } catch (error) {
      this.loadFailed = true;
      this.saveError = errorMessage(error);
    }
  }

  async enable(): Promise<void> {
    await this.#device(async () => {
      await enablePush(this.#api, this.#environment);
      this.enabled = true;
    });
  }

  async disable(): Promise<void> {
    await this.#device(async () => {
      await disablePush(this.#api, this.#environment);
      this.enabled = false;
    });
  }

  /** Saves the channels and quiet hours; an empty field clears its channel; the secret only when typed. */
  async save(): Promise<void> {
    this.saving = true;
    this.saveError = undefined;
    this.saved = false;
    const notifications: NotificationChannelsPatch = {
      ntfyUrl: this.ntfyUrl.trim() || null,
      slackWebhookUrl: this.slackWebhookUrl.trim() || null,
      webhookUrl: this.webhookUrl.trim() || null,
      ...(this.webhookSecret ? { webhookSecret: this.webhookSecret } : {}),
    };
    const quietHours: QuietHours | null = this.quietEnabled ? { start: this.quietStart, end: this.quietEnd } : null;
    try {
      const { settings } = await this.#api.updateSettings({ notifications, quietHours });
      this.webhookSecret = '';
      this.#receive(settings);
      this.#onSaved(settings);
      this.saved = true;
    } catch (error) {
      this.saveError = errorMessage(error, FIELD_LABELS);
    } finally {
      this.saving = false;
    }
  }

  async removeWebhookSecret(): Promise<void> {
    this.saveError = undefined;
    try {
      const { settings } = await this.#api.updateSettings({ notifications: { webhookSecret: null } });
      this.#receive(settings);
      this.#onSaved(settings);
    } catch (error) {
      this.saveError = errorMessage(error, FIELD_LABELS);
    }
  }

  /**
   * The server's settings as read, or as changed elsewhere (another device, another tab): shown
   * at once unless the form has edits of this device's that are not saved yet, which are kept.
   */
  follow(settings: Settings): void {
    if (this.saving || this.#formValues() !== this.#received) {
      this.webhookSecretSet = settings.notifications?.webhookSecretSet ?? false; // not a field of the form
      return;
    }
    this.#receive(settings);
  }

  /** What the form holds, to tell whether the person changed it since the server's values were put in. */
  #formValues(): string {
    return JSON.stringify([
      this.ntfyUrl,
      this.slackWebhookUrl,
      this.webhookUrl,
      this.webhookSecret,
      this.quietEnabled,
      this.quietStart,
      this.quietEnd,
    ]);
  }

  #receive(settings: Settings): void {
    const channels = settings.notifications;
    this.ntfyUrl = channels?.ntfyUrl ?? '';
    this.slackWebhookUrl = channels?.slackWebhookUrl ?? '';
    this.webhookUrl = channels?.webhookUrl ?? '';
    this.webhookSecretSet = channels?.webhookSecretSet ?? false;
    this.quietEnabled = !!settings.quietHours;
    if (settings.quietHours) {
      this.quietStart = settings.quietHours.start;
      this.quietEnd = settings.quietHours.end;
    }
    this.#received = this.#formValues();
  }

  async #device(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.deviceError = undefined;
    try {
      await action();
    } catch (error) {
      // The browser's own refusals (no permission, no push support) say what to do; show them.
      this.deviceError =
        error instanceof Error && !(error instanceof ApiRequestError) && error.message
          ? error.message
          : errorMessage(error);
    } finally {
      this.busy = false;
      this.support = pushSupport(this.#environment);
      // Blocked in the browser's settings: the section says so in place of the button, once.
      if (this.support === 'denied') this.deviceError = undefined;
    }
  }
}
