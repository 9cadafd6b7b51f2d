import {
  LogController,
  type FastifyBaseLogger,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import type { Bindings, ChildLoggerOptions, Level } from 'pino';

/**
 * One log line per request, when it has been answered (Fastify's default writes two: one on
 * arrival, one on completion, each with the whole request or reply serialised), with the
 * request id as `reqId`. Its fields are few and fixed, none of them a secret: the path is logged
 * without its query string, which can carry one (the set-up link's token). So this line skips
 * the logger's redaction, which would cost more than the rest of the line. A request that
 * failed while its answer was being sent, and every other line Fastify writes about a request
 * (stream errors, serializer failures), go through the request's own logger, redacted, with the
 * request id.
 */
export class RequestLog extends LogController {
  private readonly lines: FastifyBaseLogger;

  constructor(logger: FastifyBaseLogger) {
    super();
    this.lines = logger.child({}, { redact: { paths: [] } });
  }

  private quiet = false;

  /** Runs `action` (an in-process request, before the server listens) without logging its requests. */
  async quietly<T>(action: () => Promise<T>): Promise<T> {
    this.quiet = true;
    try {
      return await action();
    } finally {
      this.quiet = false;
    }
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.quiet && !error) return;
    const query = request.url.indexOf('?');
    const path = query === -1 ? request.url : request.url.slice(0, query);
    const fields = { method: request.method, path, statusCode: reply.statusCode, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...fields, err: error }, 'request errored');
    else this.lines.info({ reqId: request.id, ...fields }, 'request completed');
  }
}

/**
 * `request.log`, the logger child with the request id, made when something first logs through
 * it: most requests never do (their one line is RequestLog's), and making a pino child for each
 * costs every request a few microseconds.
 */
export const lazyChildLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, options) =>
  new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;

type LogMethod = (...args: unknown[]) => void;

class LazyChildLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  fatal(...args: unknown[]): void {
    this.log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.log('error', args);
  }
  warn(...args: unknown[]): void {
    this.log('warn', args);
  }
  info(...args: unknown[]): void {
    this.log('info', args);
  }
  debug(...args: unknown[]): void {
    this.log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.log('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }

  private log(level: Level, args: unknown[]): void {
    (this.logger[level] as LogMethod).apply(this.logger, args);
  }
}
