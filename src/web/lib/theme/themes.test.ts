import { describe, expect, it } from 'vitest';
import {
  DEFAULT_THEME,
  isTheme,
  readStoredTheme,
  storeTheme,
  THEME_LABELS,
  THEME_STORAGE_KEY,
  THEMES,
} from './themes.js';

describe('themes', () => {
  it('labels every theme of the contract, eighties first and default', () => {
    expect(Object.keys(THEME_LABELS).sort()).toEqual([...THEMES].sort());
    expect(DEFAULT_THEME).toBe('eighties');
  });

  it('reads back what it stored, and falls back to the default for junk or broken storage', () => {
    const values = new Map<string, string>();
    const storage = {
      getItem: (key: string) => values.get(key) ?? null,
      setItem: (key: string, value: string) => void values.set(key, value),
    };
    expect(readStoredTheme(storage)).toBe('eighties');
    storeTheme(storage, 'nord');
    expect(values.get(THEME_STORAGE_KEY)).toBe('nord');
    expect(readStoredTheme(storage)).toBe('nord');
    values.set(THEME_STORAGE_KEY, 'comic-sans');
    expect(readStoredTheme(storage)).toBe('eighties');
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
    };
    expect(readStoredTheme(broken)).toBe('eighties');
    expect(readStoredTheme(undefined)).toBe('eighties');
    expect(isTheme('solarized-light')).toBe(true);
    expect(isTheme('')).toBe(false);
  });
});
