/** The themes, without zod (the web app imports them; see sse.ts). `settings.ts` makes them a schema. */
export const THEMES = ['eighties', 'dracula', 'nord', 'gruvbox', 'tokyo-night', 'solarized-light'] as const;
export type Theme = (typeof THEMES)[number];
export const DEFAULT_THEME: Theme = 'eighties';
