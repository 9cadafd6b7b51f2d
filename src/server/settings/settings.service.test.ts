import { describe, expect, it } from 'vitest';
import { withDefaults } from './settings.service.js';

describe('withDefaults', () => {
  it('gives the defaults to someone who never changed anything', () => {
    expect(withDefaults(undefined)).toEqual({ theme: 'eighties', timeZone: 'UTC' });
  });

  it('keeps what was stored', () => {
    expect(withDefaults({ theme: 'nord', timeZone: 'Europe/Berlin' })).toEqual({
      theme: 'nord',
      timeZone: 'Europe/Berlin',
    });
  });

  it('falls back per key when a stored value is no longer valid, and drops keys it does not know', () => {
    expect(withDefaults({ theme: 'a-removed-theme', timeZone: 'Asia/Tokyo', retired: true })).toEqual({
      theme: 'eighties',
      timeZone: 'Asia/Tokyo',
    });
  });
});
