import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/** A pino logger whose lines are kept, parsed, for assertions (`level` 30 info, 40 warn, 50 error). */
export function recordingLogger(level: pino.LevelWithSilent = 'debug'): {
  lines: Array<Record<string, unknown>>;
  logger: Logger;
} {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level }, sink) };
}
