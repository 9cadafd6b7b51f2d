import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/** A pino logger whose lines a test can read, parsed: `{level, msg, …}` (level as pino's number: 30 info, 40 warn, 50 error). */
export function captureLogs(level: pino.LevelWithSilent = 'info'): {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}
