import { describe, expect, it } from 'vitest';
import { formatSnoozeTime, fromLocalInput, fromWallClock, snoozeChoices, toLocalInput } from './snooze.js';

const until = (now: string, timeZone: string) =>
  Object.fromEntries(
    snoozeChoices(new Date(now), timeZone).map((choice) => [choice.preset, choice.until.toISOString()]),
  );

describe('snooze presets', () => {
  it('an hour from now, this evening at 18:00 and tomorrow at 09:00, in the given time zone', () => {
    // 10:42 in Berlin (UTC+1 in winter)
    expect(until('2026-01-15T09:42:00Z', 'Europe/Berlin')).toEqual({
      hour: '2026-01-15T10:42:00.000Z',
      evening: '2026-01-15T17:00:00.000Z',
      morning: '2026-01-16T08:00:00.000Z',
    });
    // the same instant in New York is 04:42 (UTC−5)
    expect(until('2026-01-15T09:42:00Z', 'America/New_York')).toEqual({
      hour: '2026-01-15T10:42:00.000Z',
      evening: '2026-01-15T23:00:00.000Z',
      morning: '2026-01-16T14:00:00.000Z',
    });
  });

  it('after 18:00 "this evening" becomes tomorrow evening', () => {
    const choices = snoozeChoices(new Date('2026-01-15T18:30:00Z'), 'UTC');
    const evening = choices.find((choice) => choice.preset === 'evening')!;
    expect(evening.label).toBe('Tomorrow evening');
    expect(evening.until.toISOString()).toBe('2026-01-16T18:00:00.000Z');
    // exactly 18:00 is past too: snoozing to now would be refused
    expect(until('2026-01-15T18:00:00Z', 'UTC').evening).toBe('2026-01-16T18:00:00.000Z');
    expect(snoozeChoices(new Date('2026-01-15T17:59:00Z'), 'UTC')[1]!.label).toBe('This evening');
  });

  it('"tomorrow" is the next day where the person is, not in UTC', () => {
    // 23:30 on the 15th in UTC is already the 16th, 08:30, in Tokyo: tomorrow morning is the 17th there
    expect(until('2026-01-15T23:30:00Z', 'Asia/Tokyo')).toMatchObject({
      evening: '2026-01-16T09:00:00.000Z', // 18:00 on the 16th in Tokyo
      morning: '2026-01-17T00:00:00.000Z', // 09:00 on the 17th in Tokyo
    });
    // the end of a month and of a year
    expect(until('2026-12-31T20:00:00Z', 'UTC').morning).toBe('2027-01-01T09:00:00.000Z');
  });

  it('keeps wall-clock times across a daylight-saving change', () => {
    // Berlin moves to summer time on 2026-03-29 at 02:00: tomorrow morning is 09:00 CEST (UTC+2)
    expect(until('2026-03-28T20:00:00Z', 'Europe/Berlin').morning).toBe('2026-03-29T07:00:00.000Z');
    // and back on 2026-10-25: 09:00 CET (UTC+1)
    expect(until('2026-10-24T20:00:00Z', 'Europe/Berlin').morning).toBe('2026-10-25T08:00:00.000Z');
    // an hour is an hour, whatever the clocks do
    expect(until('2026-03-29T00:30:00Z', 'Europe/Berlin').hour).toBe('2026-03-29T01:30:00.000Z');
  });

  it('a time in a daylight-saving gap lands just after the change; one in an overlap is the earlier', () => {
    expect(fromWallClock({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, 'Europe/Berlin').toISOString()).toBe(
      '2026-03-29T01:30:00.000Z', // 03:30 CEST
    );
    expect(fromWallClock({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, 'Europe/Berlin').toISOString()).toBe(
      '2026-10-25T00:30:00.000Z', // the first 02:30 (CEST)
    );
  });
});

describe('a chosen time (datetime-local)', () => {
  it('reads the input in the time zone and writes it back', () => {
    expect(fromLocalInput('2026-07-01T09:30', 'Europe/Berlin')?.toISOString()).toBe('2026-07-01T07:30:00.000Z');
    expect(fromLocalInput('2026-07-01T09:30:15', 'UTC')?.toISOString()).toBe('2026-07-01T09:30:00.000Z');
    expect(toLocalInput(new Date('2026-07-01T07:30:00Z'), 'Europe/Berlin')).toBe('2026-07-01T09:30');
    expect(toLocalInput(new Date('2026-01-05T23:05:00Z'), 'Asia/Kolkata')).toBe('2026-01-06T04:35');
  });

  it('refuses what is not a time', () => {
    for (const value of ['', 'tomorrow', '2026-13-01T09:00', '2026-01-01T25:00', '2026-01-01 09:00']) {
      expect(fromLocalInput(value, 'UTC')).toBeUndefined();
    }
  });
});

describe('formatSnoozeTime', () => {
  const now = new Date('2026-01-15T09:42:00Z'); // a Thursday
  it('says the time today, the weekday this week, the date beyond', () => {
    expect(formatSnoozeTime('2026-01-15T17:00:00Z', now, 'Europe/Berlin', 'en-GB')).toBe('18:00');
    expect(formatSnoozeTime('2026-01-16T08:00:00Z', now, 'Europe/Berlin', 'en-GB')).toBe('Fri 09:00');
    expect(formatSnoozeTime('2026-02-20T08:00:00Z', now, 'Europe/Berlin', 'en-GB')).toBe('20 Feb 09:00');
  });
});
