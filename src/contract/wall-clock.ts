/**
 * Wall-clock time in an IANA time zone, shared by the server (quiet hours) and the web app
 * (snooze presets): what a clock in the zone shows at an instant, and the instant at which it
 * shows a given time. DST-safe through Intl; no dependencies.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** What a clock on the wall in `timeZone` shows at `date`. */
export function wallClock(date: Date, timeZone: string): WallClock & { second: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(date)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour! % 24,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/**
 * The instant at which a clock in `timeZone` shows `time`. In a daylight-saving gap (a time that
 * does not exist) it is the same time after the clocks moved; in an overlap, the earlier one.
 */
export function fromWallClock(time: WallClock, timeZone: string): Date {
  const asUtc = Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute);
  // The offsets a day either side; with at most one change between them, one of them is right.
  const before = asUtc - offsetAt(new Date(asUtc - DAY_MS), timeZone);
  const after = asUtc - offsetAt(new Date(asUtc + DAY_MS), timeZone);
  const shows = (instant: number) => {
    const shown = wallClock(new Date(instant), timeZone);
    return shown.day === time.day && shown.hour === time.hour && shown.minute === time.minute;
  };
  const valid = [before, after].filter(shows);
  if (valid.length) return new Date(Math.min(...valid));
  return new Date(before); // a gap: the offset before the change lands just after it
}

/** How far `timeZone` is ahead of UTC at `date`, in milliseconds. */
function offsetAt(date: Date, timeZone: string): number {
  const { year, month, day, hour, minute, second } = wallClock(date, timeZone);
  const wholeSeconds = Math.floor(date.getTime() / 1000) * 1000;
  return Date.UTC(year, month - 1, day, hour, minute, second) - wholeSeconds;
}
