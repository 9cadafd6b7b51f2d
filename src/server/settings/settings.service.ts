import {
  DEFAULT_SETTINGS,
  NotificationChannels,
  QuietHours,
  Settings,
  type SettingsPatch,
} from '../../contract/settings.js';
import type { Db } from '../db/database.js';
import type { EventService } from '../events/index.js';
import type { Clock } from '../lib/clock.js';
import type { SettingsRepository } from './settings.repository.js';

/**
 * How long a user's settings are answered from memory. A change through this instance replaces
 * them at once; a change through another instance on the same database shows here within this.
 */
export const SETTINGS_CACHE_MS = 1_000;
const CACHE_LIMIT = 10_000;

export interface SettingsServiceDeps {
  db: Db;
  settings: SettingsRepository;
  events: Pick<EventService, 'append'>;
  clock: Clock;
}

/** A person's preferences (theme, time zone, …): defaults until changed; every device hears of a change. */
export class SettingsService {
  /** Per user, the read under way or done; requests that arrive together share one read. */
  private readonly cache = new Map<string, { settings: Promise<Settings>; until: number }>();

  constructor(private readonly deps: SettingsServiceDeps) {}

  get(userId: string): Promise<Settings> {
    const now = this.deps.clock.now().getTime();
    const cached = this.cache.get(userId);
    if (cached && cached.until > now) return cached.settings;
    const entry = { settings: this.read(userId), until: now + SETTINGS_CACHE_MS };
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(userId, entry);
    entry.settings.catch(() => {
      if (this.cache.get(userId) === entry) this.cache.delete(userId);
    });
    return entry.settings;
  }

  /** Applies the patch and publishes `settings.updated` in the same transaction. An empty patch changes nothing. */
  async update(userId: string, patch: SettingsPatch): Promise<Settings> {
    if (Object.keys(patch).length === 0) return this.get(userId);
    const { db, settings, events, clock } = this.deps;
    try {
      return await db.transaction().execute(async (trx) => {
        const stored = await settings.merge(trx, userId, patch, clock.now());
        const merged = withDefaults(stored);
        await events.append(trx, userId, 'settings.updated', { settings: merged });
        return merged;
      });
    } finally {
      // After the commit (or the failure), so that a read begun before it is not kept.
      this.cache.delete(userId);
    }
  }

  /**
   * What the push dispatcher needs: the time zone, the quiet hours and the outbound channels with
   * the webhook secret (which no route ever returns). Read fresh, not from the cache.
   */
  async notificationPreferences(userId: string): Promise<NotificationPreferences> {
    const stored = await this.deps.settings.find(this.deps.db, userId);
    const settings = withDefaults(stored);
    const channels = storedChannels(stored);
    return {
      timeZone: settings.timeZone,
      quietHours: settings.quietHours,
      channels: {
        ...(channels.ntfyUrl ? { ntfyUrl: channels.ntfyUrl } : {}),
        ...(channels.slackWebhookUrl ? { slackWebhookUrl: channels.slackWebhookUrl } : {}),
        ...(channels.webhookUrl ? { webhookUrl: channels.webhookUrl } : {}),
        ...(channels.webhookSecret ? { webhookSecret: channels.webhookSecret } : {}),
      },
    };
  }

  private async read(userId: string): Promise<Settings> {
    return Object.freeze(withDefaults(await this.deps.settings.find(this.deps.db, userId)));
  }
}

/**
 * Stored values over the defaults, key by key: a stored value that is no longer valid (a
 * theme that was removed) falls back to its default instead of failing the whole read.
 */
export function withDefaults(stored: Record<string, unknown> | undefined): Required<Settings> {
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [key, schema] of Object.entries(Settings.shape)) {
    if (key === 'notifications') continue;
    if (stored && key in stored && schema.safeParse(stored[key]).success) settings[key] = stored[key];
  }
  settings.notifications = publicChannels(storedChannels(stored));
  return settings as Required<Settings>;
}

/** The channels with their secret, as the dispatcher uses them. */
export interface NotificationPreferences {
  timeZone: string;
  quietHours: QuietHours | null;
  channels: { ntfyUrl?: string; slackWebhookUrl?: string; webhookUrl?: string; webhookSecret?: string };
}

type StoredChannels = NotificationPreferences['channels'];

/** `notifications` as stored: the URLs and the webhook secret (anything else, or not a string, is ignored). */
function storedChannels(stored: Record<string, unknown> | undefined): StoredChannels {
  const value = stored?.notifications;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const channels: StoredChannels = {};
  for (const key of ['ntfyUrl', 'slackWebhookUrl', 'webhookUrl', 'webhookSecret'] as const) {
    const entry = (value as Record<string, unknown>)[key];
    if (typeof entry === 'string' && entry) channels[key] = entry;
  }
  return channels;
}

/** What GET /api/settings (and settings.updated) show: never the secret, only whether one is set. */
function publicChannels(channels: StoredChannels): NotificationChannels {
  return {
    ...(channels.ntfyUrl ? { ntfyUrl: channels.ntfyUrl } : {}),
    ...(channels.slackWebhookUrl ? { slackWebhookUrl: channels.slackWebhookUrl } : {}),
    ...(channels.webhookUrl ? { webhookUrl: channels.webhookUrl } : {}),
    webhookSecretSet: !!channels.webhookSecret,
  };
}
