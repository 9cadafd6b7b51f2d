/**
 * Characters Postgres will not store: NUL, which no `text` value may hold (error 22021) nor any
 * `jsonb` one (22P05), and lone surrogates (half of a UTF-16 pair), which have no UTF-8 encoding:
 * `jsonb` refuses them (22P02) and the driver turns them into U+FFFD in `text` without a word.
 * Every event is stored as `jsonb`, so one of them in any text that reaches an event or a row fails
 * the whole transaction.
 *
 * Input carrying them is refused with a 400 (`unstorableField`, in the HTTP app); what workers and
 * models produce has them replaced by U+FFFD (`storable`) before it is stored.
 */
// eslint-disable-next-line no-control-regex -- NUL is what it looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/** What stands in for a character Postgres refuses. */
const REPLACEMENT_CHARACTER = '\ufffd';

/**
 * `value` with every character Postgres refuses replaced by U+FFFD: a string, or the strings in
 * an array or plain object (an agent's outcome, a tool call's input), keys included.
 */
export function storable<T>(value: T): T {
  if (typeof value === 'string') {
    return (UNSTORABLE.test(value) ? value.replace(UNSTORABLE_ALL, REPLACEMENT_CHARACTER) : value) as T;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => storable(item)) as T;
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [storable(key), storable(item)])) as T;
  }
  return value;
}

/**
 * The first string in `value` (a request's body, params or query) holding a character Postgres
 * refuses: its path from `at` (`body.title`, `params.id`) and what it holds; undefined when none.
 */
export function unstorableField(value: unknown, at: string): { path: string; message: string } | undefined {
  if (typeof value === 'string') {
    const found = UNSTORABLE.exec(value)?.[0];
    if (found === undefined) return undefined;
    const what = found === '\u0000' ? 'a NUL character (\\u0000)' : 'a lone UTF-16 surrogate (not a character)';
    return { path: at, message: `contains ${what}, which cannot be stored` };
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = unstorableField(item, `${at}.${index}`);
      if (found) return found;
    }
  } else if (typeof value === 'object' && value !== null) {
    // (not only plain objects: Fastify's params and query have prototypes of their own)
    for (const [key, item] of Object.entries(value)) {
      const found = unstorableField(key, `${at}.${key}`) ?? unstorableField(item, `${at}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
