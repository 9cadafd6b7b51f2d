import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config/index.js';

/**
 * The server's logger. On a terminal its lines are for a person (`readableLines`); otherwise, or
 * with LOG_FORMAT=json, one JSON object a line, for whatever collects the logs.
 */
export function createLogger(
  config: Pick<Config, 'logLevel' | 'logFormat'>,
  out: NodeJS.WriteStream = process.stdout,
): Logger {
  const options = {
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.token'],
      censor: '[redacted]',
    },
  };
  if (!isReadable(config, out)) return pino(options);
  return pino(options, readableLines(out, { color: !!out.isTTY && !process.env.NO_COLOR }));
}

/** Whether logs go out as readable lines: LOG_FORMAT=pretty, or unset on a terminal. */
export function isReadable(config: Pick<Config, 'logFormat'>, out: NodeJS.WriteStream = process.stdout): boolean {
  return config.logFormat === 'pretty' || (config.logFormat === undefined && !!out.isTTY);
}

const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'trace', color: '90' },
  20: { name: 'debug', color: '90' },
  30: { name: 'info', color: '36' },
  40: { name: 'warn', color: '33' },
  50: { name: 'error', color: '31' },
  60: { name: 'fatal', color: '31' },
};
/** Fields every line has, shown in its own place or not at all. */
const OWN_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'err', 'reqId']);

/**
 * pino's JSON lines, written for a person: `04:08:30 info  the message  key=value …`; a request as
 * `GET /api/health 200 3 ms`; an error's message beside it, and its stack below for errors.
 */
export function readableLines(out: { write(text: string): unknown }, options: { color: boolean }): DestinationStream {
  const paint = (code: string, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const level = LEVELS[entry.level as number] ?? { name: String(entry.level), color: '0' };
      const time = new Date(typeof entry.time === 'number' ? entry.time : Date.now()).toTimeString().slice(0, 8);
      const error = entry.err as { message?: string; stack?: string } | undefined;
      const request =
        entry.msg === 'request completed' && typeof entry.method === 'string'
          ? `${entry.method} ${String(entry.path)} ${String(entry.statusCode)} ${Math.round(Number(entry.responseTime))} ms`
          : undefined;
      const fields = request
        ? ''
        : Object.entries(entry)
            .filter(([key, value]) => !OWN_FIELDS.has(key) && value !== undefined)
            .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
            .join(' ');
      const text = [
        paint('90', time),
        paint(level.color, level.name.padEnd(5)),
        request ?? String(entry.msg ?? ''),
        fields && paint('90', fields),
        error?.message && paint(level.color, `(${error.message})`),
      ]
        .filter(Boolean)
        .join(' ');
      const stack =
        (entry.level as number) >= 50 && error?.stack
          ? `\n${paint('90', error.stack.split('\n').slice(1).join('\n'))}`
          : '';
      out.write(`${text}${stack}\n`);
    },
  };
}
