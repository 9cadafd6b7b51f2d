import { z } from 'zod';

export const THEMES = ['eighties', 'dracula', 'nord', 'gruvbox', 'tokyo-night', 'solarized-light'] as const;
export const Theme = z.enum(THEMES);
export type Theme = z.infer<typeof Theme>;
export const DEFAULT_THEME: Theme = 'eighties';

export const Settings = z.object({
  theme: Theme,
  timeZone: z.string(),
});
export type Settings = z.infer<typeof Settings>;

/** What a person who never changed anything gets. */
export const DEFAULT_SETTINGS: Settings = Object.freeze({ theme: DEFAULT_THEME, timeZone: 'UTC' });

/** GET /api/settings and PATCH /api/settings */
export const SettingsResponse = z.object({ settings: Settings });
export type SettingsResponse = z.infer<typeof SettingsResponse>;

export const SettingsPatch = z
  .object({
    theme: Theme,
    timeZone: z.string().refine(isTimeZone, 'timeZone must be an IANA time zone such as Europe/Berlin'),
  })
  .partial()
  .strict();
export type SettingsPatch = z.infer<typeof SettingsPatch>;

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
