import { describe, expect, it } from 'vitest';
import { isSameOrigin } from './credentials.js';

const self = 'http://127.0.0.1:3000';

describe('isSameOrigin', () => {
  it('trusts the browser saying Sec-Fetch-Site: same-origin', () => {
    expect(isSameOrigin({ fetchSite: 'same-origin', origin: undefined, self })).toBe(true);
  });

  it('accepts an Origin equal to where the request arrived, however the default port is spelled', () => {
    expect(isSameOrigin({ fetchSite: undefined, origin: 'http://127.0.0.1:3000', self })).toBe(true);
    expect(
      isSameOrigin({
        fetchSite: undefined,
        origin: 'https://Mainloop.example.com',
        self: 'https://mainloop.example.com:443',
      }),
    ).toBe(true);
  });

  it('accepts an Origin equal to MAINLOOP_PUBLIC_URL (a proxy in front that rewrites Host)', () => {
    expect(
      isSameOrigin(
        { fetchSite: undefined, origin: 'https://mainloop.example.com', self },
        'https://mainloop.example.com',
      ),
    ).toBe(true);
  });

  it('refuses other sites, other schemes, other ports, opaque and missing origins', () => {
    for (const origin of [
      'http://evil.example',
      'https://127.0.0.1:3000',
      'http://127.0.0.1:3001',
      'null',
      'not a url',
      undefined,
    ]) {
      expect(isSameOrigin({ fetchSite: undefined, origin, self }), String(origin)).toBe(false);
    }
    expect(isSameOrigin({ fetchSite: 'cross-site', origin: undefined, self })).toBe(false);
    expect(isSameOrigin({ fetchSite: 'same-site', origin: 'http://other.127.0.0.1.nip.io:3000', self })).toBe(false);
  });
});
