import { describe, expect, it } from 'vitest';
import { storable, unstorableField } from './storable-text.js';

describe('storable', () => {
  it('replaces NUL and lone surrogates, and keeps whole surrogate pairs', () => {
    expect(storable('a\u0000b\u0000')).toBe('a\ufffdb\ufffd');
    expect(storable('lone \ud800 high, lone \udc00 low, pair 😀')).toBe('lone \ufffd high, lone \ufffd low, pair 😀');
    expect(storable('\udc00\ud800')).toBe('\ufffd\ufffd');
  });

  it('reaches the strings in arrays and plain objects, keys included, and leaves other values alone', () => {
    const at = new Date(0);
    expect(
      storable({ kind: 'question', questions: [{ text: 'a\u0000', options: [{ label: '\ud800' }] }], at, n: 1 }),
    ).toEqual({ kind: 'question', questions: [{ text: 'a\ufffd', options: [{ label: '\ufffd' }] }], at, n: 1 });
    expect(storable({ 'k\u0000': null })).toEqual({ 'k\ufffd': null });
  });

  it('gives back the very same string when there is nothing to replace', () => {
    const text = 'plain text 😀';
    expect(storable(text)).toBe(text);
  });
});

describe('unstorableField', () => {
  it('names the first field holding a character Postgres refuses', () => {
    expect(unstorableField({ title: 'ok', nested: { list: ['fine', 'a\u0000b'] } }, 'body')).toEqual({
      path: 'body.nested.list.1',
      message: 'contains a NUL character (\\u0000), which cannot be stored',
    });
    expect(unstorableField({ name: 'half \ud83d' }, 'body')?.path).toBe('body.name');
    expect(unstorableField({ 'bad\u0000key': 1 }, 'querystring')?.path).toBe('querystring.bad\u0000key');
    expect(unstorableField({ title: 'fine 😀', count: 3, none: null }, 'body')).toBeUndefined();
  });
});
