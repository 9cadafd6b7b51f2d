import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { isReadable, readableLines } from './logger.js';

function readableLogger() {
  const lines: string[] = [];
  const logger = pino(
    { level: 'info' },
    readableLines({ write: (text: string) => lines.push(text) }, { color: false }),
  );
  return { lines, logger };
}

describe('readable log lines', () => {
  it('writes a time, the level, the message and the other fields, not JSON', () => {
    const { lines, logger } = readableLogger();
    logger.info({ port: 5432, dataDir: '/data' }, 'embedded postgres is ready');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d info {2}embedded postgres is ready port=5432 dataDir=\/data\n$/);
  });

  it('writes a request as method, path, status and time', () => {
    const { lines, logger } = readableLogger();
    logger.info(
      { reqId: 'x', method: 'GET', path: '/api/health', statusCode: 200, responseTime: 2.6 },
      'request completed',
    );
    expect(lines[0]).toMatch(/info {2}GET \/api\/health 200 3 ms\n$/);
  });

  it('gives a warning its error’s message, and an error its stack too', () => {
    const { lines, logger } = readableLogger();
    logger.warn({ err: new Error('connection lost') }, 'reconnecting');
    logger.error({ err: new Error('disk full') }, 'could not store');
    expect(lines[0]).toMatch(/warn {2}reconnecting \(connection lost\)\n$/);
    expect(lines[1]).toMatch(/error could not store \(disk full\)\n\s+at /);
  });

  it('is chosen by LOG_FORMAT, else by whether the output is a terminal', () => {
    const terminal = { isTTY: true } as NodeJS.WriteStream;
    const pipe = { isTTY: false } as NodeJS.WriteStream;
    expect(isReadable({ logFormat: undefined }, terminal)).toBe(true);
    expect(isReadable({ logFormat: undefined }, pipe)).toBe(false);
    expect(isReadable({ logFormat: 'json' }, terminal)).toBe(false);
    expect(isReadable({ logFormat: 'pretty' }, pipe)).toBe(true);
  });
});
