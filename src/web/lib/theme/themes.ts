import { DEFAULT_THEME, THEMES, type Theme } from '../../../contract/themes.js';

export { DEFAULT_THEME, THEMES, type Theme };

/** Where the chosen theme is kept on this device; `public/theme-init.js` reads the same key before first paint. */
export const THEME_STORAGE_KEY = 'mainloop.theme';

export const THEME_LABELS: Record<Theme, string> = {
  eighties: 'Eighties (dark)',
  dracula: 'Dracula (dark)',
  nord: 'Nord (dark)',
  gruvbox: 'Gruvbox (dark)',
  'tokyo-night': 'Tokyo Night (dark)',
  'solarized-light': 'Solarized (light)',
};

export function isTheme(value: unknown): value is Theme {
  return typeof value === 'string' && (THEMES as readonly string[]).includes(value);
}

export function readStoredTheme(storage: Pick<Storage, 'getItem'> | undefined): Theme {
  try {
    const value = storage?.getItem(THEME_STORAGE_KEY);
    return isTheme(value) ? value : DEFAULT_THEME;
  } catch {
    return DEFAULT_THEME; // storage can be disabled (private mode, policies)
  }
}

export function storeTheme(storage: Pick<Storage, 'setItem'> | undefined, theme: Theme): void {
  try {
    storage?.setItem(THEME_STORAGE_KEY, theme);
  } catch {
    // not remembered on this device; the server still has it
  }
}

/** Show `theme` now: the CSS custom properties hang off `<html data-theme>`; the browser chrome follows `--ml-bg`. */
export function applyTheme(document: Document, theme: Theme): void {
  const root = document.documentElement;
  root.dataset.theme = theme;
  const background = getComputedStyle(root).getPropertyValue('--ml-bg').trim();
  const meta = document.querySelector('meta[name="theme-color"]');
  if (meta && background) meta.setAttribute('content', background);
}
