import { Writable } from 'node:stream';
import pino, { type Level, type Logger } from 'pino';

/** A pino logger whose lines a test can read, parsed: `{level, msg, …}` (level as pino's number). */
export function captureLogs(level: Level = 'info'): { logger: Logger; lines: Array<Record<string, unknown>> } {
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
