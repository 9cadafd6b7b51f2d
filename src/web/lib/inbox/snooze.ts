/**
 * When a snoozed item comes back: an hour from now, this evening (18:00, or tomorrow's if it is
 * already past), tomorrow morning (09:00), or a time the person picks. Wall-clock times are in
 * the device's time zone (or the one given), so "this evening" means 18:00 where the person is,
 * across daylight-saving changes. Plain TypeScript: Intl only, no Date-local arithmetic.
 */
import { fromWallClock, wallClock, type WallClock } from '../../../contract/wall-clock.js';

export { fromWallClock, wallClock, type WallClock };

export type SnoozePreset = 'hour' | 'evening' | 'morning';

export interface SnoozeChoice {
  preset: SnoozePreset;
  label: string;
  until: Date;
}

export const EVENING_HOUR = 18;
export const MORNING_HOUR = 9;
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export function deviceTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** The three presets, in the order the menu shows them. */
export function snoozeChoices(now: Date, timeZone: string = deviceTimeZone()): SnoozeChoice[] {
  const today = wallClock(now, timeZone);
  const tomorrow = addDays(today, 1);
  const eveningToday = fromWallClock({ ...today, hour: EVENING_HOUR, minute: 0 }, timeZone);
  const evening =
    eveningToday.getTime() > now.getTime()
      ? { label: 'This evening', until: eveningToday }
      : { label: 'Tomorrow evening', until: fromWallClock({ ...tomorrow, hour: EVENING_HOUR, minute: 0 }, timeZone) };
  return [
    { preset: 'hour', label: 'For an hour', until: new Date(now.getTime() + HOUR_MS) },
    { preset: 'evening', ...evening },
    {
      preset: 'morning',
      label: 'Tomorrow morning',
      until: fromWallClock({ ...tomorrow, hour: MORNING_HOUR, minute: 0 }, timeZone),
    },
  ];
}

/** A `<input type="datetime-local">` value ("2026-03-29T09:30") as an instant in `timeZone`; undefined when malformed. */
export function fromLocalInput(value: string, timeZone: string = deviceTimeZone()): Date | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/.exec(value.trim());
  if (!match) return undefined;
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return undefined;
  return fromWallClock({ year, month, day, hour, minute }, timeZone);
}

/** An instant as a `datetime-local` value in `timeZone` (minutes precision). */
export function toLocalInput(date: Date, timeZone: string = deviceTimeZone()): string {
  const { year, month, day, hour, minute } = wallClock(date, timeZone);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}`;
}

/** "18:00" today, "Tue 09:00" within a week, else "12 Mar 09:00": for the snoozed list and the menu. */
export function formatSnoozeTime(
  until: Date | string,
  now: Date,
  timeZone: string = deviceTimeZone(),
  locale?: string,
): string {
  const date = typeof until === 'string' ? new Date(until) : until;
  if (Number.isNaN(date.getTime())) return String(until);
  const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone });
  const a = wallClock(date, timeZone);
  const b = wallClock(now, timeZone);
  if (a.year === b.year && a.month === b.month && a.day === b.day) return time.format(date);
  const days = Math.abs(date.getTime() - now.getTime()) / DAY_MS;
  const options: Intl.DateTimeFormatOptions =
    days < 6
      ? { weekday: 'short' }
      : { day: 'numeric', month: 'short', ...(a.year !== b.year ? { year: 'numeric' } : {}) };
  return `${new Intl.DateTimeFormat(locale, { ...options, timeZone }).format(date)} ${time.format(date)}`;
}

function addDays(
  time: Pick<WallClock, 'year' | 'month' | 'day'>,
  days: number,
): Pick<WallClock, 'year' | 'month' | 'day'> {
  const date = new Date(Date.UTC(time.year, time.month - 1, time.day + days));
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}
