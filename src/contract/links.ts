/**
 * Where a link from mainloop (an inbox item's `url`) may take the person, without zod: the server
 * checks it once, when the item is posted, and the web app imports it to tell the two kinds apart.
 *
 * - `app`: a path of this app, `/tasks/42`. One `/` and then neither `/` nor `\`: a browser reads
 *   `//host` and `/\host` as another host (an open redirect), and the path must resolve to this
 *   origin.
 * - `web`: an absolute `http://` or `https://` URL, without a user name or password
 *   (`https://mainloop.example.com@evil.example/` goes to evil.example).
 *
 * Neither may hold a backslash, whitespace or a control character anywhere: a URL parser treats
 * `\` as `/` and drops tabs and newlines, so `/\t/evil.example` would be `//evil.example`.
 */
export type LinkKind = 'app' | 'web';

// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const UNSAFE = /[\\\s\u0000-\u001f\u007f]/;
const ORIGIN = 'http://mainloop.invalid';

export function linkKind(value: string): LinkKind | undefined {
  if (value === '' || UNSAFE.test(value)) return undefined;
  if (value.startsWith('/') && !value.startsWith('//'))
    return parse(value, ORIGIN)?.origin === ORIGIN ? 'app' : undefined;
  const url = /^https?:\/\//i.test(value) ? parse(value) : undefined;
  return url && !url.username && !url.password ? 'web' : undefined;
}

function parse(value: string, base?: string): URL | undefined {
  try {
    return new URL(value, base);
  } catch {
    return undefined;
  }
}
