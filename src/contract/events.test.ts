import { describe, expect, it } from 'vitest';
import { ServerEvent, SseFrameParser } from './events.js';

describe('SseFrameParser', () => {
  it('returns each block once it is complete, however the text is split', () => {
    const text = 'retry: 2000\nid: 7\n\nid: 8\nevent: inbox.updated\ndata: {"counts":{}}\n\n: ping\n\n';
    const whole = new SseFrameParser().feed(text);
    expect(whole).toEqual([
      { retry: 2000, id: '7', comments: [] },
      { id: '8', event: 'inbox.updated', data: '{"counts":{}}', comments: [] },
      { comments: ['ping'] },
    ]);
    const parser = new SseFrameParser();
    const pieces = [...text].flatMap((char) => parser.feed(char));
    expect(pieces).toEqual(whole);
  });

  it('accepts CRLF line ends, even split between chunks, and joins data lines', () => {
    const parser = new SseFrameParser();
    expect(parser.feed('event: a\r\ndata: one\r')).toEqual([]);
    expect(parser.feed('\ndata: two\r\n\r\n')).toEqual([{ event: 'a', data: 'one\ntwo', comments: [] }]);
  });
});

describe('ServerEvent', () => {
  it('accepts a known event and refuses a payload of the wrong shape', () => {
    expect(
      ServerEvent.safeParse({ type: 'inbox.updated', data: { counts: { needsYou: 1, active: 0, failures: 0 } } })
        .success,
    ).toBe(true);
    expect(ServerEvent.safeParse({ type: 'inbox.updated', data: { counts: { needsYou: 'one' } } }).success).toBe(false);
    expect(ServerEvent.safeParse({ type: 'no.such.event', data: {} }).success).toBe(false);
  });
});
