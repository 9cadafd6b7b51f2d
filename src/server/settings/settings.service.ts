import { DEFAULT_SETTINGS, Settings, type SettingsPatch } from '../../contract/settings.js';
import type { Db } from '../db/database.js';
import type { EventService } from '../events/index.js';
import type { Clock } from '../lib/clock.js';
import type { SettingsRepository } from './settings.repository.js';

export interface SettingsServiceDeps {
  db: Db;
  settings: SettingsRepository;
  events: Pick<EventService, 'append'>;
  clock: Clock;
}

/** A person's preferences (theme, time zone, …): defaults until changed; every device hears of a change. */
export class SettingsService {
  constructor(private readonly deps: SettingsServiceDeps) {}

  async get(userId: string): Promise<Settings> {
    return withDefaults(await this.deps.settings.find(this.deps.db, userId));
  }

  /** Applies the patch and publishes `settings.updated` in the same transaction. An empty patch changes nothing. */
  async update(userId: string, patch: SettingsPatch): Promise<Settings> {
    if (Object.keys(patch).length === 0) return this.get(userId);
    const { db, settings, events, clock } = this.deps;
    return db.transaction().execute(async (trx) => {
      const stored = await settings.merge(trx, userId, patch, clock.now());
      const merged = withDefaults(stored);
      await events.append(trx, userId, 'settings.updated', { settings: merged });
      return merged;
    });
  }
}

/**
 * Stored values over the defaults, key by key: a stored value that is no longer valid (a
 * theme that was removed) falls back to its default instead of failing the whole read.
 */
export function withDefaults(stored: Record<string, unknown> | undefined): Settings {
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [key, schema] of Object.entries(Settings.shape)) {
    if (stored && key in stored && schema.safeParse(stored[key]).success) settings[key] = stored[key];
  }
  return settings as Settings;
}
