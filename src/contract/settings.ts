import { z } from 'zod';
import { DEFAULT_THEME, THEMES } from './themes.js';

export { DEFAULT_THEME, THEMES };
export const Theme = z.enum(THEMES);
export type Theme = z.infer<typeof Theme>;

/** `HH:MM` on a 24-hour clock, in the person's time zone. */
export const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time such as 22:00 (HH:MM, 24-hour)');

/** When non-urgent pushes wait (one digest when they end); may cross midnight (22:00–07:00). */
export const QuietHours = z
  .object({ start: ClockTime, end: ClockTime })
  .strict()
  .refine((hours) => hours.start !== hours.end, { message: 'start and end must differ', path: ['end'] });
export type QuietHours = z.infer<typeof QuietHours>;

/** Where pushes go besides the installed app. The webhook secret is write-only: only whether one is set shows. */
export const NotificationChannels = z.object({
  ntfyUrl: z.string().optional(),
  slackWebhookUrl: z.string().optional(),
  webhookUrl: z.string().optional(),
  webhookSecretSet: z.boolean(),
});
export type NotificationChannels = z.infer<typeof NotificationChannels>;

/** The server always sends every key; `quietHours` and `notifications` are optional for older events. */
export const Settings = z.object({
  theme: Theme,
  timeZone: z.string(),
  quietHours: QuietHours.nullable().optional(),
  notifications: NotificationChannels.optional(),
});
export type Settings = z.infer<typeof Settings>;

/** What a person who never changed anything gets. */
export const DEFAULT_SETTINGS: Required<Settings> = Object.freeze({
  theme: DEFAULT_THEME,
  timeZone: 'UTC',
  quietHours: null,
  notifications: Object.freeze({ webhookSecretSet: false }),
});

/** GET /api/settings and PATCH /api/settings */
export const SettingsResponse = z.object({ settings: Settings });
export type SettingsResponse = z.infer<typeof SettingsResponse>;

const ChannelUrl = (name: string) =>
  z
    .string()
    .trim()
    .max(2_000)
    .refine(isPlainHttpUrl, `${name} must be an http:// or https:// URL without a user name or password`)
    .nullable();

/** PATCH: each channel given is set (null clears it); those not named stay as they are. */
export const NotificationChannelsPatch = z
  .object({
    ntfyUrl: ChannelUrl('ntfyUrl'),
    slackWebhookUrl: ChannelUrl('slackWebhookUrl'),
    webhookUrl: ChannelUrl('webhookUrl'),
    /** signs the generic webhook (HMAC-SHA256); never shown again; null removes it */
    webhookSecret: z
      .string()
      .min(8, 'webhookSecret must be at least 8 characters')
      .max(1_000, 'webhookSecret must be at most 1000 characters')
      .nullable(),
  })
  .partial()
  .strict();
export type NotificationChannelsPatch = z.infer<typeof NotificationChannelsPatch>;

export const SettingsPatch = z
  .object({
    theme: Theme,
    timeZone: z.string().refine(isTimeZone, 'timeZone must be an IANA time zone such as Europe/Berlin'),
    quietHours: QuietHours.nullable(),
    notifications: NotificationChannelsPatch,
  })
  .partial()
  .strict();
export type SettingsPatch = z.infer<typeof SettingsPatch>;

export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function isPlainHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
  } catch {
    return false;
  }
}
