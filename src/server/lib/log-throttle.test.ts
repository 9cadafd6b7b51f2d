import { describe, expect, it } from 'vitest';
import { LogThrottle, messageKind } from './log-throttle.js';

class FakeClock {
  constructor(public ms = 0) {}
  now(): Date {
    return new Date(this.ms);
  }
}

function recordingLogger() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) =>
    lines.push({ level, fields, message });
  return { lines, logger: { debug: at('debug'), warn: at('warn'), error: at('error') } };
}

describe('LogThrottle', () => {
  it('lets one line of a kind through per window, then tells how many it held back', () => {
    const clock = new FakeClock();
    const throttle = new LogThrottle(60_000, clock);
    const { lines, logger } = recordingLogger();
    for (let second = 0; second < 150; second++) {
      clock.ms = second * 1000;
      throttle.log(logger, 'warn', 'poll', { second }, 'could not poll');
    }
    const told = lines.filter((line) => line.level === 'warn');
    expect(told.map((line) => line.fields)).toEqual([
      { second: 0 },
      { second: 60, repeated: 59 },
      { second: 120, repeated: 59 },
    ]);
    // What was held back is still there at debug level.
    expect(lines.filter((line) => line.level === 'debug')).toHaveLength(147);
  });

  it('counts each kind on its own', () => {
    const throttle = new LogThrottle(60_000, new FakeClock());
    expect(throttle.admit('a')).toBe(0);
    expect(throttle.admit('b')).toBe(0);
    expect(throttle.admit('a')).toBeUndefined();
  });
});

describe('messageKind', () => {
  it('is what a message says before the error it quotes, without numbers', () => {
    expect(messageKind('Error listing queues: connect ECONNREFUSED 127.0.0.1:41234')).toBe(
      messageKind('Error listing queues: the database system is starting up'),
    );
    expect(messageKind('Retrying in 1.52s (attempt 3)')).toBe(messageKind('Retrying in 0.7s (attempt 4)'));
    expect(messageKind('Error listing queues: x')).not.toBe(messageKind('Error listing schedules: x'));
    expect(messageKind('Error: connect ECONNREFUSED')).not.toBe(messageKind('Error: duplicate key'));
  });
});
